"""Indeterminate wins over every confident call when a blocking QC flag is present."""

from __future__ import annotations

import pytest

from bme_mri.compare.longitudinal import COLUMNS, call_side
from bme_mri.compare.status import Status, call_status
from bme_mri.compare.visit import SideVolumes
from bme_mri.quantify.qc import BLOCKING, WARNING, QcFlag
from bme_mri.types import Side

FAT_SAT = QcFlag("reference_implausible", "marrow not darker than muscle", BLOCKING)
CUT = QcFlag("head_cut_by_fov", "30% of the head outside", BLOCKING)
NOISY = QcFlag("low_snr", "snr 5", WARNING)


def _side(edema, necrosis=0.0, flags=()):
    return SideVolumes(edema, necrosis, 50.0, (0.0, 0.0, 0.0), tuple(flags))


@pytest.mark.parametrize("base, follow, necrosis", [
    (10.0, 2.0, 1.5),   # would be necrosis
    (18.0, 0.1, 0.0),   # would be remission
    (0.1, 0.2, 0.0),    # would be no_edema
])
def test_blocking_reason_makes_any_call_indeterminate(compare_settings, base, follow, necrosis):
    call = call_status(base, follow, necrosis, compare_settings.status, blocking=["head cut"])
    assert call.status == Status.INDETERMINATE
    assert "head cut" in call.reason
    # no change figure: neither the percentage nor the volumes it would come from
    assert call.edema_change_pct is None and " ml" not in call.reason and "%" not in call.reason


def test_a_visit_not_measured_makes_the_call_indeterminate(compare_settings):
    call = call_status(None, 0.1, 0.0, compare_settings.status)
    assert call.status == Status.INDETERMINATE and "not measured" in call.reason


def test_without_blocking_reason_necrosis_is_still_called(compare_settings):
    assert call_status(10.0, 2.0, 1.5, compare_settings.status).status == Status.NECROSIS


def test_failed_followup_qc_stops_a_necrosis_call(compare_settings):
    call, row = call_side("P", Side.LEFT, "20240101", "20240401", _side(20.0),
                          _side(3.0, 2.0, [FAT_SAT]), compare_settings.status)
    assert call.status == Status.INDETERMINATE and row.status == "indeterminate"
    assert "reference_implausible at follow-up" in row.reason
    assert row.qc_flags == "reference_implausible"
    # blocked means not measured: the follow-up's figures are not in the row, the baseline's are
    assert row.necrosis_followup_ml is None and row.edema_followup_ml is None
    assert row.edema_baseline_ml == pytest.approx(20.0)
    assert row.edema_change_pct is None and row.residual_edema is None and row.focal_necrosis is None


def test_failed_baseline_qc_stops_a_remission_call(compare_settings):
    call, row = call_side("P", Side.RIGHT, "20240101", "20240401", _side(20.0, 0.0, [CUT]),
                          _side(0.1), compare_settings.status)
    assert call.status == Status.INDETERMINATE
    assert "head_cut_by_fov at baseline" in row.reason


def test_warnings_are_reported_but_do_not_block(compare_settings):
    registration = QcFlag("registration_flagged", "NCC 0.1", WARNING)
    call, row = call_side("P", Side.RIGHT, "20240101", "20240401", _side(20.0, 0.0, [NOISY]),
                          _side(0.1), compare_settings.status, extra_flags=[registration])
    assert call.status == Status.REMISSION
    assert row.qc_flags == "low_snr;registration_flagged"
    assert "(warning)" in row.qc_reason


def test_longitudinal_csv_appends_qc_columns_then_the_ranges():
    assert COLUMNS[-6:-4] == ["qc_flags", "qc_reason"]
    assert COLUMNS[-4:] == ["edema_baseline_low_ml", "edema_baseline_high_ml", "edema_followup_low_ml",
                            "edema_followup_high_ml"]


def test_a_hip_not_measured_at_one_visit_is_indeterminate_without_figures(compare_settings):
    not_fs = QcFlag("not_fat_suppressed", "fatty marrow as bright as fat", BLOCKING)
    unmeasured = SideVolumes(None, None, 52.0, (0.0, 0.0, 0.0), (not_fs,), "not measured: fat not suppressed")
    assert not unmeasured.measured and _side(3.0).measured
    call, row = call_side("P", Side.LEFT, "20240101", "20240401", unmeasured, _side(0.1),
                          compare_settings.status)
    assert call.status == Status.INDETERMINATE and "not_fat_suppressed at baseline" in row.reason
    assert row.edema_baseline_ml is None and row.edema_followup_ml == pytest.approx(0.1)
    assert row.edema_change_pct is None and row.residual_edema is None


def test_compare_studies_draws_no_change_map_for_a_hip_not_measured(compare_settings):
    from bme_mri.compare.study_pair import compare_studies
    from bme_mri.compare.visit import VisitResult
    from tests.compare.synthetic_hip import HipScene, coronal_geometry, render_visit

    scene = HipScene.build(1, edema_radius_mm=10.0)
    volume, labels = render_visit(scene, coronal_geometry(scene.head_center))
    centre = tuple(float(v) for v in scene.head_center)
    not_fs = QcFlag("not_fat_suppressed", "fatty marrow as bright as fat", BLOCKING)
    base = VisitResult("1", "20240101", volume, labels, {Side.RIGHT: SideVolumes(4.0, 0.0, 52.0, centre)})
    follow = VisitResult("2", "20240401", volume, labels,
                         {Side.RIGHT: SideVolumes(None, None, 52.0, centre, (not_fs,), "not measured")})
    result = compare_studies(base, follow, compare_settings, "P")
    side = result.sides[Side.RIGHT]
    assert side.change is None and side.call.status == Status.INDETERMINATE
    assert any("not measured at the follow-up visit" in w for w in result.warnings)
