"""Fat-bright heads (T1, T2, PD): the boundary is a step down from bright marrow, fitted by
segment.fatty_marrow, and the classical finder uses it for those sequence classes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from bme_mri.config import load_config
from bme_mri.segment.fatty_marrow import fit_head_step, marrow_is_fat_bright
from bme_mri.segment.heads import find_heads_classical
from bme_mri.types import Geometry, Volume

CENTRE = np.array([90.0, 0.0, 0.0])  # a hip lies ~90 mm from the midline (x = 0 here): a round thing on it is no head
MARROW_R = 21.0  # bright marrow sphere (mm)
CORTEX = 2.0  # dark bone plate outside it (mm)


def _fat_bright_hip(spacing: tuple[float, float, float], shape: tuple[int, int, int],
                    origin: tuple[float, float, float], seed: int = 0) -> Volume:
    """A T2-like hip: bright marrow ball, dark cortex, intermediate cartilage, then dark muscle
    with a bright fat layer further out (no dark shell with bright tissue just outside the
    cortex: the shell fit's assumption fails here)."""
    geometry = Geometry(shape, spacing, origin, np.eye(3))
    idx = np.indices(shape).reshape(3, -1).T
    r = np.linalg.norm(geometry.index_to_lps(idx.astype(float)) - CENTRE, axis=1).reshape(shape)
    image = np.full(shape, 0.25, np.float32)  # muscle
    image[r < MARROW_R + CORTEX + 2.0] = 0.35  # cartilage
    image[r < MARROW_R + CORTEX] = 0.08  # cortex
    image[r < MARROW_R] = 1.3  # fatty marrow
    image[(r > MARROW_R + 14.0) & (r < MARROW_R + 20.0)] = 1.2  # subcutaneous-like fat, far out
    image = ndimage.gaussian_filter(image, [0.6 / s for s in spacing])
    rng = np.random.default_rng(seed)
    image = image + rng.normal(0, 0.03, shape).astype(np.float32)
    return Volume(image.astype(np.float32) * 400.0, geometry, meta={"sequence": "t2"})


@pytest.fixture(scope="module")
def settings():
    return load_config().segment


def _work(volume: Volume, settings):
    from bme_mri.segment.classical import ClassicalSegmenter
    from bme_mri.segment.marrow import smooth_image
    from bme_mri.segment.resample import field_of_view

    segmenter = ClassicalSegmenter(settings)
    geometry, work, _vote, body = segmenter._working_image(volume, None, [])
    spacing = settings.localize.work_spacing_mm
    smooth = smooth_image(work, (spacing,) * 3, 1.0)
    return (smooth, spacing, np.asarray(geometry.origin_lps_mm), field_of_view(volume, geometry),
            float(np.median(work[body])))


def test_sequence_classes_with_fat_bright_marrow(settings):
    loc = settings.localize
    assert marrow_is_fat_bright({"sequence": "t2"}, loc) and marrow_is_fat_bright({"sequence": "T1"}, loc)
    assert not marrow_is_fat_bright({"sequence": "stir"}, loc)
    assert not marrow_is_fat_bright({"sequence": "t2fs"}, loc)
    assert not marrow_is_fat_bright({}, loc)


def test_step_fit_measures_the_bone_surface_of_a_fat_bright_head_on_thick_slices(settings):
    volume = _fat_bright_hip((1.0, 1.0, 4.0), (90, 90, 24), (45.0, -45.0, -46.0))
    smooth, spacing, origin, covered, scale = _work(volume, settings)
    fit = fit_head_step(smooth, spacing, origin, CENTRE + np.array([4.0, -3.0, 3.0]), covered, scale,
                        settings.localize)
    assert fit is not None
    assert np.linalg.norm(fit.center_mm - CENTRE) < 0.8
    assert abs(fit.radius_mm - (MARROW_R + CORTEX)) < 1.0
    assert fit.quality > 0.8 and fit.shell_contrast > 0.5


def test_step_fit_of_a_head_cut_by_the_field_counts_only_the_rays_that_could_see_it(settings):
    # the field ends 8 mm lateral of the centre: a third of the head is not imaged
    volume = _fat_bright_hip((1.0, 1.0, 3.0), (53, 90, 30), (45.0, -45.0, -45.0))
    smooth, spacing, origin, covered, scale = _work(volume, settings)
    fit = fit_head_step(smooth, spacing, origin, CENTRE + np.array([-3.0, 2.0, 0.0]), covered, scale,
                        settings.localize)
    assert fit is not None
    assert np.linalg.norm(fit.center_mm - CENTRE) < 1.5
    assert abs(fit.radius_mm - (MARROW_R + CORTEX)) < 1.5
    assert fit.quality > 0.6  # a fraction of the rays that could show the boundary (inside the field)


def test_step_fit_rejects_a_bright_ball_too_small_for_a_femoral_head(settings):
    geometry = Geometry((60, 60, 30), (1.0, 1.0, 2.0), (60.0, -30.0, -30.0), np.eye(3))
    idx = np.indices(geometry.shape).reshape(3, -1).T
    r = np.linalg.norm(geometry.index_to_lps(idx.astype(float)), axis=1).reshape(geometry.shape)
    image = np.where(r < 8.0, 1.3, 0.2).astype(np.float32) * 400.0  # an 8 mm bright nodule
    volume = Volume(ndimage.gaussian_filter(image, 0.6), geometry, meta={"sequence": "t1"})
    smooth, spacing, origin, covered, scale = _work(volume, settings)
    assert fit_head_step(smooth, spacing, origin, CENTRE, covered, scale, settings.localize) is None


def test_classical_finder_uses_the_step_fit_on_a_t2_series(settings):
    volume = _fat_bright_hip((1.0, 1.0, 4.0), (90, 90, 24), (45.0, -45.0, -46.0), seed=1)
    heads = find_heads_classical(volume, settings)
    assert len(heads) == 1
    assert np.linalg.norm(np.asarray(heads[0].center_lps_mm) - CENTRE) < 1.0
    assert abs(heads[0].radius_mm - (MARROW_R + CORTEX)) < 1.0


def _ring_hip(seed: int = 0) -> Volume:
    """A PD-reference-like head: marrow no brighter than the muscle around it, a dark cortical
    ring between (the step fit's marrow-to-floor drop is the ring, not a step)."""
    shape, spacing, origin = (90, 90, 24), (1.0, 1.0, 4.0), (45.0, -45.0, -46.0)
    geometry = Geometry(shape, spacing, origin, np.eye(3))
    idx = np.indices(shape).reshape(3, -1).T
    r = np.linalg.norm(geometry.index_to_lps(idx.astype(float)) - CENTRE, axis=1).reshape(shape)
    image = np.full(shape, 0.6, np.float32)  # muscle
    image[r < MARROW_R + CORTEX] = 0.1  # cortex
    image[r < MARROW_R] = 0.6  # marrow, as bright as muscle
    image = ndimage.gaussian_filter(image, [0.6 / s for s in spacing])
    image = image + np.random.default_rng(seed).normal(0, 0.02, shape).astype(np.float32)
    return Volume(image.astype(np.float32) * 400.0, geometry, meta={"sequence": "pd"})


@pytest.mark.parametrize("try_shell", [True, False])
def test_where_the_step_fit_fails_the_shell_fit_is_tried(settings, monkeypatch, try_shell):
    """A fat-bright series whose step fit finds no sound sphere (here: made to fail) is
    measured by the cortical-shell fit when ``step_edge_try_shell``; without it, no head."""
    import bme_mri.segment.head_fit as head_fit

    monkeypatch.setattr(head_fit, "fit_head_step", lambda *args, **kwargs: None)
    loc = settings.localize.model_copy(update={"step_edge_try_shell": try_shell})
    heads = find_heads_classical(_ring_hip(), settings.model_copy(update={"localize": loc}))
    if not try_shell:
        assert heads == []
        return
    assert len(heads) == 1
    assert np.linalg.norm(np.asarray(heads[0].center_lps_mm) - CENTRE) < 1.5
    assert abs(heads[0].radius_mm - (MARROW_R + CORTEX)) < 1.5


def test_a_sound_step_fit_is_kept_without_trying_the_shell(settings, monkeypatch):
    """The step fit stays first: at the head, where it is sound, the shell fit is not run
    (other vote peaks, where no step fit holds, may try it)."""
    import bme_mri.segment.head_fit as head_fit

    shell_fit = head_fit.shell_fit

    def shell_away_from_the_head(smooth, spacing, origin, start_mm, scale, loc):
        assert np.linalg.norm(np.asarray(start_mm) - CENTRE) > 5.0, "shell fit tried at a sound step fit"
        return shell_fit(smooth, spacing, origin, start_mm, scale, loc)

    monkeypatch.setattr(head_fit, "shell_fit", shell_away_from_the_head)
    volume = _fat_bright_hip((1.0, 1.0, 4.0), (90, 90, 24), (45.0, -45.0, -46.0), seed=2)
    assert len(find_heads_classical(volume, settings)) == 1
