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


def test_field_of_view_margin_keeps_voxels_that_far_inside_every_face():
    """An axis-aligned 1 mm field of 40 x 30 x 20 voxels seen on a 1 mm working grid: a 4.5 mm
    margin removes 4 whole voxel layers from each face (voxel centres 3.5 mm from the face
    are closer than 4.5 mm, those 4.5 mm away are kept)."""
    geometry = Geometry((40, 30, 20), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))
    image = Volume(np.zeros(geometry.shape, np.float32), geometry)
    target = working_geometry(geometry, 1.0)
    assert field_of_view(image, target).all()
    inner = field_of_view(image, target, margin_mm=4.0)
    assert inner.sum() == (40 - 8) * (30 - 8) * (20 - 8)
    assert inner[4:-4, 4:-4, 4:-4].all()
