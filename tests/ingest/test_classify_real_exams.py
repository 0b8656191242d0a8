"""Series recognition on the header values real scanners write (issue 9).

Each row is (vendor, what it is, headers, expected class). The values were read from public
sources named in the comment of each block; "(inferred)" marks a value assembled from a vendor's
documented habits rather than read from one file. The Siemens rows marked ProstateX are the
exact values of ../shared/realdata/pelvis_dicom (TCIA PROSTATEx).
"""

from __future__ import annotations

import pytest

from bme_mri.ingest import classify_stack
from bme_mri.types import SequenceClass as C

SIEMENS = "SIEMENS"
GE = "GE MEDICAL SYSTEMS"
PHILIPS = "Philips Medical Systems"
CANON = "TOSHIBA"

ROWS = [
    # --- Siemens: ProstateX (realdata/pelvis_dicom), dcm_qa_xa30 / dcm_qa_xa60 sidecars,
    # pydicom's examples_overlay.dcm (MPR), neurocontainers musclemap docs (Dixon).
    ("siemens", "acquired multi-b diffusion (ProstateX)", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW", "DIS2D"],
        "ScanningSequence": "EP", "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": ["PFP", "FS"],
        "SequenceName": "*ep_b50t", "SeriesDescription": "ep2d_diff_tra_DYNDIST", "EchoTime": 63,
        "RepetitionTime": 2700, "SiemensDiffusionBValue": "50"}, C.DWI),
    ("siemens", "ADC map (ProstateX)", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "ADC", "DIS2D"],
        "ScanningSequence": "EP", "ScanOptions": ["PFP", "FS"], "SequenceName": "*ep_b50_800",
        "SeriesDescription": "ep2d_diff_tra_DYNDIST_ADC", "EchoTime": 63, "RepetitionTime": 2700,
        "SiemensDiffusionBValue": "800"}, C.ADC),
    ("siemens", "calculated b-value (ProstateX)", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW", "DIS2D"],
        "ScanningSequence": "EP", "ScanOptions": ["PFP", "FS"], "SequenceName": "*ep_b50_800",
        "SeriesDescription": "ep2d_diff_tra_DYNDISTCALC_BVAL", "EchoTime": 63, "RepetitionTime": 2700,
        "SiemensDiffusionBValue": "1000"}, C.DWI),
    ("siemens", "calculated b-value, CALC_BVALUE token", {
        "Manufacturer": SIEMENS,
        "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "CALC_BVALUE", "TRACEW", "DIS2D", "DFC"],
        "SeriesDescription": "diffusie-3Scan-4bval_fsCALC_BVAL"}, C.DWI),
    ("siemens", "FA map", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "FA", "ND", "NORM"],
        "ScanningSequence": "EP", "SeriesDescription": "ep2d_diff_FA"}, C.ADC),
    ("siemens", "acquired diffusion, XA30 (no * in the sequence name)", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"],
        "ScanningSequence": "EP", "SequenceVariant": ["SK", "SS"], "ScanOptions": ["PFP", "FS"],
        "SequenceName": "epse2d1_72", "SeriesDescription": "DWI_dir80_PA"}, C.DWI),
    ("siemens", "T2 TSE (ProstateX), not fat-sat", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D"],
        "ScanningSequence": "SE", "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": "",
        "SequenceName": "*tse2d1_25", "SeriesDescription": "t2_tse_cor", "EchoTime": 101,
        "RepetitionTime": 4320}, C.T2),
    ("siemens", "PD reference of the diffusion (ProstateX), never a T1 partner", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "DIS2D"],
        "ScanningSequence": "GR", "ScanOptions": "PFP", "SequenceName": "*tfl3d1_16",
        "SeriesDescription": "tfl_3d PD ref_tra_1.5x1.5_t3", "EchoTime": 1.53, "RepetitionTime": 800}, C.PD),
    ("siemens", "localizer (ProstateX)", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D"],
        "ScanningSequence": "SE", "SequenceName": "*h2d1_205", "SeriesDescription": "t2_localizer",
        "EchoTime": 92, "RepetitionTime": 1800}, C.LOCALIZER),
    ("siemens", "TWIST dynamic phase (inferred)", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND", "NORM"],
        "ScanningSequence": "GR", "SequenceName": "*tfl3d1", "SeriesDescription": "t1_twist_tra_dyn",
        "TemporalPositionIdentifier": 7, "EchoTime": 1.6, "RepetitionTime": 4.2}, C.DCE),
    ("siemens", "dynamic by name only", {
        "Manufacturer": SIEMENS, "ScanningSequence": "GR", "SequenceName": "*tfl3d1",
        "SeriesDescription": "tfl_3d dynamisch fast", "EchoTime": 1.6, "RepetitionTime": 4.2}, C.DCE),
    ("siemens", "subtraction (inferred)", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "SUB", "NORM"],
        "SeriesDescription": "t1_vibe_fs_cor_SUB", "EchoTime": 1.6, "RepetitionTime": 4.2}, C.POST),
    ("siemens", "Dixon water of a T2 TSE is T2 fat-sat", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "WATER"],
        "SequenceName": "*tse2d1_15", "SeriesDescription": "t2_tse_dixon_cor_W", "EchoTime": 80,
        "RepetitionTime": 4000}, C.T2FS),
    ("siemens", "Dixon water of a T1 VIBE", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "WATER"],
        "SeriesDescription": "wholebody_t1_vibe_dixon_tra_mbh_dyn_W", "EchoTime": 2.4,
        "RepetitionTime": 5.4}, C.DIXON),
    ("siemens", "Dixon fat", {"Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "FAT"],
                              "SeriesDescription": "t2_tse_dixon_cor_F", "EchoTime": 80,
                              "RepetitionTime": 4000}, C.DIXON),
    ("siemens", "Dixon in phase", {"Manufacturer": SIEMENS,
                                   "ImageType": ["DERIVED", "PRIMARY", "DIXON", "IN_PHASE"],
                                   "SeriesDescription": "t2_tse_dixon_cor_in", "EchoTime": 80,
                                   "RepetitionTime": 4000}, C.DIXON),
    ("siemens", "Dixon opposed phase", {"Manufacturer": SIEMENS,
                                        "ImageType": ["DERIVED", "PRIMARY", "DIXON", "OPP_PHASE"],
                                        "SeriesDescription": "t2_tse_dixon_cor_opp", "EchoTime": 80,
                                        "RepetitionTime": 4000}, C.DIXON),
    ("siemens", "MPR collection (pydicom examples_overlay.dcm)", {
        "Manufacturer": SIEMENS,
        "ImageType": ["DERIVED", "SECONDARY", "MPR", "CSA MPR", "", "CSAPARALLEL", "M", "ND", "NORM"],
        "ScanningSequence": "GR", "SequenceVariant": "SP", "ScanOptions": ["SAT2", "FS"],
        "SequenceName": "*fl3d1", "SeriesDescription": "marked lesion<MPR Collection>",
        "ProtocolName": "t1_vibe_fs_tra_bh_dyn"}, C.DERIVED),
    ("siemens", "STIR (tirm)", {"Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND", "NORM"],
                                "ScanningSequence": ["SE", "IR"], "SequenceName": "*tir2d1_13",
                                "SeriesDescription": "t2_tirm_cor", "InversionTime": 220}, C.STIR),
    # --- GE: dcm_qa_ge sidecar (DWI), dia-endo conversion notes (LAVA-Flex Dixon), pydicom data.
    ("ge", "acquired diffusion (EPI_GEMS, ImageType OTHER)", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "ScanningSequence": ["EP", "SE"],
        "SequenceVariant": "NONE",
        "ScanOptions": ["SAT_GEMS", "EDR_GEMS", "EPI_GEMS", "ACC_GEMS", "PFF", "FS"],
        "SeriesDescription": "Ax DWI TENSOR R2", "ProtocolName": "Brain Advanced Sequences"}, C.DWI),
    ("ge", "diffusion known only by its b-value tag (0043,1039) with the 1e9 offset", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "SeriesDescription": "Series 6",
        "GEDiffusionBValue": ["1000000800", "8", "0", "0"]}, C.DWI),
    ("ge", "ADC map by its usual description (inferred)", {
        "Manufacturer": GE, "ImageType": ["DERIVED", "PRIMARY", "OTHER"], "ScanningSequence": ["EP", "SE"],
        "SeriesDescription": "Apparent Diffusion Coefficient (mm2/s)"}, C.ADC),
    ("ge", "LAVA-Flex water (T1): Dixon, not analysed", {
        "Manufacturer": GE, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "WATER"],
        "SequenceName": "efgre3d", "SeriesDescription": "WATER: COR LAVA DIAF.", "EchoTime": 1.7,
        "RepetitionTime": 4.0}, C.DIXON),
    ("ge", "LAVA-Flex fat", {"Manufacturer": GE, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "FAT"],
                             "SeriesDescription": "FAT: COR LAVA DIAF."}, C.DIXON),
    ("ge", "LAVA-Flex in phase", {"Manufacturer": GE, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "IN_PHASE"],
                                  "SeriesDescription": "InPhase: COR LAVA DIAF."}, C.DIXON),
    ("ge", "LAVA-Flex out of phase", {"Manufacturer": GE,
                                      "ImageType": ["DERIVED", "PRIMARY", "DIXON", "OUT_PHASE"],
                                      "SeriesDescription": "OutPhase: COR LAVA DIAF."}, C.DIXON),
    ("ge", "IDEAL water of a T2 FSE (inferred)", {
        "Manufacturer": GE, "ImageType": ["DERIVED", "PRIMARY", "DIXON", "WATER"],
        "SeriesDescription": "WATER: COR T2 FSE IDEAL", "EchoTime": 85, "RepetitionTime": 3500}, C.T2FS),
    ("ge", "DISCO dynamic (inferred)", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "SeriesDescription": "Ax DISCO",
        "NumberOfTemporalPositions": 20, "EchoTime": 1.5, "RepetitionTime": 4.0}, C.DCE),
    ("ge", "post-contrast T1 by its contrast agent tag", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "SeriesDescription": "Cor T1 FSE FS",
        "ContrastBolusAgent": "GADAVIST", "EchoTime": 10, "RepetitionTime": 500}, C.POST),
    ("ge", "reformat (inferred)", {"Manufacturer": GE, "ImageType": ["DERIVED", "SECONDARY", "REFORMATTED", "AVERAGE"],
                                   "SeriesDescription": "Cor reformat"}, C.DERIVED),
    ("ge", "3-plane localizer (inferred)", {"Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"],
                                            "ScanningSequence": "GR", "ScanOptions": ["FAST_GEMS", "SEQ_GEMS", "PFF"],
                                            "SeriesDescription": "3-Plane Loc"}, C.LOCALIZER),
    ("ge", "STIR", {"Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"],
                    "ScanningSequence": ["SE", "IR"], "ScanOptions": ["FAST_GEMS", "IR_GEMS"],
                    "SeriesDescription": "COR STIR", "InversionTime": 150}, C.STIR),
    # --- Philips: dcm_qa_philips sidecar (DWI), d2mat tables (ADC, mDIXON, MPR), pydicom's
    # dicomdirtests (MIP, localizer).
    ("philips", "acquired diffusion (ScanningSequence SE) known by its b-value tag", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "SE", "M", "SE"],
        "ScanningSequence": "SE", "SequenceVariant": "SK", "ScanOptions": "FS",
        "SeriesDescription": "DT_HIGH_32DIR", "ProtocolName": "DT_HIGH_32DIR_SENSE",
        "PhilipsDiffusionBValue": [800.0]}, C.DWI),
    ("philips", "diffusion known by its standard DiffusionBValue", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "SE", "M", "SE"],
        "ScanningSequence": "SE", "SeriesDescription": "COR_b1000", "DiffusionBValue": 1000.0}, C.DWI),
    ("philips", "ADC map", {"Manufacturer": PHILIPS,
                            "ImageType": ["ORIGINAL", "PRIMARY", "ADC_UNSPECIFIED", "ADC", "UNSPECIFIED"],
                            "SeriesDescription": "dADC_DWI"}, C.ADC),
    ("philips", "mDIXON water of a T2 TSE is T2 fat-sat", {
        "Manufacturer": PHILIPS, "ImageType": ["DERIVED", "PRIMARY", "W", "W", "DERIVED"],
        "SeriesDescription": "T2W_TSE_mDIXON COR", "EchoTime": 80, "RepetitionTime": 3000}, C.T2FS),
    ("philips", "mDIXON fat", {"Manufacturer": PHILIPS, "ImageType": ["DERIVED", "PRIMARY", "F", "F", "DERIVED"],
                               "SeriesDescription": "T2W_TSE_mDIXON COR", "EchoTime": 80,
                               "RepetitionTime": 3000}, C.DIXON),
    ("philips", "mDIXON in phase", {"Manufacturer": PHILIPS, "ImageType": ["DERIVED", "PRIMARY", "IP", "IP", "DERIVED"],
                                    "SeriesDescription": "T2W_TSE_mDIXON COR", "EchoTime": 80,
                                    "RepetitionTime": 3000}, C.DIXON),
    ("philips", "mDIXON opposed phase", {"Manufacturer": PHILIPS,
                                         "ImageType": ["DERIVED", "PRIMARY", "OP", "OP", "DERIVED"],
                                         "SeriesDescription": "T2W_TSE_mDIXON COR", "EchoTime": 80,
                                         "RepetitionTime": 3000}, C.DIXON),
    ("philips", "MIP (pydicom dicomdirtests)", {
        "Manufacturer": PHILIPS, "ImageType": ["DERIVED", "SECONDARY", "PROJECTION IMAGE"],
        "ScanningSequence": "GR", "SequenceVariant": ["SS", "SP"], "ScanOptions": ["FC", "SP"],
        "SeriesDescription": "ANGIO Projected from   C"}, C.DERIVED),
    ("philips", "MPR", {"Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "PROJECTION IMAGE", "M", "FFE"],
                        "SeriesDescription": "MPR T1"}, C.DERIVED),
    ("philips", "fast localizer (pydicom dicomdirtests)", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "ScanningSequence": "GR",
        "SequenceVariant": "SS", "SeriesDescription": "FAST LOCALIZER"}, C.LOCALIZER),
    ("philips", "survey by name", {"Manufacturer": PHILIPS, "SeriesDescription": "COR_SSh_T2_SURVEY"}, C.LOCALIZER),
    ("philips", "THRIVE dynamic (inferred)", {"Manufacturer": PHILIPS, "ScanningSequence": "GR",
                                              "SeriesDescription": "THRIVE_dyn_cor", "EchoTime": 2.0,
                                              "RepetitionTime": 4.2}, C.DCE),
    ("philips", "STIR", {"Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M_IR", "M", "IR"],
                         "ScanningSequence": "IR", "SeriesDescription": "COR STIR", "InversionTime": 165}, C.STIR),
    # --- Canon / Toshiba: dcm_qa_canon_61 and dcm_qa_toshiba sidecars.
    ("canon", "acquired diffusion (SE\\EP, SEEPI2D)", {
        "Manufacturer": "Canon_Medical_Systems", "ImageType": ["ORIGINAL", "PRIMARY", "GDC"],
        "ScanningSequence": ["SE", "EP"], "SequenceVariant": "NONE", "ScanOptions": ["PFP", "NONE"],
        "SequenceName": "SEEPI2D+0.7", "SeriesDescription": "DTI_PA-ortho"}, C.DWI),
    ("canon", "Toshiba diffusion with ScanningSequence SE_EP (one value)", {
        "Manufacturer": CANON, "ImageType": ["ORIGINAL", "PRIMARY", "GDC"], "ScanningSequence": "SE_EP",
        "SequenceVariant": "NONE", "ScanOptions": "PFP", "SequenceName": "SEEPI2D+0.7",
        "SeriesDescription": "DTI_AX_30d"}, C.DWI),
    ("canon", "ADC by name (inferred)", {"Manufacturer": CANON, "ImageType": ["DERIVED", "SECONDARY", "OTHER"],
                                         "SeriesDescription": "ADC map DWI ax"}, C.ADC),
    ("canon", "dynamic by temporal positions and a contrast agent (inferred)", {
        "Manufacturer": CANON, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "SeriesDescription": "3D T1 ax",
        "NumberOfTemporalPositions": 6, "ContrastBolusAgent": "Gadovist"}, C.DCE),
    ("canon", "temporal positions without contrast evidence are no contrast phases (issue 22)", {
        "Manufacturer": CANON, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "SeriesDescription": "3D T1 ax",
        "NumberOfTemporalPositions": 6}, C.OTHER),
    ("canon", "scout by ImageType", {"Manufacturer": CANON, "ImageType": ["ORIGINAL", "PRIMARY", "SCOUT"],
                                     "SeriesDescription": "x"}, C.LOCALIZER),
    ("canon", "STIR", {"Manufacturer": CANON, "ScanningSequence": "IR", "SeriesDescription": "STIR COR",
                       "InversionTime": "160"}, C.STIR),
    # --- any vendor: Secondary Capture screenshots (pydicom SC_rgb_small_odd.dcm)
    ("any", "Secondary Capture", {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7",
                                  "ImageType": ["DERIVED", "SECONDARY", "OTHER"], "SeriesDescription": "Screen Save"},
     C.DERIVED),
    ("any", "Multi-frame grayscale Secondary Capture", {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7.2",
                                                        "SeriesDescription": "COR STIR key image"}, C.DERIVED),
]


@pytest.mark.parametrize("vendor,what,headers,expected", ROWS, ids=[f"{r[0]}: {r[1]}" for r in ROWS])
def test_real_vendor_headers_are_recognised(settings, vendor, what, headers, expected):
    found = classify_stack(headers, settings)
    sequence, reason = found.sequence, found.reason
    assert sequence == expected, f"{vendor} {what}: {reason}"
    assert reason


def test_table_covers_each_kind_for_every_vendor():
    kinds = {vendor: {expected for v, _, _, expected in ROWS if v == vendor}
             for vendor in ("siemens", "ge", "philips", "canon")}
    for vendor, found in kinds.items():
        assert {C.DWI, C.ADC, C.DCE, C.LOCALIZER, C.STIR} <= found, vendor
    for vendor in ("siemens", "ge", "philips"):  # Dixon (water as T2 fat-sat + 3 outputs), reformats
        assert {C.DIXON, C.T2FS, C.DERIVED} <= kinds[vendor], vendor
        dixon = [what for v, what, _, e in ROWS if v == vendor and e == C.DIXON]
        assert len(dixon) >= 3, vendor


@pytest.mark.parametrize("sequence", [C.DWI, C.ADC, C.DCE, C.POST, C.DIXON, C.DERIVED, C.LOCALIZER])
def test_recognised_non_edema_classes_are_never_analysed_or_t1_partners(settings, sequence):
    analysable = {rule.sequence for rule in settings.select.analysis_priority}
    assert sequence not in analysable
    assert sequence not in settings.select.t1_classes
    assert not sequence.edema_sensitive
