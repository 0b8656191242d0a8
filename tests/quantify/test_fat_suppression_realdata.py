"""The fat-suppression rule on real STIR (../shared/realdata/sij_stir; skipped when absent): no
blocking not_fat_suppressed on a fat-suppressed series, in the readers' edema (1013: ~128 ml of
bright marrow) nor in the hand-drawn normal marrow (4386's reads brighter than muscle).

These scans have no femoral head: the rule's levels are measured as for a hip, with the region
standing for the head's interior (its median) and the soft tissue 8-35 mm around a sphere of the
region's volume at its centre standing for the tissue around the head."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.nifti import read_nifti
from bme_mri.quantify.fat_suppression import soft_tissue_classes, subcutaneous_fat
from bme_mri.quantify.qc import muscle_level, not_fat_suppressed_flag, surrounding_tissue
from bme_mri.segment.base import HeadFinding
from bme_mri.segment.marrow import smooth_image
from bme_mri.types import Side

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
SIJ = REALDATA / "sij_stir"

pytestmark = pytest.mark.skipif(not SIJ.is_dir(), reason=f"real sacroiliac STIR not present at {SIJ}")

REGIONS = [("1013", "lesion_reader1_trial1"), ("1013", "normal_marrow"), ("1016", "lesion_reader1_trial1"),
           ("4386", "lesion_reader1_trial1"), ("4386", "normal_marrow"), ("1003", "normal_marrow"),
           ("2014", "normal_marrow"), ("2015", "normal_marrow")]


@pytest.mark.parametrize("scan, region", REGIONS)
def test_real_stir_regions_are_not_blocked_as_not_fat_suppressed(scan, region):
    settings = load_config().qc
    fs = settings.fat_suppression
    image = read_nifti(SIJ / scan / "stir.nii.gz")
    mask = read_nifti(SIJ / scan / f"{region}.nii.gz").array > 0
    smoothed = smooth_image(np.asarray(image.array, np.float32), image.geometry.spacing_mm, 1.0)
    marrow = float(np.median(smoothed[mask]))
    volume_ml = float(mask.sum()) * image.geometry.voxel_volume_ml
    centre = image.geometry.index_to_lps(np.argwhere(mask).mean(0)[None])[0]
    radius = min(24.0, (3.0 * volume_ml * 1000.0 / (4.0 * np.pi)) ** (1.0 / 3.0))
    head = HeadFinding(Side.LEFT, tuple(float(v) for v in centre), radius, (1.0, 0.0, 0.0), 18.0, 15.0, 0.8, 0.5)
    tissue, around, _ = surrounding_tissue(image, head, settings)
    classes = soft_tissue_classes(around[tissue], 2 * settings.reference.histogram_bins)
    muscle = muscle_level(around[tissue], settings.reference.histogram_bins)
    fat = subcutaneous_fat(image, tuple(fs.fat_depth_mm), fs.fat_grid_mm, fs.min_fat_ml, fs.fat_face_margin_mm,
                           fs.fat_noise_multiple)
    flag, measures = not_fat_suppressed_flag(marrow, classes, fat.level, muscle, settings, no_fat_why="no skin")
    assert flag is None or flag.code == "fat_suppression_unverified", (flag, measures)
    if flag is not None:
        assert flag.severity == "warning" and flag.reason.startswith("could not verify fat suppression")
