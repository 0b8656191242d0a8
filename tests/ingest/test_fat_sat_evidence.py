"""What a series' own headers and name say about fat suppression."""

from __future__ import annotations

import pytest

from bme_mri.config import load_config
from bme_mri.ingest.classify import fat_suppression_evidence, no_fat_suppression_evidence

SIEMENS_T2_TSE = {"Manufacturer": "SIEMENS", "ScanningSequence": "SE", "SequenceVariant": ["SK", "SP", "OSP"],
                  "ScanOptions": "SAT1", "SequenceName": "*tse2d1_25", "SeriesDescription": "t2_tse_cor",
                  "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND", "NORM"], "EchoTime": 101.0}


@pytest.fixture(scope="module")
def ingest():
    return load_config().ingest


@pytest.mark.parametrize("name", ["pd_spair_cor", "pd_fs_cor", "PDW_SPAIR", "cor_pd_tse_fs", "pd_sag_fatsat",
                                  "PD FAT SUPPRESSED"])
def test_a_name_saying_fat_suppression_is_evidence(ingest, name):
    assert name in fat_suppression_evidence({"SeriesDescription": name}, ingest)


def test_scan_options_fs_is_evidence_and_a_plain_name_is_none(ingest):
    assert "FS" in fat_suppression_evidence({"SeriesDescription": "pd_tse_cor", "ScanOptions": ["PFP", "FS"]}, ingest)
    assert fat_suppression_evidence({"SeriesDescription": "pd_tse_cor", "ScanOptions": "SAT1"}, ingest) == ""
    assert fat_suppression_evidence({"SeriesDescription": "offset_cor"}, ingest) == ""  # no 'fs' inside a word


def test_siemens_headers_without_fat_saturation_say_so(ingest):
    why = no_fat_suppression_evidence(SIEMENS_T2_TSE, ingest)
    assert "SIEMENS" in why and "SAT1" in why and "without fat saturation" in why
    assert no_fat_suppression_evidence({**SIEMENS_T2_TSE, "ScanOptions": None}, ingest)  # no options at all


@pytest.mark.parametrize("change", [
    {"ScanOptions": ["PFP", "FS"]},                                       # fat-sat
    {"SeriesDescription": "t2_tse_spair_cor"},                            # named fat-suppressed
    {"ScanningSequence": ["SE", "IR"], "InversionTime": 160.0},            # STIR
    {"SequenceName": "*tir2d1_13"},                                       # Siemens IR sequence
    {"ScanOptions": "WE"},                                                # an option not known to be plain
    {"ImageType": ["DERIVED", "PRIMARY", "DIXON", "WATER"]},              # a Dixon water image
    {"Manufacturer": "GE MEDICAL SYSTEMS", "ScanOptions": "FAST_GEMS"},   # GE keeps fat-sat elsewhere
    {"ScanningSequence": None},                                           # too little to trust
])
def test_headers_that_cannot_be_trusted_to_mean_no_fat_suppression_say_nothing(ingest, change):
    assert no_fat_suppression_evidence({**SIEMENS_T2_TSE, **change}, ingest) == ""
