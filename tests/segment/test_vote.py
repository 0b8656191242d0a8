"""The centre vote on a coarse grid (:func:`bme_mri.segment.localize.coarsen`,
:func:`~bme_mri.segment.localize.vote_centres`): spheres built here, no phantom."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

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


def _shaded_spheres(shading: np.ndarray | None = None):
    """Two 24 mm spheres with dark 2 mm shells, 120 mm apart in x, on a 1.5 mm grid."""
    spacing = 1.5
    shape = (140, 60, 60)
    grid = np.indices(shape).transpose(1, 2, 3, 0) * spacing
    work = np.ones(shape, np.float32)
    centres = [np.array([45.0, 45.0, 45.0]), np.array([165.0, 45.0, 45.0])]
    for centre in centres:
        r = np.linalg.norm(grid - centre, axis=-1)
        work = np.where(r < 22.0, 1.2, np.where(r < 24.0, 0.2, work)).astype(np.float32)
    if shading is not None:
        work = work * shading
    return work, spacing, centres


def test_relative_edges_vote_alike_under_a_coil_shading():
    """A surface coil's shading (signal falling 4-fold across x) leaves the shaded sphere's
    edges a quarter as strong: with edges judged by their contrast (vote_relative_scale_mm)
    both spheres' peaks are the two strongest and within 30% of each other."""
    loc = load_config(None).segment.localize
    x = np.linspace(1.0, 0.25, 140, dtype=np.float32)[:, None, None]
    work, spacing, centres = _shaded_spheres(np.broadcast_to(x, (140, 60, 60)))
    body = np.ones(work.shape, bool)
    relative = loc.model_copy(update={"vote_relative_scale_mm": 15.0, "edge_percentile": 97.0})
    absolute = relative.model_copy(update={"vote_relative_scale_mm": 0.0})

    def peaks(settings):
        acc = vote_centres(work, spacing, body, settings)
        return [(idx * spacing, value) for idx, value in accumulator_peaks(acc, spacing, settings)[:2]]

    top = peaks(relative)
    assert sorted(min(np.linalg.norm(p - c) for c in centres) for p, _ in top)[-1] <= 3.0
    assert min(v for _, v in top) >= 0.7 * max(v for _, v in top)
    # the absolute gradient favours the bright side: the test can tell the two apart
    values = {int(p[0] > 105): v for p, v in peaks(absolute)
              if min(np.linalg.norm(p - c) for c in centres) <= 3.0}
    assert 0 in values and values.get(1, 0.0) < 0.7 * values[0]


def test_local_signal_level_follows_a_smooth_field_and_ignores_air():
    """The level of a linear ramp is the ramp (away from the ends), and air outside the body
    does not pull the level down at the body's edge."""
    from bme_mri.segment.localize import local_signal_level

    ramp = np.broadcast_to(np.arange(120, dtype=np.float32)[:, None, None] + 10.0, (120, 40, 40)).copy()
    level = local_signal_level(ramp, np.ones(ramp.shape, bool), 1.5, 6.0)
    assert level.shape == ramp.shape and level.dtype == np.float32
    assert np.allclose(level[30:90, 20, 20], ramp[30:90, 20, 20], atol=1e-3)
    body = np.zeros(ramp.shape, bool)
    body[:, :, :20] = True
    flat = np.where(body, 5.0, 0.0).astype(np.float32)
    edge = local_signal_level(flat, body, 1.5, 15.0)
    assert np.allclose(edge[body], 5.0, atol=1e-3)


def test_the_shared_pass_gradient_is_scipys_gaussian_derivative():
    """gaussian_gradient shares the smoothing along x between the y and z derivatives and keeps
    scipy's order of passes: the same numbers as gaussian_filter with order (1,0,0), (0,1,0),
    (0,0,1)."""
    from scipy import ndimage

    from bme_mri.segment.localize import gaussian_gradient

    work = np.random.default_rng(3).random((23, 17, 11)).astype(np.float32)
    for axis, got in enumerate(gaussian_gradient(work, 1.3)):
        order = tuple(int(axis == b) for b in range(3))
        assert np.array_equal(got, ndimage.gaussian_filter(work, 1.3, order=order))


def _peaks_by_maximum_filter(acc, spacing, settings):
    """The definition: voxels > 0 equal to scipy's maximum filter of the separation's size."""
    size = max(3, int(round(settings.peak_separation_mm / spacing)) | 1)
    maxima = (acc == ndimage.maximum_filter(acc, size=size)) & (acc > 0)
    idx = np.argwhere(maxima)
    return sorted(((tuple(i), float(acc[tuple(i)])) for i in idx), key=lambda p: -p[1])


@pytest.mark.parametrize("seed", range(6))
def test_vote_peaks_are_the_maxima_of_the_separation_cube(seed):
    """Only 3 x 3 x 3 maxima are checked against the cube: the same peaks, strongest first,
    as a maximum filter of the whole array at the separation's size (faces included);
    rounded values make ties and plateaus, which must not lose or add a peak."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(6, 40, 3))
    acc = ndimage.gaussian_filter(rng.poisson(3.0, shape).astype(np.float32), float(rng.uniform(0.7, 2.5)))
    if seed % 2:
        acc = np.round(acc, 1)
    settings = load_config(None).segment.localize.model_copy(update={"n_candidates": 10_000})
    expected = _peaks_by_maximum_filter(acc, 1.5, settings)
    found = [(tuple(int(v) for v in idx), value) for idx, value in accumulator_peaks(acc, 1.5, settings)]
    assert sorted(found) == sorted(expected)
    assert [v for _, v in found] == [v for _, v in expected]  # strongest first
    few = accumulator_peaks(acc, 1.5, settings.model_copy(update={"n_candidates": 3}))
    assert [v for _, v in few] == [v for _, v in expected[:3]]

