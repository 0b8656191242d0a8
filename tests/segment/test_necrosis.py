"""find_necrosis on a hand-built head: what counts as a lesion boundary and what does not."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.segment.base import HeadFinding, ReferenceMarrow
from bme_mri.segment.marrow import smooth_image
from bme_mri.segment.necrosis import find_necrosis
from bme_mri.segment.regions import head_regions
from bme_mri.types import Geometry, Side

RADIUS_MM = 24.0
MARROW, DARK, NOISE_SD = 100.0, 30.0, 4.0


@pytest.fixture(scope="module")
def config():
    from bme_mri.config import load_config

    return load_config()


def _scene(shape, spacing_mm: float, centre):
    """A head on an isotropic grid: normal marrow inside a 2 mm cortex, neck along +z (LPS)."""
    geometry = Geometry(shape, (spacing_mm,) * 3, (0.0, 0.0, 0.0), np.eye(3))
    centre = np.asarray(centre, float)
    head = HeadFinding(Side.LEFT, tuple(centre), RADIUS_MM, (0.0, 0.0, 1.0), 30.0, 15.0, 0.9, 0.5)
    points = geometry.index_to_lps(np.indices(shape).reshape(3, -1).T.astype(float)).reshape(*shape, 3)
    radial = np.linalg.norm(points - centre, axis=-1)
    image = np.where(radial <= RADIUS_MM - 2.0, MARROW, DARK)
    reference = ReferenceMarrow("test marrow", 1000, MARROW, NOISE_SD * 0.67, MARROW + 7,
                                NOISE_SD, MARROW + 4 * NOISE_SD)
    return geometry, head, points, radial, image, reference


@pytest.fixture
def head_scene():
    """A 1 mm isotropic head (see :func:`_scene`)."""
    return _scene((64, 64, 64), 1.0, (31.5, 31.5, 31.5))


def _necrosis_ml(geometry, head, image, reference, config, t1=None):
    settings = config.segment.necrosis
    regions = head_regions(geometry, head, config.segment.edema.cortex_thickness_mm,
                           config.segment.neck.neck_length_mm)
    noisy = image + np.random.default_rng(3).normal(0.0, NOISE_SD, image.shape)
    centre = geometry.lps_to_index(np.asarray(head.center_lps_mm)) - np.array(
        [b.start for b in regions.box])
    t1_box = None if t1 is None else t1[regions.box]
    lesion = find_necrosis(noisy[regions.box], t1_box, regions, reference, head, centre,
                           geometry.spacing_mm, settings)
    return float(lesion.sum()) * geometry.voxel_volume_ml


def test_a_band_that_meets_the_subchondral_plate_bounds_a_lesion(head_scene, config):
    geometry, head, points, radial, image, reference = head_scene
    pole = np.asarray(head.center_lps_mm) + np.array([0.0, 0.0, -RADIUS_MM])  # articular pole
    from_pole = np.linalg.norm(points - pole, axis=-1)
    image = image.copy()
    image[(from_pole >= 11.0) & (from_pole <= 12.5) & (radial <= RADIUS_MM - 2.0)] = DARK
    assert _necrosis_ml(geometry, head, image, reference, config) > 1.0


def test_a_dark_blob_deep_in_the_marrow_is_not_a_lesion_boundary(head_scene, config):
    geometry, head, points, radial, image, reference = head_scene
    blob_centre = np.asarray(head.center_lps_mm) + np.array([0.0, 0.0, -(RADIUS_MM - 14.0)])
    image = image.copy()
    image[np.linalg.norm(points - blob_centre, axis=-1) <= 3.0] = DARK
    assert _necrosis_ml(geometry, head, image, reference, config) == 0.0


def _band_image(head_scene):
    geometry, head, points, radial, image, reference = head_scene
    pole = np.asarray(head.center_lps_mm) + np.array([0.0, 0.0, -RADIUS_MM])
    from_pole = np.linalg.norm(points - pole, axis=-1)
    band = (from_pole >= 11.0) & (from_pole <= 12.5) & (radial <= RADIUS_MM - 2.0)
    return band, np.where(band, DARK, image)


def test_a_stir_band_the_t1_does_not_show_is_not_a_lesion(head_scene, config):
    """A sclerotic band is dark on every sequence: one the T1 shows normal is STIR noise."""
    geometry, head, points, radial, image, reference = head_scene
    band, stir = _band_image(head_scene)
    t1_normal = np.where(radial <= RADIUS_MM - 2.0, 500.0, 50.0)
    assert _necrosis_ml(geometry, head, stir, reference, config) > 1.0  # STIR alone: a lesion
    assert _necrosis_ml(geometry, head, stir, reference, config, t1=t1_normal) == 0.0
    t1_band = np.where(band, 100.0, t1_normal)  # the band dark on the T1 as well
    assert _necrosis_ml(geometry, head, stir, reference, config, t1=t1_band) > 1.0


def _with_necrosis(config, **changes):
    """``config`` with some segment.necrosis settings changed (settings are frozen)."""
    necrosis = config.segment.necrosis.model_copy(update=changes)
    return config.model_copy(update={"segment": config.segment.model_copy(update={"necrosis": necrosis})})


@pytest.fixture
def thick_slice_lesion():
    """A head on 1.8 x 1.8 x 4 mm voxels (slices along z, the neck along +z) with a 0.26 ml
    subchondral lesion at the lateral pole (in plane): an ellipsoid 5.5 mm deep and 8 mm wide
    centred on the head surface, a 2 mm band dark on STIR, marrow-like inside."""
    shape, spacing = (44, 44, 24), (1.8, 1.8, 4.0)
    geometry = Geometry(shape, spacing, (0.0, 0.0, 0.0), np.eye(3))
    centre = np.array([(n - 1) * s / 2 for n, s in zip(shape, spacing)])
    head = HeadFinding(Side.LEFT, tuple(centre), RADIUS_MM, (0.0, 0.0, 1.0), 30.0, 15.0, 0.9, 0.5)
    points = geometry.index_to_lps(np.indices(shape).reshape(3, -1).T.astype(float)).reshape(*shape, 3)
    marrow = np.linalg.norm(points - centre, axis=-1) <= RADIUS_MM - 2.0
    direction = np.array([-1.0, 0.0, 0.0])
    rel = points - (centre + RADIUS_MM * direction)
    along = rel @ direction
    across = np.linalg.norm(rel - along[..., None] * direction, axis=-1)

    def inside(depth_mm, width_mm):
        return marrow & ((along / depth_mm) ** 2 + (across / width_mm) ** 2 <= 1.0)

    lesion = inside(5.5, 8.0)
    band = lesion & ~inside(3.5, 6.0)
    stir = np.where(band, DARK, np.where(marrow, MARROW, DARK))
    t1_normal = np.where(marrow, 500.0, 50.0)
    reference = ReferenceMarrow("test marrow", 1000, MARROW, NOISE_SD * 0.67, MARROW + 7,
                                NOISE_SD, MARROW + 4 * NOISE_SD)
    return geometry, head, stir, reference, lesion, band, t1_normal


def test_a_small_lesion_on_thick_slices_is_found_with_its_shell_margin(thick_slice_lesion, config):
    """The band is not looked for in the partial-volume shell (4 mm deep here): the lesion's
    margin there is added back, so a 0.26 ml lesion is not measured under the 0.2 ml floor."""
    geometry, head, stir, reference, lesion, band, _ = thick_slice_lesion
    true_ml = float(lesion.sum()) * geometry.voxel_volume_ml
    found = _necrosis_ml(geometry, head, stir, reference, config)
    assert found >= config.segment.necrosis.min_ml
    assert abs(found - true_ml) <= 0.1
    no_margin = _with_necrosis(config, shell_margin_voxels=0)
    assert _necrosis_ml(geometry, head, stir, reference, no_margin) == 0.0  # the cap alone is under the floor


def test_a_band_piece_under_band_min_ml_counts_only_when_the_t1_confirms_it(thick_slice_lesion, config):
    """A piece smaller than band_min_ml (here raised above the whole band) is a band only when
    at least band_small_t1_fraction of it is dark on the T1: never on the STIR alone."""
    geometry, head, stir, reference, lesion, band, t1_normal = thick_slice_lesion
    strict = _with_necrosis(config, band_min_ml=1.0)  # every piece of this band is "small"
    t1_band = np.where(band, 100.0, t1_normal)
    assert _necrosis_ml(geometry, head, stir, reference, strict, t1=t1_band) >= 0.2
    assert _necrosis_ml(geometry, head, stir, reference, strict, t1=t1_normal) == 0.0
    assert _necrosis_ml(geometry, head, stir, reference, strict) == 0.0  # no T1: no evidence
    fewer = _with_necrosis(strict, band_small_min_voxels=int(band.sum()) + 1)  # too few voxels
    assert _necrosis_ml(geometry, head, stir, reference, fewer, t1=t1_band) == 0.0


def test_noise_on_thick_slices_with_a_normal_t1_gives_no_necrosis(thick_slice_lesion, config):
    """Specificity: a normal head at low SNR (STIR noise sd 15 % of marrow), T1 normal."""
    geometry, head, stir, reference, lesion, band, t1_normal = thick_slice_lesion
    normal = np.where(band, MARROW, stir)
    loud = ReferenceMarrow("test marrow", 1000, MARROW, 10.0, MARROW + 15, 15.0, MARROW + 60)
    rng = np.random.default_rng(11)
    for _ in range(5):
        noisy_t1 = t1_normal + rng.normal(0.0, 40.0, t1_normal.shape)
        shifted = normal + rng.normal(0.0, 11.0, normal.shape)  # plus the helper's own noise
        assert _necrosis_ml(geometry, head, shifted, loud, config, t1=noisy_t1) == 0.0


def test_a_band_whose_voxels_touch_only_at_edges_is_one_boundary(config):
    """On voxels larger than the band closing (2 mm here, closing 1.5 mm), a thin oblique band
    comes out as voxels that meet at edges and corners, not faces (a digital surface one voxel
    thick is 26-connected): taken as one piece it bounds a lesion; voxel by voxel it is noise."""
    shape = (34, 34, 34)
    geometry, head, points, radial, image, reference = _scene(shape, 2.0, (33.0, 33.0, 33.0))
    centre = np.asarray(head.center_lps_mm)
    from_pole = np.linalg.norm(points - (centre + np.array([0.0, 0.0, -RADIUS_MM])), axis=-1)
    band = (from_pole >= 11.0) & (from_pole <= 12.5) & (radial <= RADIUS_MM - 2.0)
    checker = (np.indices(shape).sum(axis=0) % 2) == 0  # no two kept voxels share a face
    assert config.segment.necrosis.band_closing_mm < 2.0
    image = np.where(band & checker, DARK, image)
    assert _necrosis_ml(geometry, head, image, reference, config) > 0.5


def test_band_core_drops_the_voxels_that_hold_only_a_sliver_of_the_band():
    from bme_mri.segment.necrosis import band_core

    rng = np.random.default_rng(7)
    smooth = np.full((12, 12, 6), MARROW) + rng.normal(0.0, 1.0, (12, 12, 6))
    piece = np.zeros(smooth.shape, dtype=bool)
    piece[2:10, 2:10, 2:4] = True
    smooth[2:10, 2:10, 2] = 30.0  # the band itself
    smooth[2:10, 2:10, 3] = 85.0  # a slice that grazes it (partial volume, under the band level)
    smooth[5, 5, 2] = 160.0  # a bright voxel the closing bridged (an inner line): kept
    band_level = 90.0
    core = band_core(piece, smooth, MARROW, band_level, 10)
    assert core[2:10, 2:10, 2].all() and not core[:, :, 3].any()
    assert not (core & ~piece).any()
    # a piece nowhere darker than the band level on the STIR (dark on the T1 only) stays whole
    assert np.array_equal(band_core(piece, np.full(smooth.shape, MARROW), MARROW, band_level, 10), piece)


def test_a_band_on_thick_slices_casts_no_lesion_from_its_partial_volume_slice(config):
    """A lesion at the pole on 4 mm axial slices: its band fills one slice, and the slice
    beneath holds a sliver of it (a fifth of the band's contrast, under the band level). With
    band_half_contrast the lesion is the cap above the band; without, the sliver counts as
    band, and the band two slices thick leaves too little marrow inside: the lesion is lost."""
    from dataclasses import replace

    geometry = Geometry((48, 48, 16), (1.0, 1.0, 4.0), (0.0, 0.0, 0.0), np.eye(3))
    points = geometry.index_to_lps(np.indices(geometry.shape).reshape(3, -1).T.astype(float)).reshape(48, 48, 16, 3)
    centre = np.array([23.5, 23.5, 30.0])
    head = HeadFinding(Side.LEFT, tuple(centre), RADIUS_MM, (0.0, 0.0, 1.0), 30.0, 15.0, 0.9, 0.5)
    radial = np.linalg.norm(points - centre, axis=-1)
    marrow = radial <= RADIUS_MM - 2.0
    image = np.where(marrow, MARROW, DARK)
    depth_z = points[..., 2] - (centre[2] - RADIUS_MM)  # under the upper pole along z (mm): 2, 6, 10, 14, ...
    cap = marrow & (depth_z <= 10.5)  # the slices at 2 (cortex), 6 and 10 mm
    image = np.where(marrow & (np.abs(depth_z - 10.0) < 1.0), DARK, image)  # the band: the 10 mm slice
    sliver = marrow & (np.abs(depth_z - 14.0) < 1.0)
    image = np.where(sliver, MARROW - 0.2 * (MARROW - DARK), image)
    reference = ReferenceMarrow("test marrow", 1000, MARROW, NOISE_SD * 0.67, MARROW + 7,
                                NOISE_SD, MARROW + 4 * NOISE_SD)
    off_settings = config.segment.necrosis.model_copy(update={"band_half_contrast": False})
    off_config = config.model_copy(update={"segment": config.segment.model_copy(update={"necrosis": off_settings})})
    on = _necrosis_ml(geometry, head, image, reference, config)
    off = _necrosis_ml(geometry, head, image, reference, off_config)
    truth_ml = float(cap.sum()) * geometry.voxel_volume_ml
    sliver_ml = float(sliver.sum()) * geometry.voxel_volume_ml
    assert abs(on - truth_ml) <= 0.05 * truth_ml, (on, truth_ml)
    assert abs(off - truth_ml) > 0.3 * truth_ml, (off, truth_ml, sliver_ml)


def test_band_image_sd_is_the_lower_half_spread_and_never_under_the_reference_sd():
    from bme_mri.segment.necrosis import band_image_sd

    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(100.0, 10.0, 20000), rng.normal(300.0, 20.0, 5000)])  # marrow + edema
    assert band_image_sd(values, 100.0, 4.0) == pytest.approx(10.0, rel=0.05)
    assert band_image_sd(values, 100.0, 15.0) == 15.0  # never under the reference's own sd
    assert band_image_sd(np.array([120.0, 130.0, 99.0]), 100.0, 4.0) == 4.0  # too few to tell


def test_stir_noise_on_thick_slices_without_a_t1_gives_no_necrosis(config):
    """Specificity without a T1: a normal head on 1.8 x 1.8 x 4 mm voxels at marrow SNR ~4
    (Rician), the reference sd measured as the pipeline does, on the edema image (smoothed
    1.0 mm). The band is sought on an image smoothed 0.7 mm, whose noise is larger: in the
    reference's units the band level passes noise clusters that meet every band rule."""
    shape, spacing = (44, 44, 24), (1.8, 1.8, 4.0)
    geometry = Geometry(shape, spacing, (0.0, 0.0, 0.0), np.eye(3))
    centre = np.array([(n - 1) * s / 2 for n, s in zip(shape, spacing)])
    head = HeadFinding(Side.LEFT, tuple(centre), RADIUS_MM, (0.0, 0.0, 1.0), 30.0, 15.0, 0.9, 0.5)
    points = geometry.index_to_lps(np.indices(shape).reshape(3, -1).T.astype(float)).reshape(*shape, 3)
    radial = np.linalg.norm(points - centre, axis=-1)
    clean = np.where(radial <= RADIUS_MM - 2.0, MARROW, 20.0)
    regions = head_regions(geometry, head, config.segment.edema.cortex_thickness_mm,
                           config.segment.neck.neck_length_mm)
    box_centre = geometry.lps_to_index(centre) - np.array([b.start for b in regions.box])
    old_rule = config.segment.necrosis.model_copy(update={"band_sd_from_band_image": False})
    found, found_old = [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        image = np.hypot(clean + rng.normal(0.0, 25.0, shape), rng.normal(0.0, 25.0, shape))
        deep = smooth_image(image, spacing, config.segment.edema.smoothing_sigma_mm)[radial <= RADIUS_MM - 5.0]
        median = float(np.median(deep))
        sd = 1.4826 * float(np.median(median - deep[deep <= median]))
        reference = ReferenceMarrow("test marrow", 1000, median, sd * 0.67, median + 7, sd, median + 4 * sd)
        for rule, out in ((config.segment.necrosis, found), (old_rule, found_old)):
            lesion = find_necrosis(image[regions.box], None, regions, reference, head, box_centre, spacing, rule)
            out.append(float(lesion.sum()) * geometry.voxel_volume_ml)
    assert found == [0.0] * 6
    assert max(found_old) >= config.segment.necrosis.min_ml  # the reference's sd: false necrosis


def test_a_gap_in_the_band_leaves_no_hole_in_the_lesion(head_scene, config):
    """Where the band is missed in a column two voxels wide (partial volume, noise), the cap
    cast from the rest of it has a hole there; the closing fills it and adds little else."""
    geometry, head, points, radial, image, reference = head_scene
    centre = np.asarray(head.center_lps_mm)
    pole = centre + np.array([0.0, 0.0, -RADIUS_MM])
    from_pole = np.linalg.norm(points - pole, axis=-1)
    inside = radial <= RADIUS_MM - 2.0
    band = (from_pole >= 11.0) & (from_pole <= 12.5) & inside
    off_axis = np.linalg.norm((points - centre)[..., :2] - np.array([4.0, 0.0]), axis=-1)
    gap = band & (off_axis <= 0.75)  # the band missing in a column two voxels wide near the pole
    assert 0 < gap.sum() <= 12
    no_closing = _with_necrosis(config, lesion_closing_voxels=0)
    intact = _necrosis_ml(geometry, head, np.where(band, DARK, image), reference, no_closing)
    image = np.where(band & ~gap, DARK, image)
    closed = _necrosis_ml(geometry, head, image, reference, config)
    open_cap = _necrosis_ml(geometry, head, image, reference, no_closing)
    assert intact - open_cap >= 20 * geometry.voxel_volume_ml  # the hole runs through the cap
    assert intact <= closed <= 1.02 * intact, (closed, intact, open_cap)  # filled; little else added


def test_close_gaps_fills_a_one_voxel_hole_and_keeps_the_array_edge():
    from bme_mri.segment.necrosis import close_gaps

    mask = np.zeros((9, 9, 9), bool)
    mask[0:5, 2:7, 2:7] = True  # touches the array's edge
    mask[2, 4, 4] = False
    closed = close_gaps(mask, 1)
    assert closed[2, 4, 4] and closed[0, 2:7, 2:7].all()
    assert not (closed & ~mask).sum() > 1  # nothing but the hole
