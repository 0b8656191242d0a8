"""Assemble a :class:`~bme_mri.report.model.PatientReport` from compare-stage results."""

from __future__ import annotations

import numpy as np

import tempfile
from collections.abc import Sequence
from pathlib import Path

from bme_mri.compare.longitudinal import iso_date
from bme_mri.compare.study_pair import PairComparison
from bme_mri.compare.timepoints import order_studies
from bme_mri.compare.visit import VisitResult
from bme_mri.quantify.qc import REVIEW_CODES, is_blocking
from bme_mri.report.model import PatientReport, ReportImage, SideCall, SideMeasurement, VisitSummary
from bme_mri.report.overlay import FOCUS_NEAR_MM, FocusPoint, lesion_focus, render_pair_png
from bme_mri.types import Label


def _ml_text(value: float | None, digits: int) -> str:
    return "not measured" if value is None else f"{value:.{digits}f}"


def _volumes_text(base: VisitResult, follow: VisitResult, side) -> str:
    """'edema 12.3 -> 1.2 ml, necrosis 0.00 -> 0.80 ml' for a figure title ('not measured' for
    a visit whose hip failed a blocking quality-control rule)."""
    before, after = base.sides[side], follow.sides.get(side)

    def figures(v) -> tuple[float | None, float | None]:
        return (v.edema_ml, v.necrosis_ml) if v.measured else (None, None)

    edema_0, necrosis_0 = figures(before)
    if after is None:
        return (f"edema {_ml_text(edema_0, 1)}, necrosis {_ml_text(necrosis_0, 2)} (ml) at baseline")
    edema_1, necrosis_1 = figures(after)
    return (f"edema {_ml_text(edema_0, 1)} -> {_ml_text(edema_1, 1)}, "
            f"necrosis {_ml_text(necrosis_0, 2)} -> {_ml_text(necrosis_1, 2)} (ml)")


def pair_focus(base: VisitResult, follow: VisitResult, side, matrix_lps) -> list[FocusPoint]:
    """Rows of a side's baseline / follow-up picture, in the baseline's LPS space: the head
    centre, the necrosis (follow-up's, else baseline's) and the largest edema (baseline's, else
    follow-up's). A follow-up point q is shown at inv(matrix) q, the baseline point the
    registration maps onto it."""
    center = np.asarray(base.sides[side].center_lps_mm, dtype=np.float64)
    matrix = np.eye(4) if matrix_lps is None else np.asarray(matrix_lps, dtype=np.float64)
    follow_side = follow.sides.get(side)
    follow_center = (np.asarray(follow_side.center_lps_mm, dtype=np.float64) if follow_side is not None
                     else (matrix @ np.append(center, 1.0))[:3])
    inverse = np.linalg.inv(matrix)
    points = [FocusPoint("head centre", center)]
    for label, what, order in ((Label.NECROSIS, "necrosis", ("follow-up", "baseline")),
                               (Label.EDEMA, "largest edema", ("baseline", "follow-up"))):
        for visit in order:
            source, near = (follow, follow_center) if visit == "follow-up" else (base, center)
            found = lesion_focus(source.labels, source.volume.geometry, int(label), near, FOCUS_NEAR_MM)
            if found is None:
                continue
            point = found[0] if visit == "baseline" else (inverse @ np.append(found[0], 1.0))[:3]
            points.append(FocusPoint(f"{'FU' if visit == 'follow-up' else 'BL'} {what}", point, marked=True,
                                     volume_ml=found[1]))
            break
    return points


def patient_report(patient_id: str, visits: Sequence[VisitResult],
                   pairs: Sequence[PairComparison], *, half_width_mm: float, method: str,
                   version: str, config_digest: str, edema_present_ml: float | None = None,
                   warnings: Sequence[str] = ()) -> PatientReport:
    """Visits (any order), their comparisons, and one side-by-side PNG per side and follow-up.

    Images are drawn for comparisons with the baseline whose registration passed; a failed
    registration gets a warning instead of a misleading picture.
    """
    ordered = order_studies(list(visits), lambda v: v.study_date, lambda v: v.study_time,
                            lambda v: v.study_uid)
    by_uid = {v.study_uid: v for v in ordered}
    summaries = [
        VisitSummary(v.study_uid, iso_date(v.study_date) or v.study_date,
                     {side.value: SideMeasurement(m.edema_ml if m.measured else None,
                                                  m.necrosis_ml if m.measured else None,
                                                  m.femoral_head_ml,
                                                  tuple((f.code, f.severity, f.reason)
                                                        for f in m.qc_flags),
                                                  m.not_measured or ("" if m.measured else "not measured"),
                                                  m.edema_range_ml if m.measured else None)
                      for side, m in v.sides.items()},
                     str(v.meta.get("series_description") or v.volume.meta.get("description", "")),
                     {side.value: why for side, why in v.not_found.items()})
        for v in ordered]
    calls: list[SideCall] = []
    images: list[ReportImage] = []
    notes = list(warnings)
    for visit in ordered:
        for side, m in visit.sides.items():
            for flag in m.qc_flags:
                if is_blocking(flag):
                    notes.append(f"{side.value} hip, {iso_date(visit.study_date) or visit.study_date}: "
                                 f"quality control failed ({flag.code}): {flag.reason}; its edema and "
                                 "necrosis are not measured and no status is called from it")
                elif flag.code in REVIEW_CODES:
                    notes.append(f"{side.value} hip, {iso_date(visit.study_date) or visit.study_date}: "
                                 f"check the image ({flag.code}): {flag.reason}; its figures are shown")
    with tempfile.TemporaryDirectory(prefix="bme-report-") as tmp:
        for pair_index, pair in enumerate(pairs):
            notes.extend(pair.warnings)
            base = by_uid.get(pair.baseline_uid)
            follow = by_uid.get(pair.followup_uid)
            for row in pair.unpaired.values():  # seen at one visit only: its indeterminate call
                calls.append(SideCall(row.side, row.baseline_date, row.followup_date, row.status,
                                      row.reason, row.compared_with))
            for side, result in pair.sides.items():
                row = result.row
                calls.append(SideCall(row.side, row.baseline_date, row.followup_date, row.status,
                                      row.reason, row.compared_with,
                                      result.registration.ok, result.registration.message))
                if pair.compared_with != "baseline" or base is None or follow is None:
                    continue
                if not result.registration.ok:
                    continue
                center = base.sides[side].center_lps_mm
                png = Path(tmp) / f"pair{pair_index}_{side.value}.png"
                focus = pair_focus(base, follow, side, result.registration.matrix_lps)
                render_pair_png(base.volume, base.labels, follow.volume, follow.labels,
                                result.registration.matrix_lps, png, center,
                                title=f"{side.value} hip: {_volumes_text(base, follow, side)}",
                                half_width_mm=half_width_mm, focus=focus,
                                captions=("BL", "FU"))
                rows = ", ".join(point.what for point in focus)
                images.append(ReportImage(
                    f"{side.value} hip: baseline {row.baseline_date} (left, BL) and follow-up "
                    f"{row.followup_date} (right, FU), registered; {row.status}. Rows through: {rows}; "
                    f"dashed rings mark the lesions", png.read_bytes()))
    return PatientReport(patient_id, summaries, calls, images, method=method, version=version,
                         config_digest=config_digest, warnings=notes,
                         edema_present_ml=edema_present_ml)
