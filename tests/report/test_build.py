"""From compare results to a written report: calls, visits and registered image pairs."""

from __future__ import annotations

from bme_mri.compare.study_pair import compare_studies
from bme_mri.report.build import patient_report
from bme_mri.report.html import write_patient_report
from tests.compare.test_longitudinal import _visit
from tests.compare.synthetic_hip import HipScene, coronal_geometry, rigid_matrix


def test_patient_report_from_a_two_visit_comparison(tmp_path, compare_settings):
    before = HipScene.build(61, edema_radius_mm=12.0)
    after = HipScene.build(61, edema_radius_mm=0.0)
    center = before.head_center
    motion = rigid_matrix((2.0, 1.0, -3.0), (6.0, -4.0, 5.0), center)
    baseline = _visit(before, coronal_geometry(center), None, 1, "1.1", "20240101")
    followup = _visit(after, coronal_geometry(center), motion, 2, "1.2", "20240330")
    pair = compare_studies(baseline, followup, compare_settings, "P7")
    report = patient_report("P7", [followup, baseline], [pair], half_width_mm=45.0,
                            method="test", version="0.1.0", config_digest="abc",
                            edema_present_ml=compare_settings.status.edema_present_ml)
    assert [v.study_date for v in report.visits] == ["2024-01-01", "2024-03-30"]
    assert len(report.calls) == 1 and report.calls[0].status == "remission"
    assert len(report.images) == 1 and report.images[0].png[:4] == b"\x89PNG"
    text = write_patient_report(report, tmp_path / "P7.html").read_text()
    assert "remission" in text and "2024-03-30" in text
