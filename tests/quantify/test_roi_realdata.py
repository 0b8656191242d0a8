"""ROI mode on the real sacroiliac STIR scans of ../shared/realdata/sij_stir (skipped when absent).

These are the development scans the lesion model's constants were chosen on (leaving one scan
out: ``python scripts/bench_real_roi.py --data ../shared/realdata/sij_stir --loso``); the tests
guard the default configuration against regressions, they are not a held-out measure. On every
labelled scan, with the given normal-marrow sample and with normal marrow found automatically:
the edema volume lies in issue 21's band (0.5-2 x the readers' mean; at most their mean + 1 ml on
the near-normal 1003) and agrees with the readers at least as well as the VHI authors' published
method.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.nifti import read_nifti
from bme_mri.quantify import dice, quantify_roi
from bme_mri.quantify.grid import mask_on_grid

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
SIJ = REALDATA / "sij_stir"
LABELLED = ["1003", "1013", "1016", "4386"]

pytestmark = pytest.mark.skipif(not (SIJ / "1013" / "stir.nii.gz").is_file(),
                                reason=f"real sacroiliac scans not found at {SIJ} (set BME_REALDATA)")


def _inputs(scan: str):
    folder = SIJ / scan
    image = read_nifti(folder / "stir.nii.gz")
    readers = [mask_on_grid(image.geometry, read_nifti(p), "reader", 0.01).array
               for p in sorted(folder.glob("lesion_*.nii.gz"))]
    return image, read_nifti(folder / "bone_region.nii.gz"), read_nifti(folder / "normal_marrow.nii.gz"), readers


@pytest.mark.parametrize("scan", LABELLED)
def test_labelled_scan_volume_in_band_and_agreement_at_least_vhis(scan):
    image, bone, normal, readers = _inputs(scan)
    config = load_config()
    readers_ml = float(np.mean([r.sum() for r in readers])) * image.geometry.voxel_volume_ml
    vhi = quantify_roi(image, bone, normal, config, method="vhi")
    vhi_dice = np.mean([dice(vhi.edema_mask, r) for r in readers])
    for reference in (normal, None):
        result = quantify_roi(image, bone, reference, config)
        assert result.warnings == []  # masks 3e-5 mm off the image's affine are on its grid
        if readers_ml < 1.0:
            assert result.edema_ml <= readers_ml + 1.0, (scan, result.edema_ml, readers_ml)
        else:
            assert 0.5 <= result.edema_ml / readers_ml <= 2.0, (scan, result.edema_ml, readers_ml)
        ours = np.mean([dice(result.edema_mask, r) for r in readers])
        assert ours >= vhi_dice, (scan, reference is None, ours, vhi_dice)
        low, high = result.edema_ml_range
        assert low <= result.edema_ml <= high
        assert not (result.reference.mask & result.edema_mask).any()


@pytest.mark.parametrize("scan", ["2014", "2015"])
def test_scans_without_reader_masks_run_and_mark_focal_edema_not_speckle(scan):
    """Both show focal bright marrow (periarticular patches on 2014, an iliac patch and a vertebral
    focus on 2015), which is found, and no spread through the bone (at most a tenth of it)."""
    image, bone, normal, _ = _inputs(scan)
    for reference in (normal, None):
        result = quantify_roi(image, bone, reference, load_config())
        assert 0.0 < result.edema_ml < 0.1 * result.bone_ml, (scan, reference is None, result.edema_ml)
