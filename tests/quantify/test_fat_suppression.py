"""Fat suppression checked on the image: the levels measured and the not_fat_suppressed rule."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.quantify.fat_suppression import (
    SoftTissueClasses, head_interior, soft_tissue_classes, subcutaneous_fat,
)
from bme_mri.quantify.qc import BLOCKING, WARNING, assess_hips, not_fat_suppressed_flag
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
    fat = subcutaneous_fat(_body(geometry, fat=800.0, muscle=200.0), (3.0, 12.0), 2.0, 5.0, 10.0, 3.0)
    assert fat.level == pytest.approx(800.0, rel=0.05)  # not muscle: the z faces cut the body, no skin there
    assert fat.volume_ml > 100


def test_noisy_air_is_not_taken_for_the_body():
    # SNR ~8 on muscle: air is Rician noise (mean ~1.25 sd), above 0.2 x the body's median
    geometry = _geometry((70, 70, 24), (2.0, 2.0, 4.0))
    clean = _body(geometry, fat=150.0, muscle=400.0).array
    rng = np.random.default_rng(7)
    sd = 50.0
    noisy = np.hypot(clean + rng.normal(0, sd, geometry.shape), rng.normal(0, sd, geometry.shape))
    fat = subcutaneous_fat(Volume(noisy.astype(np.float32), geometry), (3.0, 12.0), 2.0, 5.0, 10.0, 3.0)
    assert fat.level is not None and fat.level < 250.0  # the dark fat layer, not muscle nor air


def test_a_field_inside_the_body_has_no_skin_even_with_dark_edges():
    # a prostate-like field: all body, with a dark strip along one face (coil fall-off)
    geometry = _geometry((60, 60, 20), (2.0, 2.0, 4.0))
    array = np.full(geometry.shape, 300.0, np.float32)
    array[:2] = 3.0
    fat = subcutaneous_fat(Volume(array, geometry), (3.0, 12.0), 2.0, 5.0, 10.0, 3.0)
    assert fat.level is None and fat.volume_ml < 5.0


def test_soft_tissue_classes_are_the_two_populations():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(100, 8, 4000), rng.normal(400, 30, 2000)])
    classes = soft_tissue_classes(values, 128)
    assert classes.dark == pytest.approx(100, rel=0.05) and classes.bright == pytest.approx(400, rel=0.05)
    assert classes.split == pytest.approx(200, rel=0.06)
    assert soft_tissue_classes(values[:20], 128) is None


CLASSES = SoftTissueClasses(100.0, 400.0)  # split 200


@pytest.mark.parametrize("marrow, fat, muscle, rho, headers, expected", [
    (60.0, 400.0, 100.0, None, "", None),   # dark marrow: suppressed, whatever the skin shows
    (380.0, 90.0, 300.0, None, "", None),   # bright marrow under fat darker than muscle: edema, fat suppressed
    (400.0, 420.0, 100.0, None, "", "not_fat_suppressed"),  # fat 4.2 x muscle, marrow as bright: T1, T2, PD
    (400.0, None, 300.0, None, "", "fat_suppression_unverified"),  # no skin in view: cannot tell, say so
    (400.0, None, 300.0, -0.40, "", None),  # no skin, but the study's T1 shows fat suppressed
    (400.0, 310.0, 300.0, None, "", "fat_suppression_unverified"),  # layer as bright as muscle: dark fat lost in the air?
    (400.0, 130.0, 100.0, None, "", "fat_suppression_unverified"),  # 1.3 x muscle but in the dark class: ambiguous
    (None, 420.0, 100.0, None, "", None),   # no marrow level (head out of the field): no evidence
    (60.0, 90.0, 300.0, None, "SIEMENS, ScanningSequence SE, no inversion", "not_fat_suppressed"),  # the headers say
])
def test_fat_suppression_rule(qc_settings, marrow, fat, muscle, rho, headers, expected):
    flag, measures = not_fat_suppressed_flag(marrow, CLASSES, fat, muscle, qc_settings, no_fat_why="no skin in view",
                                             t1_rho=rho, headers_say=headers)
    assert (None if flag is None else flag.code) == expected
    assert measures["soft_tissue_split"] == pytest.approx(200.0)
    if expected == "not_fat_suppressed":
        assert flag.severity == BLOCKING and "fat is not suppressed" in flag.reason
        assert ("headers" in flag.reason) is bool(headers)
    if expected == "fat_suppression_unverified":  # a warning that says it could not tell, never that fat is bright
        assert flag.severity == WARNING and flag.reason.startswith("could not verify fat suppression: ")
        assert "not suppressed" not in flag.reason
        assert ("no skin in view" in flag.reason) is (fat is None)


def test_bright_fat_against_a_t1_that_shows_suppression_still_blocks_and_says_so(qc_settings):
    flag, _ = not_fat_suppressed_flag(400.0, CLASSES, 420.0, 100.0, qc_settings, t1_rho=-0.4)
    assert flag.code == "not_fat_suppressed" and "T1 does not show it" in flag.reason


def _pelvis(marrow: float, fat: float, muscle: float) -> tuple[Volume, Segmentation]:
    """Muscle (with fat planes between) around two heads, a subcutaneous layer 19-30 mm thick, air
    outside (noise sd 3). As in a real pelvis, the soft tissue 8-35 mm around each head is muscle
    and fat planes; the subcutaneous fat lies farther out."""
    geometry = _geometry((170, 110, 28), (2.0, 2.0, 3.0))
    idx = np.indices(geometry.shape).reshape(3, -1).T
    xyz = geometry.index_to_lps(idx)
    radial = np.hypot(xyz[:, 0] / 150.0, xyz[:, 1] / 95.0).reshape(geometry.shape)
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


def _flags(qc) -> dict:
    return {f.code: f for f in qc.flags}


@pytest.mark.parametrize("contrast, marrow, fat, muscle, flagged", [
    ("STIR", 40.0, 30.0, 200.0, False),
    ("STIR with diffuse edema", 420.0, 30.0, 200.0, False),
    ("STIR with diffuse edema, fat < 0.2 x the median", 420.0, 15.0, 200.0, False),
    ("T1", 700.0, 800.0, 250.0, True),
    ("PD", 520.0, 560.0, 330.0, True),
])
def test_assess_hips_flags_unsuppressed_fat_on_both_hips(qc_settings, contrast, marrow, fat, muscle, flagged):
    volume, segmentation = _pelvis(marrow, fat, muscle)
    for qc in assess_hips(volume, segmentation, qc_settings):
        assert ("not_fat_suppressed" in _flags(qc)) is flagged, (contrast, qc.measures)
        assert "fat_suppression_unverified" not in _flags(qc), (contrast, qc.measures)
        assert qc.measures["subcutaneous_fat_level"] == pytest.approx(fat, rel=0.1)  # the layer, not muscle
        assert qc.measures["marrow_interior_level"] == pytest.approx(marrow, rel=0.05)


def test_fat_lost_in_the_noise_floor_is_unverified_not_blocked(qc_settings):
    # fat 4 under noise sd 3 cannot be told from air (2): the layer under the "skin" is muscle
    volume, segmentation = _pelvis(420.0, 4.0, 200.0)
    for qc in assess_hips(volume, segmentation, qc_settings):
        flags = _flags(qc)
        assert "not_fat_suppressed" not in flags and not qc.blocking, qc.measures
        assert flags["fat_suppression_unverified"].severity == WARNING
        assert "as bright as" not in flags["fat_suppression_unverified"].reason
        # the layer under the "skin" is muscle, with some of the dark fat on the 3 mm grid
        assert 0.8 <= qc.measures["fat_muscle_ratio"] <= 1.1, qc.measures


def _crop(volume: Volume, segmentation: Segmentation, centre_x_mm: float, width_mm: float):
    """The field of view cut to ``width_mm`` (x and y) around one head: no skin left in view."""
    geometry = volume.geometry
    xs = geometry.origin_lps_mm[0] + np.arange(geometry.shape[0]) * geometry.spacing_mm[0]
    ys = geometry.origin_lps_mm[1] + np.arange(geometry.shape[1]) * geometry.spacing_mm[1]
    i = np.flatnonzero(np.abs(xs - centre_x_mm) <= width_mm / 2)
    j = np.flatnonzero(np.abs(ys) <= width_mm / 2)
    cropped = Geometry((i.size, j.size, geometry.shape[2]), geometry.spacing_mm,
                       (float(xs[i[0]]), float(ys[j[0]]), geometry.origin_lps_mm[2]), np.eye(3))
    array = volume.array[i[0]:i[-1] + 1, j[0]:j[-1] + 1]
    heads = [h for h in segmentation.heads if abs(h.center_lps_mm[0] - centre_x_mm) < 1.0]
    return Volume(np.ascontiguousarray(array), cropped), Segmentation(
        np.zeros(cropped.shape, np.uint8), cropped, heads, np.zeros(cropped.shape, bool), heads[0].reference)


def test_a_field_around_one_hip_with_no_skin_warns_and_does_not_block(qc_settings):
    # a STIR with 100% edema in a 120 mm field: fat suppression cannot be verified on the image
    volume, segmentation = _crop(*_pelvis(420.0, 30.0, 200.0), centre_x_mm=60.0, width_mm=120.0)
    (qc,) = assess_hips(volume, segmentation, qc_settings)
    flags = _flags(qc)
    assert "not_fat_suppressed" not in flags and not qc.blocking, qc.measures
    reason = flags["fat_suppression_unverified"].reason
    assert reason.startswith("could not verify fat suppression: no skin in the field of view")
    assert qc.measures["subcutaneous_fat_level"] is None
    # the same field of a T1 (fatty marrow 700, muscle 250) is no more certain: it warns too
    volume, segmentation = _crop(*_pelvis(700.0, 800.0, 250.0), centre_x_mm=60.0, width_mm=120.0)
    (qc,) = assess_hips(volume, segmentation, qc_settings)
    assert "fat_suppression_unverified" in _flags(qc) and "not_fat_suppressed" not in _flags(qc)
