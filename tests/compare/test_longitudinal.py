"""Longitudinal rows, the CSV contract, and compare_studies end to end on synthetic hips."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from bme_mri.compare.longitudinal import call_side, write_longitudinal_csv
from bme_mri.compare.study_pair import compare_studies
from bme_mri.compare.visit import SideVolumes, VisitResult
from bme_mri.types import Label, Side, Volume
from tests.compare.synthetic_hip import (
    HipScene,
    axial_geometry,
    coronal_geometry,
    render_visit,
    rigid_matrix,
)

CONTRACT = ["patient_id", "side", "baseline_date", "followup_date", "interval_days",
            "edema_baseline_ml", "edema_followup_ml", "edema_change_pct", "residual_edema",
            "focal_necrosis", "status", "reason"]


def _side(edema, necrosis=0.0):
    return SideVolumes(edema, necrosis, 50.0, (0.0, 0.0, 0.0))


@pytest.mark.parametrize("base, follow, necrosis, status, residual, focal", [
    (18.2, 0.3, 0.0, "remission", False, False),
    (10.0, 6.0, 0.0, "residual_edema", True, False),
    (4.0, 9.0, 0.0, "progression", True, False),
    (10.0, 2.0, 0.5, "necrosis", True, True),
    (0.1, 0.2, 0.0, "no_edema", False, False),
])
def test_call_side_fills_the_row_from_the_status_rules(compare_settings, base, follow, necrosis,
                                                       status, residual, focal):
    call, row = call_side("P1", Side.LEFT, "20240101", "2024-04-01", _side(base),
                          _side(follow, necrosis), compare_settings.status)
    assert row.status == status == call.status.value
    assert row.residual_edema is residual and row.focal_necrosis is focal
    assert row.interval_days == 91 and row.baseline_date == "2024-01-01"
    assert row.side == "left" and row.reason == call.reason


@pytest.mark.parametrize("follow_head_ml, status", [(55.0, "progression"), (95.0, "indeterminate")])
def test_a_head_that_changed_size_between_visits_makes_the_call_indeterminate(
        compare_settings, follow_head_ml, status):
    """Failed fat suppression at follow-up: the whole bright marrow looks like edema, and an
    oversized sphere is fitted; a head does not grow, so the call is withheld."""
    base = SideVolumes(26.0, 0.0, 54.0, (0.0, 0.0, 0.0))
    follow = SideVolumes(44.0, 0.0, follow_head_ml, (0.0, 0.0, 0.0))
    call, row = call_side("P1", Side.LEFT, "20240101", "20240401", base, follow, compare_settings.status)
    assert call.status.value == status
    assert ("head_size_changed" in row.qc_flags) is (status == "indeterminate")


def test_csv_has_contract_columns_first_and_lowercase_booleans(tmp_path, compare_settings):
    _, row = call_side("P/1", Side.RIGHT, "20240101", "20240401", _side(18.2),
                       _side(0.3), compare_settings.status, registration_ok=True,
                       registration_quality_ncc=0.9)
    _, row0 = call_side("P2", "left", "", "20240401", _side(0.0), _side(0.0),
                        compare_settings.status)
    path = write_longitudinal_csv([row, row0], tmp_path / "out" / "longitudinal.csv")
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        records = list(reader)
    assert header[: len(CONTRACT)] == CONTRACT
    first = dict(zip(header, records[0]))
    assert first["residual_edema"] == "false" and first["focal_necrosis"] == "false"
    assert first["registration_ok"] == "true"
    assert first["status"] == "remission"
    assert float(first["edema_change_pct"]) == pytest.approx(-98.35, abs=0.01)
    assert "18.2 -> 0.3 ml" in first["reason"]
    second = dict(zip(header, records[1]))
    assert second["edema_change_pct"] == "" and second["interval_days"] == ""


def test_empty_csv_still_has_the_header(tmp_path):
    path = write_longitudinal_csv([], tmp_path / "l.csv")
    assert path.read_text().strip().split(",")[: len(CONTRACT)] == CONTRACT


def _visit(scene, geometry, motion, seed, uid, date) -> VisitResult:
    volume, labels = render_visit(scene, geometry, motion, seed=seed)
    ml = geometry.voxel_volume_ml
    center = scene.head_center if motion is None else motion[:3, :3] @ scene.head_center + motion[:3, 3]
    sides = {Side.RIGHT: SideVolumes(float(np.sum(labels == Label.EDEMA) * ml),
                                     float(np.sum(labels == Label.NECROSIS) * ml),
                                     float(np.sum(labels > 0) * ml), tuple(center))}
    return VisitResult(uid, date, volume, labels, sides)


def test_compare_studies_registers_maps_change_and_calls_each_side(compare_settings):
    before = HipScene.build(51, edema_radius_mm=13.0)
    after = HipScene.build(51, edema_radius_mm=6.0, necrosis_radius_mm=5.0)
    center = before.head_center
    motion = rigid_matrix((3.0, -2.0, 4.0), (9.0, 6.0, -7.0), center)
    baseline = _visit(before, coronal_geometry(center), None, 1, "1.2.1", "20240101")
    followup = _visit(after, axial_geometry(center + 5.0), motion, 2, "1.2.2", "20240405")
    pair = compare_studies(baseline, followup, compare_settings, "P1")
    assert set(pair.sides) == {Side.RIGHT}
    result = pair.sides[Side.RIGHT]
    assert result.registration.ok, result.registration.message
    assert np.linalg.norm(result.registration.map_points(center)
                          - (motion[:3, :3] @ center + motion[:3, 3])) <= 1.0
    assert result.row.status == "necrosis" and result.row.focal_necrosis
    assert result.row.interval_days == 95
    # the edema shrank: most baseline edema resolved, little is new
    assert result.change is not None
    assert result.change.resolved_ml > result.change.persistent_ml > 0
    assert result.change.new_ml < 0.3 * result.change.persistent_ml + 0.2


def test_failed_registration_keeps_the_call_but_withholds_the_change_map(compare_settings):
    scene = HipScene.build(52)
    center = scene.head_center
    baseline = _visit(scene, coronal_geometry(center), None, 1, "1", "20240101")
    rng = np.random.default_rng(0)
    noise = Volume(rng.uniform(0, 400, baseline.volume.geometry.shape).astype(np.float32),
                   baseline.volume.geometry)
    followup = VisitResult("2", "20240301", noise, baseline.labels.copy(), baseline.sides)
    pair = compare_studies(baseline, followup, compare_settings, "P9")
    result = pair.sides[Side.RIGHT]
    assert not result.registration.ok
    assert result.change is None and result.row.registration_ok is False
    assert any("change map not computed" in w for w in pair.warnings)
    assert result.row.status == "residual_edema"
