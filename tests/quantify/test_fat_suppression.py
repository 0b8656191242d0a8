"""Fat suppression checked on the image: the levels measured and the not_fat_suppressed rule."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.quantify.fat_suppression import (
    SoftTissueClasses, head_interior, soft_tissue_classes, subcutaneous_fat,
)
from bme_mri.quantify.qc import BLOCKING, assess_hips, not_fat_suppressed_flag
from bme_mri.segment.base import HeadFinding, ReferenceMarrow, Segmentation
from bme_mri.types import Geometry, Side, Volume


@pytest.fixture(scope="module")
def qc_settings():
    return load_config().qc


def _geometry(shape, spacing) -> Geometry:
    origin = tuple(-(n - 1) / 2 * s for n, s in zip(shape, spacing))
    return Geometry(shape, spacing, origin, np.eye(3))


def _distance(geometry: Geometry, center=(0.0, 0.0, 0.0)) -> np.ndarray:
    idx = np.indices(geometry.shape).reshape(3, -1).T
    return np.linalg.norm(geometry.index_to_lps(idx) - np.asarray(center), axis=1).reshape(geometry.shape)


def _head(center=(0.0, 0.0, 0.0), radius=24.0, side=Side.LEFT) -> HeadFinding:
    reference = ReferenceMarrow("test", 2000, 50.0, 3.0, 60.0, 4.0, 62.0)
    head = HeadFinding(side, tuple(center), radius, (1.0, 0.0, 0.0), 18.0, 15.0, 0.8, 0.5,
                       reference=reference)
    head.own_reference = reference
    return head


def test_head_interior_is_the_core_of_the_head_not_its_rim():
    geometry = _geometry((60, 60, 60), (1.0, 1.0, 1.0))
    dist = _distance(geometry)
    # dark cortex-like rim 4 mm thick inside a 24 mm sphere fitted 3 mm too large: the core is 300
    array = np.where(dist <= 17.0, 300.0, np.where(dist <= 21.0, 20.0, 100.0)).astype(np.float32)
    interior = head_interior(Volume(array, geometry), _head(radius=24.0), 0.7, 5.0, 50)
    assert interior.core_radius_mm == pytest.approx(16.8)
    assert interior.level == pytest.approx(300.0, rel=0.02)


def test_head_interior_outside_the_field_gives_no_level():
    geometry = _geometry((30, 30, 30), (1.0, 1.0, 1.0))
    far = _head(center=(200.0, 0.0, 0.0))
    assert head_interior(Volume(np.ones(geometry.shape, np.float32), geometry), far, 0.7, 5.0, 50).level is None


def _body(geometry: Geometry, fat: float, muscle: float, skin_radius: float = 60.0, fat_mm: float = 15.0):
    """A cylinder along z (the field cuts it at both z faces): fat under the skin, muscle inside."""
    idx = np.indices(geometry.shape).reshape(3, -1).T
    xyz = geometry.index_to_lps(idx)
    radial = np.linalg.norm(xyz[:, :2], axis=1).reshape(geometry.shape)
    rng = np.random.default_rng(1)
    array = np.where(radial <= skin_radius - fat_mm, muscle, np.where(radial <= skin_radius, fat, 2.0))
    return Volume((array + rng.normal(0, 2.0, geometry.shape)).astype(np.float32), geometry)


def test_subcutaneous_fat_is_the_outer_layer_and_the_cut_faces_are_not_skin():
    geometry = _geometry((70, 70, 24), (2.0, 2.0, 4.0))
    fat = subcutaneous_fat(_body(geometry, fat=800.0, muscle=200.0), (3.0, 12.0), 0.2, 2.0, 5.0, 10.0)
    assert fat.level == pytest.approx(800.0, rel=0.05)  # not muscle: the z faces cut the body, no skin there
    assert fat.volume_ml > 100


def test_noisy_air_is_not_taken_for_the_body():
    # SNR ~8 on muscle: air is Rician noise (mean ~1.25 sd), above 0.2 x the body's median
    geometry = _geometry((70, 70, 24), (2.0, 2.0, 4.0))
    clean = _body(geometry, fat=150.0, muscle=400.0).array
    rng = np.random.default_rng(7)
    sd = 50.0
    noisy = np.hypot(clean + rng.normal(0, sd, geometry.shape), rng.normal(0, sd, geometry.shape))
    fat = subcutaneous_fat(Volume(noisy.astype(np.float32), geometry), (3.0, 12.0), 0.2, 2.0, 5.0, 10.0)
    assert fat.level is not None and fat.level < 250.0  # the dark fat layer, not muscle nor air


def test_a_field_inside_the_body_has_no_skin_even_with_dark_edges():
    # a prostate-like field: all body, with a dark strip along one face (coil fall-off)
    geometry = _geometry((60, 60, 20), (2.0, 2.0, 4.0))
    array = np.full(geometry.shape, 300.0, np.float32)
    array[:2] = 3.0
    fat = subcutaneous_fat(Volume(array, geometry), (3.0, 12.0), 0.2, 2.0, 5.0, 10.0)
    assert fat.level is None and fat.volume_ml < 5.0


def test_soft_tissue_classes_are_the_two_populations():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(100, 8, 4000), rng.normal(400, 30, 2000)])
    classes = soft_tissue_classes(values, 128)
    assert classes.dark == pytest.approx(100, rel=0.05) and classes.bright == pytest.approx(400, rel=0.05)
    assert classes.split == pytest.approx(200, rel=0.06)
    assert soft_tissue_classes(values[:20], 128) is None


CLASSES = SoftTissueClasses(100.0, 400.0)  # split 200


@pytest.mark.parametrize("marrow, fat, flagged", [
    (60.0, 400.0, False),   # dark marrow: suppressed, whatever the skin shows
    (380.0, 90.0, False),   # bright marrow under dark fat: edema on a fat-suppressed series
    (600.0, 380.0, True),   # bright marrow under a bright layer, even 1.6 x it: cannot tell, say so
    (400.0, 420.0, True),   # marrow and fat alike bright: no fat suppression (T1, T2, PD)
    (400.0, None, True),    # bright marrow, no skin in view: cannot tell, say so
    (None, 420.0, False),   # no marrow level (head out of the field): no evidence
])
def test_not_fat_suppressed_rule(qc_settings, marrow, fat, flagged):
    flag, measures = not_fat_suppressed_flag(marrow, CLASSES, fat, 100.0, qc_settings)
    assert (flag is not None) is flagged
    assert measures["soft_tissue_split"] == pytest.approx(200.0)
    if flag is not None:
        assert flag.code == "not_fat_suppressed" and flag.severity == BLOCKING
        assert ("no subcutaneous fat" in flag.reason) is (fat is None)


def _pelvis(marrow: float, fat: float, muscle: float) -> tuple[Volume, Segmentation]:
    """Muscle (with fat between) around two heads, a subcutaneous layer, air outside."""
    geometry = _geometry((110, 60, 28), (2.0, 2.0, 3.0))
    idx = np.indices(geometry.shape).reshape(3, -1).T
    xyz = geometry.index_to_lps(idx)
    radial = np.hypot(xyz[:, 0] / 100.0, xyz[:, 1] / 50.0).reshape(geometry.shape)
    array = np.where(radial <= 1.0, fat, 2.0)
    array = np.where(radial <= 0.8, muscle, array)
    stripes = (np.abs(xyz[:, 2]).reshape(geometry.shape) % 12.0) < 3.0  # intermuscular fat planes
    array = np.where((radial <= 0.8) & stripes, fat, array)
    heads = [_head(center=(x, 0.0, 0.0), radius=24.0, side=side) for x, side in ((-60.0, Side.RIGHT), (60.0, Side.LEFT))]
    for head in heads:
        array = np.where(_distance(geometry, head.center_lps_mm) <= 24.0, marrow, array)
    rng = np.random.default_rng(3)
    volume = Volume((array + rng.normal(0, 3.0, geometry.shape)).astype(np.float32), geometry)
    segmentation = Segmentation(np.zeros(geometry.shape, np.uint8), geometry, heads,
                                np.zeros(geometry.shape, bool), heads[0].reference)
    return volume, segmentation


@pytest.mark.parametrize("contrast, marrow, fat, muscle, flagged", [
    ("STIR", 40.0, 30.0, 200.0, False),
    ("STIR with diffuse edema", 420.0, 30.0, 200.0, False),
    ("T1", 700.0, 800.0, 250.0, True),
    ("PD", 520.0, 560.0, 330.0, True),
])
def test_assess_hips_flags_unsuppressed_fat_on_both_hips(qc_settings, contrast, marrow, fat, muscle, flagged):
    volume, segmentation = _pelvis(marrow, fat, muscle)
    for qc in assess_hips(volume, segmentation, qc_settings):
        assert ("not_fat_suppressed" in qc.codes.split(";")) is flagged, (contrast, qc.measures)
        assert qc.measures["subcutaneous_fat_level"] == pytest.approx(fat, rel=0.1)
        assert qc.measures["marrow_interior_level"] == pytest.approx(marrow, rel=0.05)
