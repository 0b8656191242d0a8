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
