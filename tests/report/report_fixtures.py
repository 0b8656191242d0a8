"""A small but complete PatientReport built from synthetic hips (shared by report tests)."""

from __future__ import annotations

from pathlib import Path

from bme_mri.report.model import PatientReport, ReportImage, SideCall, SideMeasurement, VisitSummary
from bme_mri.report.overlay import render_pair_png
from tests.compare.synthetic_hip import HipScene, coronal_geometry, render_visit, rigid_matrix


def sample_report(tmp_path: Path, patient_id: str = "PAT-001") -> PatientReport:
    before = HipScene.build(1, edema_radius_mm=12.0)
    after = HipScene.build(1, edema_radius_mm=0.0, necrosis_radius_mm=5.0)
    center = before.head_center
    baseline, base_labels = render_visit(before, coronal_geometry(center))
    motion = rigid_matrix((2.0, 3.0, -4.0), (8.0, 5.0, -6.0), center)
    followup, follow_labels = render_visit(after, coronal_geometry(center), motion, seed=3)
    pair = render_pair_png(baseline, base_labels, followup, follow_labels, motion,
                           tmp_path / "pair.png", center, title="right hip",
                           captions=("2024-01-10", "2024-04-12"), half_width_mm=45.0)
    visits = [
        VisitSummary("1.2.1", "2024-01-10", {"right": SideMeasurement(7.2, 0.0, 52.0),
                                             "left": SideMeasurement(0.1, 0.0, 51.0)}, "COR STIR"),
        VisitSummary("1.2.2", "2024-04-12", {"right": SideMeasurement(0.3, 0.4, 52.1),
                                             "left": SideMeasurement(0.1, 0.0, 51.2)}, "COR STIR"),
    ]
    calls = [
        SideCall("right", "2024-01-10", "2024-04-12", "necrosis",
                 "focal necrosis 0.40 ml at follow-up (>= 0.2 ml); edema 7.2 -> 0.3 ml (-96%)",
                 "baseline", True, "rigid registration: NCC 0.10 -> 0.90"),
        SideCall("left", "2024-01-10", "2024-04-12", "no_edema",
                 "no edema at either visit (< 0.5 ml); edema 0.1 -> 0.1 ml (+0%)", "baseline",
                 True, ""),
    ]
    return PatientReport(patient_id, visits, calls,
                         [ReportImage("right hip: baseline (left) and follow-up (right)", pair)],
                         method="Femoral heads segmented on the coronal STIR; rigid registration.",
                         version="0.1.0", config_digest="0123456789abcdef",
                         warnings=["example warning <b>not bold</b>"], edema_present_ml=0.5)
