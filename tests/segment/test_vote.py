"""The centre vote on a coarse grid (:func:`bme_mri.segment.localize.coarsen`,
:func:`~bme_mri.segment.localize.vote_centres`): spheres built here, no phantom."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.segment.localize import accumulator_peaks, coarse_to_work_index, coarsen, vote_centres


@pytest.mark.parametrize("factor", [2, 3])
def test_coarsen_averages_whole_blocks_and_crops_the_rest(factor):
    rng = np.random.default_rng(0)
    work = rng.random((13, 10, 8)).astype(np.float32)
    body = work > 0.2
    coarse, coarse_body = coarsen(work, body, factor)
    shape = tuple(n // factor for n in work.shape)
    assert coarse.shape == shape and coarse_body.shape == shape
    i, j, k = 1, 2, 1
    block = np.s_[i * factor:(i + 1) * factor, j * factor:(j + 1) * factor, k * factor:(k + 1) * factor]
    assert coarse[i, j, k] == pytest.approx(work[block].mean(), rel=1e-5)
    assert coarse_body[i, j, k] == (body[block].mean() >= 0.5)


def test_factor_one_leaves_the_image_as_it_is():
    work = np.ones((4, 4, 4), np.float32)
    body = work > 0
    coarse, coarse_body = coarsen(work, body, 1)
    assert coarse is work and coarse_body is body


def test_coarse_vote_peaks_at_a_sphere_centre():
    """A 24 mm sphere with a dark 2 mm shell on a 1.5 mm grid: the 3 mm vote's strongest peak,
    mapped back to the working grid, lies within one coarse voxel of the true centre."""
    loc = load_config(None).segment.localize
    spacing, factor = 1.5, 2
    shape = (80, 70, 60)
    centre = np.array([61.0, 52.0, 44.5])  # mm from the origin, off the voxel lattice
    r = np.linalg.norm(np.indices(shape).transpose(1, 2, 3, 0) * spacing - centre, axis=-1)
    work = np.where(r < 22.0, 1.2, np.where(r < 24.0, 0.2, 1.0)).astype(np.float32)
    body = np.ones(shape, bool)
    coarse, coarse_body = coarsen(work, body, factor)
    acc = vote_centres(coarse, spacing * factor, coarse_body, loc)
    idx, _value = accumulator_peaks(acc, spacing * factor, loc)[0]
    found = coarse_to_work_index(idx, factor) * spacing
    assert np.linalg.norm(found - centre) <= spacing * factor


@pytest.mark.parametrize("factor", [2, 3])
def test_a_coarse_voxel_maps_to_the_centre_of_its_block(factor):
    """The coarse voxel's working-grid index is the mean index of the voxels it averages."""
    ramp = np.broadcast_to(np.arange(12, dtype=np.float32)[:, None, None], (12, 6, 6)).copy()
    coarse, _ = coarsen(ramp, np.ones(ramp.shape, bool), factor)
    for i in range(coarse.shape[0]):
        assert coarse_to_work_index(i, factor) == pytest.approx(float(coarse[i, 0, 0]))
