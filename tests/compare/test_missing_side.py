"""No hip lost in silence at follow-up: a side missing at one visit is said so, with why."""

from __future__ import annotations

from bme_mri.compare.study_pair import compare_studies
from bme_mri.compare.visit import SideVolumes, VisitResult
from bme_mri.types import Side
from tests.compare.synthetic_hip import HipScene, coronal_geometry, render_visit

NOT_FOUND = "femoral head not found: the left head was expected near LPS (95, 0, 0) mm"


def _visits(not_found: dict):
    scene = HipScene.build(1, edema_radius_mm=10.0)
    volume, labels = render_visit(scene, coronal_geometry(scene.head_center))
    centre = tuple(float(v) for v in scene.head_center)
    both = {Side.RIGHT: SideVolumes(4.0, 0.0, 52.0, centre), Side.LEFT: SideVolumes(3.0, 0.0, 50.0, centre)}
    base = VisitResult("1", "20240101", volume, labels, both)
    follow = VisitResult("2", "20240401", volume, labels, {Side.RIGHT: both[Side.RIGHT]}, not_found=not_found)
    return base, follow


def test_a_head_not_found_at_follow_up_is_said_so_with_its_reason(compare_settings):
    result = compare_studies(*_visits({Side.LEFT: NOT_FOUND}), compare_settings, "P")
    assert Side.LEFT not in result.sides and Side.RIGHT in result.sides
    (warning,) = [w for w in result.warnings if w.startswith("left hip")]
    assert warning == f"left hip at the follow-up visit: {NOT_FOUND}; no comparison for this side"


def test_a_side_outside_the_field_is_not_called_a_head_not_found(compare_settings):
    result = compare_studies(*_visits({}), compare_settings, "P")
    (warning,) = [w for w in result.warnings if w.startswith("left hip")]
    assert "outside the field of view" in warning and "not found" not in warning


def test_a_head_not_found_at_both_visits_is_still_said(compare_settings):
    base, follow = _visits({Side.LEFT: NOT_FOUND})
    base.sides.pop(Side.LEFT)
    base.not_found[Side.LEFT] = NOT_FOUND
    result = compare_studies(base, follow, compare_settings, "P")
    assert [w for w in result.warnings if w.startswith("left hip")] == [
        f"left hip at the baseline visit: {NOT_FOUND}; no comparison for this side",
        f"left hip at the follow-up visit: {NOT_FOUND}; no comparison for this side"]


def test_a_hip_seen_at_one_visit_only_gets_an_indeterminate_row_with_the_reason(compare_settings):
    """The follow-up's left head was not found: the pair has a row for it, never a call."""
    result = compare_studies(*_visits({Side.LEFT: NOT_FOUND}), compare_settings, "P")
    rows = {row.side: row for row in result.rows()}
    assert list(rows) == ["right", "left"]
    left = rows["left"]
    assert left.status == "indeterminate" and left.qc_flags == "head_not_found"
    assert NOT_FOUND in left.reason and "follow-up" in left.reason
    assert left.edema_baseline_ml == 3.0 and left.edema_followup_ml is None
    assert left.edema_change_pct is None and left.focal_necrosis is None and left.residual_edema is None
    assert rows["right"].status != "indeterminate"


def test_a_hip_out_of_view_at_one_visit_is_flagged_so_not_as_not_found(compare_settings):
    result = compare_studies(*_visits({}), compare_settings, "P")
    left = result.unpaired[Side.LEFT]
    assert left.status == "indeterminate" and left.qc_flags == "head_outside_fov"
    assert "outside the field of view" in left.reason and "not found" not in left.reason


def test_a_hip_never_seen_has_no_row(compare_settings):
    base, follow = _visits({})
    base.sides.pop(Side.LEFT)
    result = compare_studies(base, follow, compare_settings, "P")
    assert [row.side for row in result.rows()] == ["right"]
