"""find_necrosis on a hand-built head: what counts as a lesion boundary and what does not."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.segment.base import HeadFinding, ReferenceMarrow
from bme_mri.segment.necrosis import find_necrosis
from bme_mri.segment.regions import head_regions
from bme_mri.types import Geometry, Side

RADIUS_MM = 24.0
MARROW, DARK, NOISE_SD = 100.0, 30.0, 4.0


@pytest.fixture(scope="module")
def config():
    from bme_mri.config import load_config

    return load_config()


@pytest.fixture
def head_scene():
    """A 1 mm isotropic head: normal marrow inside a 2 mm cortex, neck along +z (LPS)."""
    shape = (64, 64, 64)
    geometry = Geometry(shape, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))
    centre = np.array([31.5, 31.5, 31.5])
    head = HeadFinding(Side.LEFT, tuple(centre), RADIUS_MM, (0.0, 0.0, 1.0), 30.0, 15.0, 0.9, 0.5)
    points = geometry.index_to_lps(np.indices(shape).reshape(3, -1).T.astype(float)).reshape(*shape, 3)
    radial = np.linalg.norm(points - centre, axis=-1)
    image = np.where(radial <= RADIUS_MM - 2.0, MARROW, DARK)
    reference = ReferenceMarrow("test marrow", 1000, MARROW, NOISE_SD * 0.67, MARROW + 7,
                                NOISE_SD, MARROW + 4 * NOISE_SD)
    return geometry, head, points, radial, image, reference


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
