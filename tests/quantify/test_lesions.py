"""Lesion model of ROI mode: normal marrow's own level and texture, dark-side seeds, growth,
vessels, speckle, surface fluid, the volume range."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from bme_mri.config import load_config
from bme_mri.quantify import dice, quantify_roi
from bme_mri.quantify.lesions import _is_tubular, noise_seed_sd, seed_level
from bme_mri.quantify.normal_field import local_level
from bme_mri.types import Geometry, Volume

GEOMETRY = Geometry((80, 80, 16), (0.6, 0.6, 3.0), (-24.0, -24.0, -24.0), np.eye(3))


def _grid_mm() -> np.ndarray:
    return GEOMETRY.index_to_lps(np.indices(GEOMETRY.shape).reshape(3, -1).T).reshape(*GEOMETRY.shape, 3)


def _bone(rng: np.random.Generator, noise_sd: float = 8.0):
    """A box of bone (normal marrow 100, noise ``noise_sd``) with a normal-marrow sample."""
    xyz = _grid_mm()
    bone = np.all(np.abs(xyz[..., :2]) <= 20.0, axis=-1) & (np.abs(xyz[..., 2]) <= 18.0)
    image = np.where(bone, 100.0, 30.0) + rng.normal(0, noise_sd, GEOMETRY.shape)
    normal = bone & (np.linalg.norm(xyz[..., :2] - np.array([-10.0, -10.0]), axis=-1) <= 5.0)
    return xyz, bone, image, normal


def _run(image, bone, normal=None, config=None):
    return quantify_roi(Volume(image.astype(np.float32), GEOMETRY), Volume(bone.astype(np.float32), GEOMETRY),
                        None if normal is None else Volume(normal.astype(np.float32), GEOMETRY),
                        config or load_config())


def test_normal_marrow_with_noise_rarely_gives_a_lesion():
    """Pure noise: the dark side cannot vouch for its few extreme blobs, and the Gaussian-field
    floor keeps a false seed to about 5% of scans: 2 x 8 noise-only scans may show one or two."""
    false = []
    for seed in range(8):
        _, bone, image, normal = _bone(np.random.default_rng(100 + seed))
        for reference in (normal, None):
            result = _run(image, bone, reference)
            if result.edema_ml > 0:
                false.append((seed, reference is None, result.edema_ml))
    assert len(false) <= 2, false


def test_textured_marrow_raises_the_seed_level_so_its_bright_blobs_are_not_lesions():
    """Marrow whose texture (blobs a few mm across) is heavier than its noise, and one region of
    it a shade brighter than the rest (red marrow, shading): bright texture blobs are as many as
    dark ones, so the seed level rises above them, and the brighter region is followed by the
    local level; a lesion far brighter than the texture is still found."""
    rng = np.random.default_rng(12)
    xyz, bone, image, normal = _bone(rng, noise_sd=3.0)
    texture = ndimage.gaussian_filter(rng.normal(size=GEOMETRY.shape), (3.0, 3.0, 0.6))
    image = image + bone * 25.0 * texture / texture[bone].std()
    image = image + bone * 20.0 * np.clip((xyz[..., 1] - 4.0) / 8.0, 0.0, 1.0)  # a smooth shade brighter
    lesion = np.linalg.norm((xyz - np.array([-6.0, 8.0, 0.0])) * np.array([1.0, 1.0, 0.5]), axis=-1) <= 6.0
    result = _run(image + bone * lesion * 250.0, bone)
    far = np.linalg.norm((xyz - np.array([-6.0, 8.0, 0.0])) * np.array([1.0, 1.0, 0.5]), axis=-1) > 12.0
    assert (result.edema_mask & (xyz[..., 1] > 4.0) & far).sum() * GEOMETRY.voxel_volume_ml < 0.5
    assert dice(result.edema_mask, bone & lesion) >= 0.7, result.details
    assert result.edema_ml <= 2.0 * (bone & lesion).sum() * GEOMETRY.voxel_volume_ml


def test_seed_level_counts_dark_blobs_against_bright_ones():
    z = np.zeros((40, 40, 4), dtype=np.float32)
    deep = np.ones_like(z, dtype=bool)
    default = load_config().quantify.roi  # seed_false_discovery_rate 0: above every dark blob
    fdr = default.model_copy(update={"seed_false_discovery_rate": 0.25})
    for k, (i, j) in enumerate([(5, 5), (5, 20), (20, 5)]):
        z[i:i + 4, j:j + 4, 1] = 6.0 + k  # three bright blobs (16 voxels, 6-8 sd)
    z[30:34, 5:9, 2] = -4.5  # one dark blob to -4.5 sd: normal texture reaches 4.5 sd
    for settings in (default, fdr):  # 1 dark for 3 bright is too many for either
        u, bright, dark = seed_level(z, deep, voxel_ml=0.001, settings=settings)
        assert 4.5 <= u <= 4.75 and dark == 0 and bright == 3
    z[20:24, 20:24, 1] = 9.0
    z[30:34, 30:34, 1] = 10.0  # five bright blobs for one dark: 1 <= 0.25 x 5 holds at once
    u, bright, dark = seed_level(z, deep, voxel_ml=0.001, settings=fdr)
    assert u == 2.0 and dark == 1 and bright == 5
    u, bright, dark = seed_level(z, deep, voxel_ml=0.001, settings=default)
    assert 4.5 <= u <= 4.75 and dark == 0 and bright == 5  # the family-wise rule still waits
    z[30:34, 12:16, 2] = -9.5  # a deeper dark blob: the seeds must stand above it
    u, bright, dark = seed_level(z, deep, voxel_ml=0.001, settings=default)
    assert 9.5 <= u <= 9.75 and bright == 1


def test_noise_floor_follows_the_family_false_positive_rate():
    rng = np.random.default_rng(2)
    sigma_mm, spacing = 1.0, (0.6, 0.6, 3.0)
    field = []
    for _ in range(40):  # smoothed white noise in a 60 x 60 x 10 bone: count scans with a blob above u
        noise = ndimage.gaussian_filter(rng.normal(size=(100, 100, 10)), [sigma_mm / s for s in spacing])
        noise = noise[20:80, 20:80]  # clear of the array edge, where the filter's reflection adds variance
        field.append(noise / noise.std())
    bone = np.ones((60, 60, 10), dtype=bool)
    u, resels = noise_seed_sd(bone, spacing, sigma_mm, 0.05)
    assert 3.5 < u < 5.5 and resels > 100
    u_loose, _ = noise_seed_sd(bone, spacing, sigma_mm, 0.5)
    assert u_loose < u
    exceeded = sum(float(f.max()) > u for f in field)
    exceeded_loose = sum(float(f.max()) > u_loose for f in field)
    assert exceeded <= 6 and exceeded_loose >= 8  # about 5% and about 40-50% of the 40 scans


def test_local_level_is_a_mean_over_normal_voxels_only():
    image = np.zeros((30, 30, 3), dtype=np.float32)
    image[:, 15:] = 100.0  # a bright half that is not normal marrow
    normal = np.zeros_like(image, dtype=bool)
    normal[:, :15] = True
    image[:, :15] = 40.0
    level = local_level(image, normal, (1.0, 1.0, 1.0), 3.0)
    assert np.allclose(level[:, :15], 40.0, atol=1e-3)
    assert np.allclose(level[:, 15:18], 40.0, atol=1e-3)  # next to normal marrow: its level, not 100


def test_lesion_border_is_where_marrow_stops_looking_brighter():
    """A 12 mm lesion with a soft border: the mask reaches past the half-contrast contour, as
    readers outline, but not past where the lesion fades into the noise."""
    xyz, bone, image, normal = _bone(np.random.default_rng(3))
    distance = np.linalg.norm((xyz - np.array([4.0, 2.0, 0.0])) * np.array([1.0, 1.0, 0.5]), axis=-1)
    fraction = 1.0 / (1.0 + np.exp((distance - 12.0) / 1.5))
    image = image + bone * 150.0 * fraction
    half = bone & (fraction >= 0.5)
    faint = bone & (fraction >= 0.02)
    for reference in (normal, None):
        result = _run(image, bone, reference)
        assert (result.edema_mask & half).sum() >= 0.97 * half.sum()
        assert (result.edema_mask & ~faint).sum() <= 0.02 * result.edema_mask.sum()
        low, high = result.edema_ml_range
        assert low <= result.edema_ml <= high and high - low < 0.5 * result.edema_ml


def test_tubular_components_are_vessels_and_blobs_are_not():
    """Rule 4 on component masks: a 1 mm-radius tube 30 mm long is a vessel; a 6 mm blob, and a
    short 1 mm speck through two slices, are not tubes."""
    spacing = GEOMETRY.spacing_mm
    settings = load_config().quantify.roi
    xyz = _grid_mm()
    tube = (np.hypot(xyz[..., 0] - 12.0, xyz[..., 2]) <= 1.0) & (np.abs(xyz[..., 1]) <= 15.0)
    blob = np.linalg.norm((xyz - np.array([-8.0, 6.0, 0.0])) * np.array([1.0, 1.0, 0.5]), axis=-1) <= 6.0
    speck = (np.hypot(xyz[..., 0], xyz[..., 1]) <= 1.0) & (np.abs(xyz[..., 2]) <= 1.5)
    assert _is_tubular(tube, spacing, settings)
    assert not _is_tubular(blob, spacing, settings)
    assert not _is_tubular(speck, spacing, settings)


def test_faint_vessel_is_not_a_lesion_but_a_blob_as_bright_beside_it_is():
    """In textured marrow (as real marrow is: its texture, not the scanner's noise, sets the
    scale), a thin vessel a few sd above it is no lesion; a blob as bright beside it is. (A vessel
    far brighter than smooth marrow keeps a wide halo down to the grow level and is not
    recognised by its shape: see rule 4.)"""
    rng = np.random.default_rng(4)
    xyz, bone, image, normal = _bone(rng, noise_sd=3.0)
    texture = ndimage.gaussian_filter(rng.normal(size=GEOMETRY.shape), (3.0, 3.0, 0.6))
    image = image + bone * 10.0 * texture / texture[bone].std()
    vessel = (np.hypot(xyz[..., 0] - 12.0, xyz[..., 2]) <= 0.9) & (np.abs(xyz[..., 1]) <= 15.0)
    blob = np.linalg.norm((xyz - np.array([-8.0, 6.0, 0.0])) * np.array([1.0, 1.0, 0.5]), axis=-1) <= 6.0
    result = _run(image + bone * (vessel * 40.0 + blob * 40.0), bone, normal)
    assert (result.edema_mask & vessel).sum() == 0
    assert (result.edema_mask & blob).sum() >= 0.9 * (bone & blob).sum()


def test_bright_sheet_at_the_bone_surface_is_fluid_but_edema_reaching_the_surface_is_kept():
    """In textured marrow (its texture sets the scale, as in real marrow; on smooth, noise-only
    marrow the smoothing carries a sheet this bright 3 mm deep, where it seeds itself)."""
    rng = np.random.default_rng(5)
    xyz, bone, image, normal = _bone(rng, noise_sd=3.0)
    texture = ndimage.gaussian_filter(rng.normal(size=GEOMETRY.shape), (3.0, 3.0, 0.6))
    image = image + bone * 10.0 * texture / texture[bone].std()
    sheet = bone & (xyz[..., 0] >= 19.0) & (np.abs(xyz[..., 1]) <= 10.0)  # 1 mm under the surface
    edema = bone & (xyz[..., 0] <= -10.0) & (np.abs(xyz[..., 1] - 6.0) <= 8.0) & (np.abs(xyz[..., 2]) <= 9.0)
    image = image + sheet * 400.0 + edema * 200.0
    result = _run(image, bone, normal)
    assert (result.edema_mask & sheet).sum() == 0
    # the box's sharp faces, blurred by the smoothing, are outlined to where they fade into
    # normal marrow (about 1.5 mm outside), as readers outline: Dice ~0.84 against the sharp box
    assert dice(result.edema_mask, edema) >= 0.8
    assert (result.edema_mask & edema).sum() >= 0.98 * edema.sum()
    assert result.edema_mask[np.argmin(np.abs(xyz[:, 0, 0, 0] + 20.0)), 40, 8]  # edema up to the surface


def test_speckle_smaller_than_the_floor_is_dropped():
    xyz, bone, image, normal = _bone(np.random.default_rng(6))
    speck = np.zeros(GEOMETRY.shape, dtype=bool)
    speck[30:32, 30:32, 8] = True  # 4 voxels, 0.004 ml: very bright, too small to be a lesion
    image = image + speck * 400.0
    result = _run(image, bone, normal)
    assert result.edema_ml == 0.0


@pytest.mark.parametrize("fraction", [0.3, 0.6])
def test_large_lesion_does_not_become_the_normal_level(fraction):
    """Edema filling a third or more of the bone: the normal level stays that of the marrow
    around it (the lowest histogram peak anchors it), and the lesion is measured whole."""
    xyz, bone, image, normal = _bone(np.random.default_rng(7))
    lesion = bone & (xyz[..., 0] <= -20.0 + 40.0 * fraction)
    result = _run(image + lesion * 90.0, bone)
    assert dice(result.edema_mask, lesion) >= 0.9, result.details
    assert abs(result.details["normal_centre"] - 100.0) < 6.0
