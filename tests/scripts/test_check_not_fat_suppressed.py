"""scripts/check_not_fat_suppressed.py: which converted contrasts file is which."""

from __future__ import annotations

from tests.scripts.conftest import load_script


def test_each_converted_contrast_is_told_apart_and_t2_fat_sat_is_not_t2():
    script = load_script("check_not_fat_suppressed")
    # the names `bme-mri convert` gives a contrasts study
    names = {"sub-BME0000_ses-20240108_acq-coronal_run-2_STIR.nii.gz": "STIR",
             "sub-BME0000_ses-20240108_acq-axialFS_run-4_T2w.nii.gz": "T2FS",
             "sub-BME0000_ses-20240108_acq-coronal_run-3_T1w.nii.gz": "T1",
             "sub-BME0000_ses-20240108_acq-axial_run-6_T2w.nii.gz": "T2",
             "sub-BME0000_ses-20240108_acq-coronal_run-5_PDw.nii.gz": "PD",
             "sub-BME0000_ses-20240108_acq-axial_run-1_localizer.nii.gz": None,
             "sub-BME0000_ses-20240108_acq-axial_run-7_dwi.nii.gz": None}
    for name, contrast in names.items():
        assert script.contrast_of(name) == contrast, name
