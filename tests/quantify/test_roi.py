"""ROI mode: edema inside a given bone mask, reference given or estimated."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.errors import GeometryError, ImageValueError
from bme_mri.quantify import dice, quantify_roi
from bme_mri.types import Geometry, Volume


@pytest.fixture(scope="module")
def bone_with_edema():
    """A 30 mm radius bone (2 mm cortex) with a soft-bordered 14 mm edema blob, noisy."""
    rng = np.random.default_rng(5)
    geometry = Geometry((72, 72, 24), (1.0, 1.0, 3.0), (-36.0, -36.0, -36.0), np.eye(3))
    xyz = geometry.index_to_lps(np.indices(geometry.shape).reshape(3, -1).T).reshape(*geometry.shape, 3)
    radius = np.linalg.norm(xyz, axis=-1)
    bone = radius <= 30.0
    marrow = radius <= 28.0
    blob = np.linalg.norm(xyz - np.array([8.0, 0.0, 0.0]), axis=-1)
    fraction = 1.0 / (1.0 + np.exp((blob - 14.0) / 1.5))
    image = np.where(bone, 5.0, 60.0)  # cortex dark, surroundings brighter
    image = np.where(marrow, 100.0 + 180.0 * fraction, image)
    image = image + rng.normal(0, 6.0, image.shape)
    truth = marrow & (fraction >= 0.5)
    return geometry, image.astype(np.float32), bone, marrow & (fraction < 0.01), truth


def test_edema_inside_the_bone_mask_is_found_whole(bone_with_edema):
    """ROI mode outlines as readers do: every voxel of the lesion's half-contrast contour, and
    its soft border out to where it fades into normal marrow (1-2% of its contrast here)."""
    geometry, image, bone, _, truth = bone_with_edema
    result = quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), geometry),
                          None, load_config())
    assert result.reference_source == "automatic"
    assert result.warnings == []
    xyz = geometry.index_to_lps(np.indices(geometry.shape).reshape(3, -1).T).reshape(*geometry.shape, 3)
    faint = bone & (np.linalg.norm(xyz - np.array([8.0, 0.0, 0.0]), axis=-1) <= 14.0 + 1.5 * np.log(99.0))
    assert (result.edema_mask & truth).sum() >= 0.98 * truth.sum()
    assert (result.edema_mask & ~faint).sum() <= 0.02 * result.edema_mask.sum()
    assert result.bone_ml == pytest.approx(bone.sum() * geometry.voxel_volume_ml)
    low, high = result.edema_ml_range
    assert low <= result.edema_ml <= high
    assert 100 < result.threshold < 280
    assert result.edema_mask.shape == geometry.shape


def test_given_reference_mask_is_used(bone_with_edema):
    geometry, image, bone, normal, truth = bone_with_edema
    result = quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), geometry),
                          Volume(normal.astype(np.float32), geometry), load_config())
    assert result.reference_source == "given"
    assert (result.reference.mask & normal).sum() == normal.sum()  # the sample always counts as normal
    assert abs(result.reference.median - 100) < 3
    assert (result.edema_mask & truth).sum() >= 0.98 * truth.sum()


def test_mask_that_does_not_overlap_the_image_is_a_one_line_error_naming_both_grids(bone_with_edema):
    geometry, image, bone, _, _ = bone_with_edema
    far = Geometry(geometry.shape, geometry.spacing_mm, (464.0, -36.0, -36.0), np.eye(3))
    with pytest.raises(GeometryError) as err:
        quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), far,
                                                     {"source": "bone.nii.gz"}), None, load_config())
    message = str(err.value)
    assert "bone.nii.gz" in message and "does not overlap" in message
    assert "(464.0, -36.0, -36.0)" in message and "(-36.0, -36.0, -36.0)" in message
    assert "\n" not in message


def test_reference_mask_on_another_grid_is_resampled_with_a_warning(bone_with_edema):
    geometry, image, bone, normal, _ = bone_with_edema
    other = Geometry((72, 72, 23), geometry.spacing_mm, geometry.origin_lps_mm, np.eye(3))
    result = quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), geometry),
                          Volume(normal[:, :, :23].astype(np.float32), other), load_config())
    assert len(result.warnings) == 1 and "reference mask" in result.warnings[0]
    assert "resampled" in result.warnings[0]
    assert (result.reference.mask[:, :, :23] & normal[:, :, :23]).sum() == normal[:, :, :23].sum()


def test_automatic_reference_leaves_the_lesion_out(bone_with_edema):
    geometry, image, bone, _, truth = bone_with_edema
    result = quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), geometry),
                          None, load_config())
    used = result.reference.mask
    assert used.sum() > 1000 and not (used & ~bone).any()
    assert (used & truth).sum() < 0.01 * used.sum()
    assert abs(result.reference.median - 100) < 6


def _published_vhi_lower(values: np.ndarray) -> float:
    # The published loop, step by step (c-hepburn/Bone_MRI, as described in bme_mri/quantify/vhi.py).
    q1, q3 = np.percentile(values, [25, 75])
    iqr, top, multiple = q3 - q1, values.max(), 1.5
    while top - (q3 + multiple * iqr) >= iqr / 2:
        multiple += 0.05
    while top - (q3 + multiple * iqr) <= 0:
        multiple -= 0.05
    return float(q3 + multiple * iqr)


def test_vhi_baseline_needs_the_normal_sample_and_follows_the_published_thresholds(bone_with_edema):
    from bme_mri.errors import BmeError

    geometry, image, bone, normal, truth = bone_with_edema
    config = load_config()
    with pytest.raises(BmeError, match="needs a normal-marrow sample"):
        quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), geometry), None, config,
                     method="vhi")
    result = quantify_roi(Volume(image, geometry), Volume(bone.astype(np.float32), geometry),
                          Volume(normal.astype(np.float32), geometry), config, method="vhi")
    thresholds = result.details["vhi"]
    assert result.method == "vhi" and thresholds["upper"] == pytest.approx(image[normal].max())
    assert thresholds["lower"] == pytest.approx(_published_vhi_lower(image[normal].astype(np.float64)), rel=1e-6)
    above = bone & (image >= thresholds["lower"])
    assert not (result.edema_mask & ~above).any()  # nothing below the lower threshold
    assert (result.edema_mask & truth).sum() >= 0.95 * truth.sum()  # the bright lesion is in


def test_nan_inside_the_bone_mask_is_refused_not_measured(bone_with_edema):
    geometry, image, bone, normal, _ = bone_with_edema
    holed = image.copy()
    holed[:, :, 10:12] = np.nan
    with pytest.raises(ImageValueError, match=r"inside the bone mask in 2 slices \(k = 10..11\)"):
        quantify_roi(Volume(holed, geometry), Volume(bone.astype(np.float32), geometry), None, load_config())


def test_nan_outside_the_masks_is_set_to_no_signal_with_a_warning_and_changes_nothing(bone_with_edema):
    geometry, image, bone, normal, _ = bone_with_edema
    holed = image.copy()
    holed[:3, :3, :] = np.inf
    holed[-3:, -3:, :] = np.nan
    masks = (Volume(bone.astype(np.float32), geometry), Volume(normal.astype(np.float32), geometry))
    clean = quantify_roi(Volume(image, geometry), *masks, load_config())
    result = quantify_roi(Volume(holed, geometry), *masks, load_config())
    assert np.array_equal(result.edema_mask, clean.edema_mask) and result.edema_ml == clean.edema_ml
    assert len(result.warnings) == 1 and "outside the masks" in result.warnings[0]
