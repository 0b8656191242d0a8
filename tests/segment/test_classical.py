"""The classical hip segmenter on the smoke phantom cohort (a seed never used for tuning)."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.errors import SegmentationError
from bme_mri.quantify import dice, measure
from bme_mri.types import Geometry, Label, Side, Volume
from tests.segment.conftest import near_side_mask


def test_every_visible_head_is_found_on_its_own_side(smoke_segmented):
    for study in smoke_segmented:
        found = {h.side: h for h in study.segmentation.heads}
        for side, truth in study.truth["sides"].items():
            if not truth["present"]:
                continue
            head = found.get(Side(side))
            assert head is not None, f"{study.name}: {side} head not found"
            error = np.linalg.norm(np.subtract(head.center_lps_mm, truth["head_center_lps_mm"]))
            assert error < 3.0, f"{study.name} {side}: centre {error:.1f} mm off"
            assert abs(head.radius_mm - truth["head_radius_mm"]) < 1.5


def test_left_head_has_the_larger_lps_x(smoke_segmented):
    for study in smoke_segmented:
        found = {h.side: h for h in study.segmentation.heads}
        if len(found) == 2:
            assert found[Side.LEFT].center_lps_mm[0] > found[Side.RIGHT].center_lps_mm[0]


def test_head_dice_is_above_floor(smoke_segmented):
    for study in smoke_segmented:
        for side in ("left", "right"):
            near = near_side_mask(study, side)
            score = dice((study.segmentation.labels > 0) & near, (study.truth_labels > 0) & near)
            assert score >= 0.88, f"{study.name} {side}: head Dice {score:.3f}"


def test_label_map_lies_on_the_image_grid(smoke_segmented):
    for study in smoke_segmented:
        labels = study.segmentation.labels
        assert labels.shape == study.image.geometry.shape
        assert labels.dtype == np.uint8
        assert set(np.unique(labels)) <= {0, 1, 2, 3}
        assert study.segmentation.geometry.same_grid(study.image.geometry)


def test_edema_volume_is_near_truth_where_edema_is_large(smoke_segmented):
    checked = 0
    for study in smoke_segmented:
        measured = {m.side.value: m for m in measure(study.segmentation)}
        for side, truth in study.truth["sides"].items():
            if truth["edema_ml"] >= 10.0:
                checked += 1
                error = abs(measured[side].edema_ml - truth["edema_ml"]) / truth["edema_ml"]
                assert error <= 0.2, f"{study.name} {side}: edema {measured[side].edema_ml:.1f} " \
                                     f"ml vs {truth['edema_ml']:.1f} ml"
                near = near_side_mask(study, side)
                score = dice((study.segmentation.labels == Label.EDEMA) & near,
                             (study.truth_labels == Label.EDEMA) & near)
                assert score >= 0.8
    assert checked, "the smoke cohort should hold a large edema"


def test_normal_hip_has_no_edema_and_no_necrosis(smoke_segmented):
    checked = 0
    for study in smoke_segmented:
        measured = {m.side.value: m for m in measure(study.segmentation)}
        for side, truth in study.truth["sides"].items():
            if truth["present"] and truth["edema_headneck_ml"] == 0 and truth["necrosis_ml"] == 0:
                checked += 1
                assert measured[side].edema_ml <= 0.5, f"{study.name} {side}: false edema"
                assert measured[side].necrosis_ml == 0.0, f"{study.name} {side}: false necrosis"
    assert checked


def test_necrosis_is_detected_where_there_is_one(smoke_segmented):
    checked = 0
    for study in smoke_segmented:
        measured = {m.side.value: m for m in measure(study.segmentation)}
        for side, truth in study.truth["sides"].items():
            if truth["necrosis_ml"] > 0.5:
                checked += 1
                assert measured[side].necrosis_ml > 0.2, f"{study.name} {side}: necrosis missed"
    assert checked, "the smoke cohort should hold a necrosis"


def test_reference_marrow_is_recorded_with_its_threshold(smoke_segmented):
    for study in smoke_segmented:
        reference = study.segmentation.reference
        assert reference is not None and reference.n_voxels > 0
        assert reference.edema_threshold > reference.median
        assert "marrow" in reference.description
        for head in study.segmentation.heads:
            assert head.edema_threshold >= head.reference.edema_threshold


def test_image_without_a_femoral_head_is_refused_with_a_clear_error():
    from bme_mri.config import load_config
    from bme_mri.segment import get_segmenter

    rng = np.random.default_rng(3)
    geometry = Geometry((60, 60, 20), (2.0, 2.0, 4.0), (-60.0, -60.0, -40.0), np.eye(3))
    image = Volume(rng.normal(100.0, 5.0, geometry.shape).astype(np.float32), geometry,
                   {"series_uid": "1.2.3", "description": "noise"})
    with pytest.raises(SegmentationError, match="no femoral head found in series 1.2.3"):
        get_segmenter(load_config().segment).segment(image)


def _fit(x: float, radius: float, quality: float, vote: float, z: float = 0.0):
    from bme_mri.segment.localize import SphereFit

    return SphereFit(np.array([x, 0.0, z]), radius, quality, 0.5, 0.2, np.zeros((1, 3)),
                     np.zeros(1, bool), vote)


def _assign(fits):
    from bme_mri.config import load_config
    from bme_mri.segment.classical import ClassicalSegmenter
    from bme_mri.types import Geometry

    segmenter = ClassicalSegmenter(load_config().segment)
    spacing = segmenter.settings.localize.work_spacing_mm
    body = np.ones((200, 8, 8), bool)  # 300 mm wide: both hips, midline at x = 0
    geometry = Geometry(body.shape, (spacing,) * 3, (-150.0, -6.0, -6.0), np.eye(3))
    warnings: list[str] = []
    return segmenter._assign_sides(fits, body, geometry, warnings), warnings


def test_a_faint_mirror_image_head_is_paired_but_a_trochanter_is_not():
    from bme_mri.types import Side

    right = _fit(-95.0, 24.5, 0.75, 390.0)
    faint_left = _fit(93.0, 22.8, 0.45, 187.0)  # e.g. an effusion weakens its shell
    trochanter = _fit(145.0, 19.0, 0.70, 170.0, z=-20.0)
    sides, _ = _assign([right, trochanter, faint_left])
    assert sides[Side.RIGHT] is right and sides[Side.LEFT] is faint_left
    sides, warnings = _assign([right, trochanter])
    assert list(sides) == [Side.RIGHT] and "one femoral head found" in warnings[-1]


def test_a_lone_head_is_sided_by_where_its_neck_leaves():
    from bme_mri.config import load_config
    from bme_mri.segment.localize import SphereFit, fibonacci_directions, prior_neck_axis, side_from_neck

    neck = load_config().segment.neck
    directions = fibonacci_directions(400)
    for sign in (1.0, -1.0):
        opening = directions @ prior_neck_axis(sign, neck) >= np.cos(np.radians(30.0))
        fit = SphereFit(np.zeros(3), 23.0, 0.8, 0.5, 0.2, directions, ~opening, 100.0)
        side, left, right = side_from_neck(fit, neck)
        assert side == sign and (left > right if sign > 0 else right > left)
    closed = SphereFit(np.zeros(3), 23.0, 1.0, 0.5, 0.2, directions, np.ones(400, bool), 100.0)
    assert side_from_neck(closed, neck)[0] == 0.0


def test_the_search_stops_only_when_no_peak_left_can_outscore_the_pair():
    """A sound pair whose weaker head scores at least the next peak's vote is settled; a next
    peak with a higher vote, or a pair with a faint shell, is not."""
    from bme_mri.config import load_config
    from bme_mri.segment.classical import ClassicalSegmenter

    segmenter = ClassicalSegmenter(load_config().segment)
    pair = [_fit(-95.0, 24.5, 0.7, 130.0), _fit(93.0, 24.0, 0.6, 128.0)]  # scores 91 and 77
    assert segmenter._pair_settled(pair, next_vote=30.0)
    assert not segmenter._pair_settled(pair, next_vote=80.0)  # a peak left could score 80
    faint = [_fit(-95.0, 24.5, 0.7, 130.0), _fit(93.0, 24.0, 0.4, 128.0)]
    assert not segmenter._pair_settled(faint, next_vote=1.0)
    lone = [_fit(-95.0, 24.5, 0.9, 130.0), _fit(-40.0, 24.0, 0.9, 128.0)]  # 55 mm apart: no pair
    assert not segmenter._pair_settled(lone, next_vote=1.0)
    assert pair[1].vote == 128.0  # the check leaves the fits as they were


def test_stopping_early_finds_the_same_heads_with_fewer_fits(smoke_cohort, monkeypatch):
    """On a smoke study the heads found with the early stop are those of the full search,
    from fewer sphere fits."""
    import json

    import bme_mri.segment.classical as classical
    from bme_mri.config import load_config
    from bme_mri.ingest import discover, load_volume, select_series
    from bme_mri.segment import get_segmenter

    config = load_config()
    full = config.segment.model_copy(update={
        "localize": config.segment.localize.model_copy(update={"stop_when_paired": False})})
    calls: list[int] = []
    fit_candidate = classical.fit_candidate

    def counted(*args, **kwargs):
        calls.append(1)
        return fit_candidate(*args, **kwargs)

    monkeypatch.setattr(classical, "fit_candidate", counted)
    manifest = json.loads((smoke_cohort / "truth" / "cohort.json").read_text())
    entry = manifest["patients"][0]["studies"][0]
    study = {s.study_uid: s for s in discover(smoke_cohort / "dicom", config.ingest).studies}[entry["study_uid"]]
    selection = select_series(study, config.ingest)
    image = load_volume(selection.analysis, config.ingest)
    t1 = load_volume(selection.t1, config.ingest) if selection.t1 is not None else None
    quick = get_segmenter(config.segment).segment(image, t1).heads
    quick_fits = len(calls)
    slow = get_segmenter(full).segment(image, t1).heads
    assert quick_fits < len(calls) - quick_fits
    assert [h.side for h in quick] == [h.side for h in slow] and len(quick) >= 1
    for a, b in zip(quick, slow):
        assert np.allclose(a.center_lps_mm, b.center_lps_mm, atol=1e-6) and a.radius_mm == pytest.approx(b.radius_mm)


def _assign_in(fits, x_lo: float, x_hi: float):
    """_assign_sides in a field from x_lo to x_hi (LPS mm) filled with body: a narrow sagittal
    slab inside the body when narrower than both_hips_fov_mm."""
    from bme_mri.config import load_config
    from bme_mri.segment.classical import ClassicalSegmenter
    from bme_mri.types import Geometry

    segmenter = ClassicalSegmenter(load_config().segment)
    spacing = segmenter.settings.localize.work_spacing_mm
    body = np.ones((int(round((x_hi - x_lo) / spacing)), 8, 8), bool)
    geometry = Geometry(body.shape, (spacing,) * 3, (x_lo, -6.0, -6.0), np.eye(3))
    warnings: list[str] = []
    return segmenter._assign_sides(fits, body, geometry, warnings), warnings


def test_a_lone_candidate_on_the_body_midline_is_never_a_head():
    # a field wide enough for both hips: midline = body centre (x = 0); a round structure on it
    sides, warnings = _assign([_fit(8.0, 23.0, 0.8, 300.0)])
    assert sides == {} and "never on it" in warnings[-1]
    # a head 90 mm from the midline stays
    sides, _ = _assign([_fit(-90.0, 23.0, 0.8, 300.0)])
    assert list(sides) and sides[next(iter(sides))].center_mm[0] == -90.0


def test_a_sagittal_slab_on_the_midline_reports_no_head_but_one_centred_on_a_hip_keeps_it():
    # issue 22: a sagittal T2 slab x -59..+20 mm reported a 'left' head at x = -23 mm, radius 23
    sides, warnings = _assign_in([_fit(-23.0, 23.0, 0.8, 300.0)], -59.0, 20.0)
    assert sides == {} and "not reported" in warnings[-1]
    # a slab centred on the left hip (x 40..140 mm): its head lies at the slab's centre too
    sides, _ = _assign_in([_fit(90.0, 23.0, 0.8, 300.0)], 40.0, 140.0)
    assert len(sides) == 1
