"""Masks from other tools: same grid within rounding, other grids resampled, disjoint refused."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.errors import GeometryError, ImageValueError
from bme_mri.quantify.grid import mask_on_grid
from bme_mri.types import Geometry, Volume

TOLERANCE_VOXEL = 0.01  # configs/default.yaml quantify.roi.grid_tolerance_voxel


def _oblique_direction(angle_deg: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])


@pytest.fixture
def image_geometry() -> Geometry:
    return Geometry((60, 50, 12), (0.6, 0.6, 3.3), (-20.0, 15.0, -40.0), _oblique_direction(25.0))


def test_mask_whose_affine_differs_by_1e4_mm_is_the_same_grid_without_warning(image_geometry):
    rng = np.random.default_rng(0)
    mask = rng.random(image_geometry.shape) > 0.7
    origin = tuple(o + d for o, d in zip(image_geometry.origin_lps_mm, (1e-4, -1e-4, 1e-4)))
    direction = image_geometry.direction_lps + 1e-7  # float32-like rounding of the direction
    nudged = Geometry(image_geometry.shape, image_geometry.spacing_mm, origin, direction)
    result = mask_on_grid(image_geometry, Volume(mask.astype(np.float32), nudged), "bone mask", TOLERANCE_VOXEL)
    assert result.warning is None
    assert 0 < result.offset_voxel < TOLERANCE_VOXEL
    assert np.array_equal(result.array, mask)


def test_mask_on_a_twice_coarser_grid_is_resampled_onto_the_right_voxels(image_geometry):
    coarse = Geometry((30, 25, 6), (1.2, 1.2, 6.6),
                      tuple(image_geometry.index_to_lps(np.array([[0.5, 0.5, 0.5]]))[0]),
                      image_geometry.direction_lps)
    coarse_mask = np.zeros(coarse.shape, dtype=bool)
    coarse_mask[5:15, 8:20, 1:4] = True
    result = mask_on_grid(image_geometry, Volume(coarse_mask.astype(np.float32), coarse, {"source": "c.nii.gz"}),
                          "bone mask", TOLERANCE_VOXEL)
    assert result.warning is not None and "resampled" in result.warning and "c.nii.gz" in result.warning
    assert "\n" not in result.warning
    # each coarse voxel covers exactly 2 x 2 x 2 fine voxels
    expected = np.zeros(image_geometry.shape, dtype=bool)
    expected[10:30, 16:40, 2:8] = True
    assert np.array_equal(result.array, expected)


def test_mask_shifted_by_half_a_voxel_is_resampled_with_a_warning(image_geometry):
    mask = np.zeros(image_geometry.shape, dtype=bool)
    mask[20:40, 10:30, 3:9] = True
    shift = image_geometry.direction_lps[:, 0] * 0.6 * 0.4  # 0.4 voxel along i
    origin = tuple(np.asarray(image_geometry.origin_lps_mm) + shift)
    moved = Geometry(image_geometry.shape, image_geometry.spacing_mm, origin, image_geometry.direction_lps)
    result = mask_on_grid(image_geometry, Volume(mask.astype(np.float32), moved), "bone mask", TOLERANCE_VOXEL)
    assert result.warning is not None and "0.4 voxel" in result.warning
    assert np.array_equal(result.array, mask)  # nearest neighbour: a 0.4 voxel shift keeps every voxel


def test_mask_that_does_not_overlap_the_image_is_a_one_line_error(image_geometry):
    mask = np.ones(image_geometry.shape, dtype=np.float32)
    far = Geometry(image_geometry.shape, image_geometry.spacing_mm, (500.0, 500.0, 500.0),
                   image_geometry.direction_lps)
    with pytest.raises(GeometryError) as err:
        mask_on_grid(image_geometry, Volume(mask, far, {"source": "far.nii.gz"}), "bone mask", TOLERANCE_VOXEL)
    message = str(err.value)
    assert "far.nii.gz" in message and "does not overlap" in message and "\n" not in message


def test_mask_mostly_outside_the_image_is_used_with_a_warning_that_says_so_first(image_geometry):
    mask = np.zeros(image_geometry.shape, bool)
    mask[10:50, 10:40, 2:10] = True
    shift = image_geometry.direction_lps @ np.array([40 * 0.6, 0.0, 0.0])  # 40 voxels along i: 25% inside
    moved = Geometry(image_geometry.shape, image_geometry.spacing_mm,
                     tuple(np.add(image_geometry.origin_lps_mm, shift)), image_geometry.direction_lps)
    mostly_out = mask_on_grid(image_geometry, Volume(mask.astype(np.float32), moved), "bone mask", 0.01)
    assert mostly_out.warning.startswith("only 25% of bone mask lies inside the image: was it drawn on this image")
    assert mostly_out.array.sum() == mask[:20].sum()  # the part inside is kept
    near = Geometry(image_geometry.shape, image_geometry.spacing_mm,
                    tuple(np.add(image_geometry.origin_lps_mm, shift / 10)), image_geometry.direction_lps)
    kept = mask_on_grid(image_geometry, Volume(mask.astype(np.float32), near), "bone mask", 0.01)
    assert kept.warning and "100% of its volume inside the image" in kept.warning


@pytest.mark.parametrize("values, why", [
    (lambda rng, shape: rng.normal(300, 50, shape).astype(np.float32), "neither whole labels"),
    (lambda rng, shape: rng.integers(0, 2000, shape).astype(np.int16), "distinct values"),
    (lambda rng, shape: np.where(rng.random(shape) > 0.5, np.nan, 1.0).astype(np.float32), "not finite"),
])
def test_an_image_passed_as_a_mask_is_refused(image_geometry, values, why):
    array = values(np.random.default_rng(1), image_geometry.shape)
    with pytest.raises(ImageValueError, match=why):
        mask_on_grid(image_geometry, Volume(array, image_geometry, {"source": "stir.nii.gz"}), "bone mask", 0.01)


def test_a_soft_mask_within_0_and_1_is_cut_at_one_half(image_geometry):
    soft = np.zeros(image_geometry.shape, np.float32)
    soft[5:20, 5:20, 2:5] = 0.8
    soft[30:45, 5:20, 2:5] = 0.3
    kept = mask_on_grid(image_geometry, Volume(soft, image_geometry), "bone mask", 0.01).array
    assert kept.sum() == 15 * 15 * 3 and kept[10, 10, 3] and not kept[35, 10, 3]


def test_a_multi_label_mask_is_still_a_mask(image_geometry):
    labels = np.zeros(image_geometry.shape, np.float32)
    labels[5:20, 5:20, 2:5], labels[30:45, 5:20, 2:5] = 1, 2  # e.g. sacrum 1, ilium 2
    assert mask_on_grid(image_geometry, Volume(labels, image_geometry), "bone mask", 0.01).array.sum() == 2 * 15 * 15 * 3


def test_a_probability_map_and_float_noise_around_labels_are_masks(image_geometry):
    rng = np.random.default_rng(2)
    probability = rng.random(image_geometry.shape).astype(np.float32)  # thousands of values in 0..1
    kept = mask_on_grid(image_geometry, Volume(probability, image_geometry), "bone mask", 0.01).array
    assert np.array_equal(kept, probability > 0.5)
    labels = np.zeros(image_geometry.shape, np.float32)
    labels[5:20, 5:20, 2:5] = 2.0000002  # a resampler's overshoot around label 2
    labels[0, 0, 0] = -1e-7
    assert mask_on_grid(image_geometry, Volume(labels, image_geometry), "bone mask", 0.01).array.sum() == 675
