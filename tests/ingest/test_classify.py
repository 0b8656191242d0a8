"""Vendor-style header examples -> sequence class (rules from configs/default.yaml)."""

from __future__ import annotations

import pytest

from bme_mri.ingest import classify_stack
from bme_mri.types import SequenceClass as C

CASES = [
    # Siemens
    ("siemens tirm by TI", {"SeriesDescription": "t2_tirm_cor_p2", "SequenceName": "*tir2d1_11",
                            "ScanningSequence": "SE\\IR", "InversionTime": "150", "EchoTime": 41,
                            "RepetitionTime": 5000}, C.STIR),
    ("siemens *tir2d no TI", {"SeriesDescription": "cor_hips", "SequenceName": "*tir2d1_8",
                              "ScanningSequence": ["SE", "IR"]}, C.STIR),
    ("siemens t1 tse", {"SeriesDescription": "t1_tse_cor", "SequenceName": "*tse2d1_3",
                        "ScanningSequence": "SE", "RepetitionTime": 600, "EchoTime": 11}, C.T1),
    ("siemens t2 tse fs", {"SeriesDescription": "t2_tse_fs_tra", "ScanOptions": ["FS"],
                           "RepetitionTime": 4000, "EchoTime": 80}, C.T2FS),
    ("siemens pd fs", {"SeriesDescription": "pd_tse_fs_cor", "RepetitionTime": 3000, "EchoTime": 30}, C.PD),
    ("siemens localizer", {"SeriesDescription": "localizer", "ImageType": ["ORIGINAL", "PRIMARY", "M", "NORM"]},
     C.LOCALIZER),
    ("siemens t2 tse", {"SeriesDescription": "t2_tse_tra", "RepetitionTime": 4500, "EchoTime": 95}, C.T2),
    # GE
    ("ge stir", {"SeriesDescription": "COR STIR", "ScanningSequence": "SE\\IR", "SequenceVariant": "SK\\OSP",
                 "InversionTime": 150, "ScanOptions": "FAST_GEMS\\IR_GEMS"}, C.STIR),
    ("ge t2 fse fs", {"SeriesDescription": "Ax T2 FSE FS", "ScanOptions": "FAST_GEMS\\FS",
                      "EchoTime": 85, "RepetitionTime": 3500}, C.T2FS),
    ("ge 3-plane loc", {"SeriesDescription": "3-Plane Loc", "ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]},
     C.LOCALIZER),
    ("ge t1 fse", {"SeriesDescription": "Cor T1 FSE", "RepetitionTime": 500, "EchoTime": 10}, C.T1),
    ("ge unnamed, TE/TR + FS", {"SeriesDescription": "Series 7", "ScanningSequence": "SE",
                                "RepetitionTime": 3000, "EchoTime": 90, "ScanOptions": "FAST_GEMS\\FS"}, C.T2FS),
    ("ge fast_gems alone is not fat-sat", {"SeriesDescription": "Series 8", "RepetitionTime": 3000,
                                           "EchoTime": 90, "ScanOptions": "FAST_GEMS"}, C.T2),
    ("ge t1 flair TI out of STIR range", {"SeriesDescription": "Ax T1 FLAIR", "ScanningSequence": "SE\\IR",
                                          "InversionTime": 750, "RepetitionTime": 2000, "EchoTime": 10}, C.T1),
    # Philips
    ("philips stir", {"SeriesDescription": "COR STIR", "ProtocolName": "WIP COR STIR CLEAR",
                      "ScanningSequence": "IR", "InversionTime": 165}, C.STIR),
    ("philips t2 spair", {"SeriesDescription": "T2W_SPAIR", "ScanningSequence": "SE",
                          "RepetitionTime": 3000, "EchoTime": 70}, C.T2FS),
    ("philips t2 tse spir", {"SeriesDescription": "T2W_TSE_SPIR COR"}, C.T2FS),
    ("philips t1w tse", {"SeriesDescription": "sT1W_TSE", "ProtocolName": "sT1W_TSE"}, C.T1),
    ("philips survey", {"SeriesDescription": "Survey", "ImageType": ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"]},
     C.LOCALIZER),
    ("philips ir tse", {"SeriesDescription": "IR_TSE cor"}, C.STIR),
    # Canon / Toshiba
    ("canon stir", {"SeriesDescription": "STIR COR", "ScanningSequence": "IR", "InversionTime": "160"}, C.STIR),
    ("canon t2 fatsat", {"SeriesDescription": "FSE T2 FatSat AX"}, C.T2FS),
    ("canon pdw", {"SeriesDescription": "FSE PDW COR"}, C.PD),
    ("canon scout by ImageType", {"SeriesDescription": "x", "ImageType": "ORIGINAL\\PRIMARY\\SCOUT"}, C.LOCALIZER),
    # other / enhanced
    ("dwi by name", {"SeriesDescription": "Ax DWI b800"}, C.DWI),
    ("enhanced IR multi-valued TI", {"ScanningSequence": "IR", "InversionTime": [200.0]}, C.STIR),
    ("3 T STIR TI 230 ms", {"SeriesDescription": "cor", "InversionTime": 230}, C.STIR),
]


@pytest.mark.parametrize("name,headers,expected", CASES, ids=[c[0] for c in CASES])
def test_vendor_examples_classify_as_expected(settings, name, headers, expected):
    found = classify_stack(headers, settings)
    sequence, reason = found.sequence, found.reason
    assert sequence == expected, reason
    assert reason


def test_classification_rules_come_from_config(settings):
    headers = {"SeriesDescription": "mystery_sequence"}
    assert classify_stack(headers, settings).sequence == C.OTHER
    rules = settings.classify.model_copy(update={"text_rules": [
        *settings.classify.text_rules,
        type(settings.classify.text_rules[0])(sequence="stir", pattern="mystery")]})
    assert classify_stack(headers, rules).sequence == C.STIR
