"""ROI mode on the real sacroiliac STIR scans of ../shared/realdata/sij_stir (skipped when absent).

The floors below are issue 11's acceptance on 1013 (the only scan with reader masks, a
development scan: the readers' edge-pixel rule was found on it): Dice >= 0.80 against each reader
with the given sample, >= 0.75 with the automatic reference (see scripts/bench_real_roi.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.nifti import read_nifti
from bme_mri.quantify import dice, quantify_roi

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
SIJ = REALDATA / "sij_stir"

pytestmark = pytest.mark.skipif(not (SIJ / "1013" / "stir.nii.gz").is_file(),
                                reason=f"real sacroiliac scans not found at {SIJ} (set BME_REALDATA)")


def _inputs(scan: str):
    folder = SIJ / scan
    return (read_nifti(folder / "stir.nii.gz"), read_nifti(folder / "bone_region.nii.gz"),
            read_nifti(folder / "normal_marrow.nii.gz"),
            [read_nifti(p).array > 0.5 for p in sorted(folder.glob("lesion_*.nii.gz"))])


def test_1013_with_the_given_sample_agrees_with_every_reader():
    image, bone, normal, readers = _inputs("1013")
    result = quantify_roi(image, bone, normal, load_config())
    assert result.warnings == []  # masks 7e-6 mm off the image's affine are on its grid
    scores = [dice(result.edema_mask, reader) for reader in readers]
    assert len(scores) == 4 and min(scores) >= 0.80, scores
    reader_ml = np.mean([reader.sum() for reader in readers]) * image.geometry.voxel_volume_ml
    assert abs(result.edema_ml / reader_ml - 1.0) <= 0.15, (result.edema_ml, reader_ml)


def test_1013_with_the_automatic_reference_agrees_with_every_reader():
    image, bone, _, readers = _inputs("1013")
    result = quantify_roi(image, bone, None, load_config())
    assert result.reference_source == "automatic"
    assert (result.reference.mask & result.edema_mask).sum() == 0
    scores = [dice(result.edema_mask, reader) for reader in readers]
    assert min(scores) >= 0.75, scores


@pytest.mark.parametrize("scan", ["2014", "2015"])
def test_scans_without_reader_masks_run_and_mark_focal_edema_not_speckle(scan):
    image, bone, normal, _ = _inputs(scan)
    for reference in (normal, None):
        result = quantify_roi(image, bone, reference, load_config())
        assert 0.0 < result.edema_ml < 0.05 * result.bone_ml, (scan, reference is None, result.edema_ml)
