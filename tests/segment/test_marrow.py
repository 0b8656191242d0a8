"""Reference (lower mode) and edema thresholding rules shared by hip and ROI modes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from bme_mri.config import load_config
from bme_mri.segment.marrow import (
    edema_mask, edema_threshold, lower_mode, reference_from_values,
)


def test_lower_mode_finds_normal_marrow_when_edema_dominates():
    rng = np.random.default_rng(0)
    settings = load_config().segment.reference
    values = np.r_[rng.normal(100, 5, 3000), rng.normal(260, 10, 7000)]
    found = lower_mode(values, settings)
    assert abs(found.mode - 100) < 6
    assert 3 < found.robust_sd < 8


def test_threshold_cuts_a_soft_border_at_half_contrast_whatever_the_noise():
    config = load_config().segment
    rng = np.random.default_rng(2)
    distance = np.linspace(-20, 20, 4000)  # mm from the true border, lesion at negative
    fraction = 1 / (1 + np.exp(distance / 2.0))
    for noise in (1.0, 10.0):
        image = 100 + 200 * fraction + rng.normal(0, noise, distance.size)
        image = image.reshape(40, 100, 1).astype(np.float32)
        marrow = np.ones(image.shape, bool)
        reference = reference_from_values(image[image < 150], "test", config.reference, config.edema)
        threshold = edema_threshold(image, marrow, reference, 0.001, config.edema)
        assert abs(threshold - 200) < 15, f"noise {noise}: threshold {threshold:.0f}"


def test_small_enclosed_normal_island_counts_as_edema_but_a_large_one_does_not():
    config = load_config().segment
    edema_settings = config.edema.model_copy(update={"min_component_ml": 0.0})
    image = np.full((30, 30, 30), 300.0, np.float32)
    image[14:16, 14:16, 14:16] = 100.0  # 8 voxels of 1 mm^3 = 0.008 ml, enclosed
    marrow = np.ones(image.shape, bool)
    marrow[[0, -1], :, :] = marrow[:, [0, -1], :] = marrow[:, :, [0, -1]] = False
    reference = reference_from_values(np.r_[np.full(100, 100.0), np.full(100, 101.0)], "t",
                                      config.reference, config.edema)
    small_rule = edema_settings.model_copy(update={"fill_enclosed_holes_ml": 0.01})
    none_rule = edema_settings.model_copy(update={"fill_enclosed_holes_ml": 0.0})
    with_fill = edema_mask(image, marrow, reference, 200.0, 0.001, small_rule)
    without = edema_mask(image, marrow, reference, 200.0, 0.001, none_rule)
    assert with_fill[14:16, 14:16, 14:16].all()
    assert not without[14:16, 14:16, 14:16].any()


def test_voxel_extent_along_the_surface_normal_follows_the_slice_axis():
    from bme_mri.segment.necrosis import normal_extent_mm

    extent = normal_extent_mm((21, 21, 21), np.array([10.0, 10.0, 10.0]), (1.0, 2.0, 4.0))
    assert extent[20, 10, 10] == pytest.approx(1.0)
    assert extent[10, 20, 10] == pytest.approx(2.0)
    assert extent[10, 10, 20] == pytest.approx(4.0)
    assert 1.0 < extent[20, 20, 20] < 4.0


def test_reference_marrow_keeps_clear_of_the_bone_surface():
    from bme_mri.segment.base import HeadFinding
    from bme_mri.segment.regions import deep_marrow, head_regions
    from bme_mri.types import Geometry, Side

    geometry = Geometry((60, 60, 60), (1.0, 1.0, 1.0), (-30.0, -30.0, -30.0), np.eye(3))
    head = HeadFinding(side=Side.LEFT, center_lps_mm=(0.0, 0.0, 0.0), radius_mm=20.0,
                       neck_axis_lps=(1.0, 0.0, 0.0), junction_distance_mm=15.0,
                       neck_radius_mm=12.0, fit_quality=1.0, fit_residual_mm=0.0, notes=[])
    regions = head_regions(geometry, head, 2.0, 10.0)
    deep = deep_marrow(regions, head, 4.0)
    assert deep.any() and not (deep & ~(regions.head_marrow | regions.neck_marrow)).any()
    assert regions.radial_mm[deep & regions.head_marrow].max() <= 16.0
    off_axis = np.sqrt(regions.radial_mm ** 2 - regions.axial_mm ** 2)
    assert off_axis[deep & regions.neck_marrow].max() <= 8.0


def test_spared_deep_marrow_beside_diffuse_edema_is_the_reference():
    """A lone head filled by edema with 12% spared marrow in the neck: the deep-marrow mode
    search takes the small normal peak (the whole-marrow rule would take the edema)."""
    rng = np.random.default_rng(4)
    reference = load_config().segment.reference
    edema = load_config().segment.edema
    deep = np.r_[rng.normal(140, 20, 1200), rng.normal(600, 30, 8800)]
    assert lower_mode(deep, reference).mode > 450
    found = reference_from_values(deep, "test", reference, edema, mode_values=deep)
    assert abs(found.median - 140) < 10


def test_a_near_lower_peak_of_normal_marrow_does_not_replace_the_main_one():
    """Neck marrow darker than the head's (main peak 1.46 x brighter, under side_ratio_warn) is
    still normal marrow: the main peak stays the reference, or the head's normal marrow would
    be read as edema. (The minority peak alone would qualify at deep_peak_min_fraction.)"""
    rng = np.random.default_rng(5)
    reference = load_config().segment.reference
    edema = load_config().segment.edema
    deep = np.r_[rng.normal(130, 8, 1100), rng.normal(190, 12, 8900)]
    minority = reference.model_copy(update={"peak_min_fraction": reference.deep_peak_min_fraction})
    assert lower_mode(deep, minority).mode < 140
    found = reference_from_values(deep, "test", reference, edema, mode_values=deep)
    assert abs(found.median - 190) < 8


def test_joint_fluid_outside_the_core_region_does_not_lift_the_border():
    """Bright fluid (3x the lesion's contrast) beside a small lesion: measured only where the
    plateau may come from, the border stays at the lesion's half contrast."""
    config = load_config().segment
    rng = np.random.default_rng(5)
    distance = np.linspace(-20, 20, 4000)
    fraction = 1 / (1 + np.exp(distance / 2.0))
    lesion = (100 + 200 * fraction + rng.normal(0, 5.0, distance.size)).reshape(40, 100, 1)
    fluid = np.full((20, 100, 1), 700.0) + rng.normal(0, 5.0, (20, 100, 1))
    image = np.concatenate([lesion, fluid]).astype(np.float32)
    marrow = np.ones(image.shape, bool)
    reference = reference_from_values(image[image < 150], "test", config.reference, config.edema)
    core_region = np.zeros(image.shape, bool)
    core_region[:40] = True  # the marrow clear of the fluid
    lifted = edema_threshold(image, marrow, reference, 0.001, config.edema)
    assert lifted > 300, "fluid in the core sets the plateau (the failure this guards against)"
    threshold = edema_threshold(image, marrow, reference, 0.001, config.edema, core_region)
    assert abs(threshold - 200) < 15, f"threshold {threshold:.0f}"
    mask = edema_mask(image, marrow, reference, threshold, 0.001, config.edema)
    assert mask[:40].sum() > 0.4 * 4000


def _radial_lesion(profile, shape=(61, 61, 61)):
    """A lesion on a 1 mm grid whose signal is ``profile(r)`` (r in mm from the centre)."""
    r = np.linalg.norm(np.indices(shape).transpose(1, 2, 3, 0) - (np.array(shape) - 1) / 2, axis=-1)
    return profile(r).astype(np.float32), r


def test_a_lesion_fading_to_its_margin_is_cut_where_its_own_margin_is_half_bright():
    """Normal marrow 100; a 20 mm lesion at 500 in its middle fading linearly to 300 at its
    margin, then a 2 mm blur to marrow. Half the contrast of its brightest part (300) cuts the
    faded margin off; the local plateau (within 4 mm) puts the border near the true margin."""
    config = load_config().segment
    settings = config.edema
    assert settings.local_plateau_radius_mm > 0
    inside = lambda r: np.where(r <= 20.0, 500.0 - 10.0 * r, 100.0)  # noqa: E731
    sharp, r = _radial_lesion(inside)
    image = ndimage.gaussian_filter(sharp, 2.0)
    marrow = np.ones(image.shape, bool)
    reference = reference_from_values(np.r_[np.full(200, 99.0), np.full(200, 101.0)], "t",
                                      config.reference, config.edema)
    threshold = 100.0 + settings.contrast_fraction * (490.0 - 100.0)  # the global plateau's
    mask_global = edema_mask(image, marrow, reference, threshold, 0.001, settings)
    mask_local = edema_mask(image, marrow, reference, threshold, 0.001, settings, (1.0, 1.0, 1.0))
    true_ml = 4 / 3 * np.pi * 20.0 ** 3 / 1000.0
    global_ml, local_ml = mask_global.sum() / 1000.0, mask_local.sum() / 1000.0
    assert global_ml < 0.8 * true_ml
    assert 0.85 * true_ml < local_ml < 1.05 * true_ml  # within 0.5-1 mm of the true margin
    assert abs(local_ml - true_ml) < 0.5 * abs(global_ml - true_ml)


def test_a_uniform_lesion_keeps_its_half_contrast_border_with_the_local_plateau():
    config = load_config().segment
    settings = config.edema
    sharp, r = _radial_lesion(lambda r: np.where(r <= 10.0, 400.0, 100.0))
    image = ndimage.gaussian_filter(sharp, 1.5)
    marrow = np.ones(image.shape, bool)
    reference = reference_from_values(np.r_[np.full(200, 99.0), np.full(200, 101.0)], "t",
                                      config.reference, config.edema)
    threshold = 250.0
    mask_global = edema_mask(image, marrow, reference, threshold, 0.001, settings)
    mask_local = edema_mask(image, marrow, reference, threshold, 0.001, settings, (1.0, 1.0, 1.0))
    assert abs(int(mask_local.sum()) - int(mask_global.sum())) <= 0.02 * mask_global.sum()


def test_a_noise_wiggle_below_one_broad_peak_is_not_spared_marrow():
    """One broad normal peak (noisy, biased head) whose low tail carries a narrow bump of a few
    hundred voxels 1.6 x below the mode: no dip between them, so it is not spared marrow and the
    main peak stays the reference (it made a whole normal head speckled 'edema')."""
    from bme_mri.segment.marrow import two_populations

    rng = np.random.default_rng(4)
    reference = load_config().segment.reference
    edema = load_config().segment.edema
    deep = np.r_[rng.normal(100, 20, 3000), rng.normal(56, 3, 40)]
    minority = reference.model_copy(update={"peak_min_fraction": reference.deep_peak_min_fraction})
    low = lower_mode(deep, minority).mode
    assert abs(lower_mode(deep, reference).mode - 100) < 5  # the main peak is normal marrow ...
    assert low * reference.side_ratio_warn < lower_mode(deep, reference).mode  # ... and the bump alone would qualify
    assert not two_populations(deep, low, lower_mode(deep, reference).mode, reference)
    found = reference_from_values(deep, "test", reference, edema, mode_values=deep)
    assert abs(found.median - 100) < 10
    spared = np.r_[rng.normal(140, 20, 1200), rng.normal(600, 30, 8800)]
    assert two_populations(spared, 140.0, 600.0, reference)
