"""Series recognition on the vendor traps of issue 22, each row carrying the header values that
decide its rule (values as facts; the source of each in the comment above its block).

Sources: the dicom2nifti test data (MIT; ``../shared/realdata/dicom_zoo``, values read from the
files), dcm2niix's vendor notes (Canon ImageComments b-values), and the DICOM standard's enhanced
MR attributes (AcquisitionContrast, DiffusionDirectionality). "(inferred)" marks a header
assembled from a vendor's documented habits rather than read from one file.
"""

from __future__ import annotations

import pytest

from bme_mri.ingest import classify_stack
from bme_mri.ingest.headers import b_value_of
from bme_mri.types import SequenceClass as C

GE = "GE MEDICAL SYSTEMS"
PHILIPS = "Philips Medical Systems"
SIEMENS = "SIEMENS"

ROWS = [
    # --- b-values without diffusion evidence (dicom_zoo ge/anatomical, ge/fmri, philips/*)
    ("GE IR-SPGR T1 with the (0043,1039) b-slot 0 on every image", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "ScanningSequence": "GR",
        "SequenceVariant": ["SS", "SP", "SK"], "InversionTime": 900, "EchoTime": 3.164, "RepetitionTime": 8.9,
        "GEDiffusionBValue": ["0", "0", "0", "0"], "SeriesBValues": (0.0,)}, C.T1, ""),
    ("GE gradient-echo EPI fMRI, b-slot 0", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "ScanningSequence": ["EP", "GR"],
        "SequenceVariant": "SS", "EchoTime": 28, "RepetitionTime": 2500, "GEDiffusionBValue": ["0", "0", "0", "0"],
        "SeriesBValues": (0.0,), "SeriesRepeatedPositions": 2}, C.OTHER, "bold"),
    ("GE DTI: b 0 and 1000 in one series", {
        "Manufacturer": GE, "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"], "ScanningSequence": ["EP", "RM"],
        "EchoTime": 81.7, "RepetitionTime": 9000, "GEDiffusionBValue": ["0", "8", "0", "0"],
        "SeriesBValues": (0.0, 1000.0)}, C.DWI, ""),
    ("Philips 3D FLAIR (VISTA): IR TI 1650, DiffusionBValue 0", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M_IR", "M", "IR"], "ScanningSequence": "IR",
        "SequenceVariant": "SK", "InversionTime": 1650, "EchoTime": 386.8, "RepetitionTime": 4800,
        "DiffusionBValue": 0.0, "SeriesBValues": (0.0,)}, C.OTHER, "flair"),
    ("Philips SWI magnitude/phase (SW_M_FFE), DiffusionBValue 0", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "SW_M_FFE", "SW_M", "FFE"],
        "ScanningSequence": "GR", "SequenceVariant": "SP", "EchoTime": 0, "RepetitionTime": 31,
        "DiffusionBValue": 0.0}, C.OTHER, "swi"),
    ("Philips FFE fMRI: GR, TR 2000, TE 27, volumes repeated, DiffusionBValue 0", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"],
        "ScanningSequence": "GR", "SequenceVariant": "SK", "EchoTime": 27.0, "RepetitionTime": 2000.0,
        "DiffusionBValue": 0.0, "SeriesBValues": (0.0,), "SeriesRepeatedPositions": 4}, C.OTHER, "bold"),
    ("Philips diffusion: DiffusionBValue 0 on b0 images, 1000 on the others (SE)", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M_SE", "M", "SE"], "ScanningSequence": "SE",
        "EchoTime": 122.7, "RepetitionTime": 12638, "DiffusionBValue": 0.0, "SeriesBValues": (0.0, 1000.0)},
     C.DWI, ""),
    # --- enhanced MR (dicom_zoo philips_enhanced/fmri, hyperfine): tags inside functional groups
    ("Philips enhanced fMRI: AcquisitionContrast T2, water excitation, GR, 200 temporal positions", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "T2", "NONE"], "ScanningSequence": "GR",
        "SequenceVariant": "SK", "AcquisitionContrast": "T2", "EchoTime": 30.0, "RepetitionTime": 3000,
        "TemporalPositionIdentifier": 1, "SeriesTemporalPositions": 200}, C.OTHER, "bold"),
    ("Hyperfine FLAIR: AcquisitionContrast FLUID_ATTENUATED, TI 1400", {
        "Manufacturer": "Hyperfine Research", "ImageType": ["ORIGINAL", "PRIMARY", "M", "NONE"],
        "ScanningSequence": ["SE", "IR"], "AcquisitionContrast": "FLUID_ATTENUATED", "InversionTime": 1400,
        "EchoTime": 194.4, "RepetitionTime": 4000}, C.OTHER, "flair"),
    ("enhanced diffusion by DiffusionDirectionality (standard attribute)", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "NONE"],
        "DiffusionDirectionality": "DIRECTIONAL", "EchoTime": 72, "RepetitionTime": 9000}, C.DWI, ""),
    # --- EPI alone is not diffusion (dicom_zoo siemens/fmri: mosaic EP\SK, TE 30, no DIFFUSION token)
    ("Siemens BOLD mosaic: EP, no DIFFUSION ImageType, no CSA b", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"], "ScanningSequence": "EP",
        "SequenceVariant": "SK", "EchoTime": 30, "RepetitionTime": 3000, "SeriesRepeatedPositions": 2},
     C.OTHER, "bold"),
    ("Siemens ep2d_bold by its sequence name *epfid2d1_64 (inferred)", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"], "ScanningSequence": "EP",
        "SequenceName": "*epfid2d1_64", "SeriesDescription": "ep2d_bold_rest", "EchoTime": 30,
        "RepetitionTime": 2000}, C.OTHER, "bold"),
    ("Philips T2W/FE-EPI with ScanOptions FS is no T2 fat-sat (issue 22)", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"], "ScanningSequence": "GR",
        "ScanOptions": "FS", "SeriesDescription": "T2W/FE-EPI", "EchoTime": 35, "RepetitionTime": 2000,
        "DiffusionBValue": 0.0}, C.OTHER, "bold"),
    # --- a temporal position is not a contrast phase without contrast evidence
    ("Philips FAST PILOT with a temporal position is a localizer (inferred)", {
        "Manufacturer": PHILIPS, "ScanningSequence": "GR", "SeriesDescription": "FAST PILOT",
        "TemporalPositionIdentifier": 1, "NumberOfTemporalPositions": 3}, C.LOCALIZER, ""),
    ("GE B0 map with temporal positions is a field map (inferred)", {
        "Manufacturer": GE, "ScanningSequence": "GR", "SeriesDescription": "B0 map",
        "TemporalPositionIdentifier": 2, "NumberOfTemporalPositions": 2, "EchoTime": 4.1,
        "RepetitionTime": 12}, C.OTHER, "fieldmap"),
    ("Siemens TWIST phases with an agent stay dynamic contrast (inferred)", {
        "Manufacturer": SIEMENS, "ScanningSequence": "GR", "SequenceName": "*tfl3d1", "TemporalPositionIdentifier": 7,
        "NumberOfTemporalPositions": 70, "ContrastBolusAgent": "Dotarem", "EchoTime": 1.6,
        "RepetitionTime": 4.2}, C.DCE, ""),
    # --- other kinds by name or ImageType (inferred from the vendors' protocol names)
    ("a T1 map named ..._map_... with flip angles is no ADC (issue 22)", {
        "Manufacturer": SIEMENS, "ImageType": ["DERIVED", "PRIMARY", "T1 MAP"],
        "SeriesDescription": "t1_map_fa3_fa15"}, C.OTHER, "parametric_map"),
    ("GE knee T1rho", {"Manufacturer": GE, "SeriesDescription": "Sag T1rho", "ScanningSequence": "GR",
                       "EchoTime": 3.0, "RepetitionTime": 7.0}, C.OTHER, "parametric_map"),
    ("Philips pCASL with DiffusionBValue 0", {
        "Manufacturer": PHILIPS, "ImageType": ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"], "ScanningSequence": "GR",
        "SeriesDescription": "SOURCE - pCASL", "DiffusionBValue": 0.0, "SeriesBValues": (0.0,),
        "EchoTime": 14, "RepetitionTime": 4000}, C.OTHER, "asl"),
    ("Siemens gre_field_mapping phase difference", {
        "Manufacturer": SIEMENS, "ImageType": ["ORIGINAL", "PRIMARY", "P", "ND"], "ScanningSequence": "GR",
        "SequenceName": "*fm2d2r", "SeriesDescription": "gre_field_mapping", "EchoTime": 7.38,
        "RepetitionTime": 488}, C.OTHER, "fieldmap"),
    # --- FLAIR is never STIR; a STIR name needs physics that agree
    ("a series named STIR with TI 2200 is FLAIR", {
        "Manufacturer": SIEMENS, "ScanningSequence": ["SE", "IR"], "SeriesDescription": "cor STIR",
        "InversionTime": 2200, "EchoTime": 90, "RepetitionTime": 9000}, C.OTHER, "flair"),
    ("a series named STIR read with gradient echo is not STIR", {
        "Manufacturer": SIEMENS, "ScanningSequence": "GR", "SequenceName": "*fl2d1", "SeriesDescription": "stir cor",
        "EchoTime": 4, "RepetitionTime": 300}, C.T1, ""),
    ("an IR-prepared gradient echo with a short TI is a T1, not STIR", {
        "Manufacturer": GE, "ScanningSequence": "GR", "InversionTime": 250, "EchoTime": 2.1,
        "RepetitionTime": 7.5}, C.T1, ""),
    ("a T2 fat-sat name on a gradient echo is T2*-weighted", {
        "Manufacturer": SIEMENS, "ScanningSequence": "GR", "SequenceName": "*me2d1r3", "ScanOptions": "FS",
        "SeriesDescription": "t2_me2d_fs_tra", "EchoTime": 20, "RepetitionTime": 600}, C.OTHER, "t2star"),
    # --- Canon writes b-values into ImageComments (dcm2niix Canon notes)
    ("Canon classic DWI: b only in ImageComments", {
        "Manufacturer": "Canon_Medical_Systems", "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"],
        "ImageComments": "b=1500(0.445,0.000,0.895)", "EchoTime": 80, "RepetitionTime": 5000}, C.DWI, ""),
]


@pytest.mark.parametrize("what,headers,expected,subtype", ROWS, ids=[r[0] for r in ROWS])
def test_vendor_traps_are_recognised(settings, what, headers, expected, subtype):
    found = classify_stack(headers, settings)
    assert found.sequence == expected, f"{what}: {found.reason}"
    assert found.subtype == subtype, f"{what}: {found.reason}"
    assert found.reason


def test_the_reason_of_an_other_subtype_names_it(settings):
    found = classify_stack(ROWS[1][1], settings)
    assert found.label == "other/bold" and "BOLD" in found.reason


def test_canon_image_comments_b_value_is_read_only_for_canon():
    comments = {"ImageComments": "b=1000(0.0,1.0,0.0)"}
    assert b_value_of({**comments, "Manufacturer": "TOSHIBA"}) == 1000.0
    assert b_value_of({**comments, "Manufacturer": "SIEMENS"}) is None
    assert b_value_of({"ImageComments": "patient moved", "Manufacturer": "TOSHIBA"}) is None
