"""The working grid's field-of-view mask (segment/resample.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from bme_mri.segment.resample import field_of_view, resample_onto, working_geometry
from bme_mri.types import Geometry, Volume


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_field_of_view_matches_resampling_a_volume_of_ones(seed):
    """The analytic mask equals SimpleITK's linear resampling of ones (> 0.5) on an oblique,
    anisotropic grid: the two definitions of the imaged voxels agree voxel for voxel."""
    rng = np.random.default_rng(seed)
    direction = Rotation.from_euler("xyz", rng.uniform(-25, 25, 3), degrees=True).as_matrix()
    shape = tuple(int(n) for n in rng.integers(12, 30, 3))
    spacing = tuple(float(s) for s in rng.uniform(0.7, 4.0, 3))
    geometry = Geometry(shape, spacing, tuple(rng.uniform(-50, 50, 3)), direction)
    image = Volume(np.ones(shape, np.float32), geometry)
    target = working_geometry(geometry, 1.5)
    expected = resample_onto(image, target) > 0.5
    got = field_of_view(image, target)
    assert got.shape == expected.shape
    assert 0 < got.sum() < got.size  # the oblique box leaves part of its bounding grid empty
    assert (got != expected).sum() <= 1e-4 * got.size  # a voxel exactly on the boundary may round either way


@pytest.mark.parametrize("direction", [
    np.eye(3),
    np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]),  # coronal: rows run along -z
    np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),  # sagittal, x flipped
])
def test_field_of_view_of_an_axis_aligned_image_matches_resampling(direction):
    """An image whose axes are the LPS axes, permuted or flipped (the usual axial, coronal and
    sagittal series): each of its axes depends on one working-grid axis, and the mask still
    equals SimpleITK's resampling of ones, margin or not."""
    geometry = Geometry((23, 17, 9), (1.4, 1.4, 4.0), (12.3, -40.1, 7.7), direction)
    image = Volume(np.ones(geometry.shape, np.float32), geometry)
    target = working_geometry(geometry, 1.5)
    expected = resample_onto(image, target) > 0.5
    got = field_of_view(image, target)
    assert 0 < got.sum() and (got != expected).sum() <= 1e-4 * got.size
    inner = field_of_view(image, target, margin_mm=3.0)
    index = geometry.lps_to_index(target.index_to_lps(np.argwhere(got).astype(np.float64)))
    distance = np.minimum(index + 0.5, np.asarray(geometry.shape) - 0.5 - index) * np.asarray(geometry.spacing_mm)
    assert (inner[got] == (distance >= 3.0 - 1e-6).all(axis=1)).all()


def test_field_of_view_margin_keeps_voxels_that_far_inside_every_face():
    """A 1 mm field of 40 x 30 x 20 voxels on a target grid 10 mm larger on every side: a
    4 mm margin removes the voxels within 4 mm of each face (4 voxel layers a side); on the
    field's own working grid it removes the same layers."""
    geometry = Geometry((40, 30, 20), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))
    image = Volume(np.zeros(geometry.shape, np.float32), geometry)
    wide = Geometry((60, 50, 40), (1.0, 1.0, 1.0), (-10.0, -10.0, -10.0), np.eye(3))
    assert field_of_view(image, wide).sum() == 40 * 30 * 20
    inner = field_of_view(image, wide, margin_mm=4.0)
    assert inner.sum() == (40 - 8) * (30 - 8) * (20 - 8)
    assert inner[14:46, 14:36, 14:26].all()
    own = field_of_view(image, working_geometry(geometry, 1.0), margin_mm=4.0)
    assert own.sum() == (40 - 8) * (30 - 8) * (20 - 8)


@pytest.mark.parametrize("seed", [3, 4])
def test_field_of_view_margin_on_an_oblique_grid_is_the_distance_to_the_face_planes(seed):
    """On an oblique anisotropic field, a working-grid voxel inside the field survives a 4 mm
    margin exactly when it lies at least 4 mm from every face plane (geometric distance along
    the face's normal)."""
    rng = np.random.default_rng(seed)
    direction = Rotation.from_euler("xyz", rng.uniform(10, 30, 3), degrees=True).as_matrix()
    shape = (30, 25, 8)
    spacing = (1.2, 1.2, 4.0)
    geometry = Geometry(shape, spacing, (0.0, 0.0, 0.0), direction)
    image = Volume(np.zeros(shape, np.float32), geometry)
    target = working_geometry(geometry, 1.5)
    full = field_of_view(image, target)
    inner = field_of_view(image, target, margin_mm=4.0)
    points = target.index_to_lps(np.argwhere(full).astype(np.float64))
    index = geometry.lps_to_index(points)
    distance = np.minimum(index + 0.5, np.asarray(shape) - 0.5 - index) * np.asarray(spacing)
    expected = (distance >= 4.0 - 1e-6).all(axis=1)
    assert 0 < expected.sum() < len(expected)
    assert (inner[full] == expected).mean() > 0.999


def test_resampling_onto_the_volumes_own_grid_returns_its_values():
    """A T1 on the STIR's grid (voxel centres within 1e-4 mm) is taken as it is; a grid half a
    voxel off is interpolated."""
    rng = np.random.default_rng(5)
    geometry = Geometry((12, 10, 6), (1.4, 1.4, 4.0), (3.0, -7.0, 11.0), np.eye(3))
    image = Volume(rng.random(geometry.shape).astype(np.float32) * 100, geometry)
    same = resample_onto(image, Geometry(geometry.shape, geometry.spacing_mm, (3.0, -7.0, 11.00001), np.eye(3)))
    assert same.dtype == np.float32 and np.array_equal(same, image.array)
    shifted = resample_onto(image, Geometry(geometry.shape, geometry.spacing_mm, (3.7, -7.0, 11.0), np.eye(3)))
    assert np.allclose(shifted[3, 4, 2], 0.5 * (image.array[3, 4, 2] + image.array[4, 4, 2]), rtol=1e-4)
