"""One row per patient x side x follow-up: volumes, the status call and its reason; CSV out.

``OUT/longitudinal.csv`` columns (issue 4 contract, in this order): patient_id, side,
baseline_date, followup_date, interval_days, edema_baseline_ml, edema_followup_ml,
edema_change_pct, residual_edema, focal_necrosis, status, reason; then compared_with,
necrosis_baseline_ml, necrosis_followup_ml, registration_ok, registration_quality_ncc,
baseline_study_uid, followup_study_uid, qc_flags, qc_reason (quality-control flags of either
visit, and of the registration: codes joined by ';', and their reasons), then the edema
ranges edema_baseline_low_ml, edema_baseline_high_ml, edema_followup_low_ml,
edema_followup_high_ml (:mod:`bme_mri.segment.ranges`; the call does not call progression or
remission from a change inside them).
Booleans are written ``true``/``false``; unknown numbers are empty cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from bme_mri.compare.settings import StatusThresholds
from bme_mri.compare.status import Status, StatusCall, call_status
from bme_mri.compare.timepoints import parse_study_date
from bme_mri.compare.visit import SideVolumes
from bme_mri.io_utils import write_csv_atomic
from bme_mri.quantify.qc import BLOCKING, QcFlag, blocking_reasons
from bme_mri.types import Side


@dataclass(frozen=True)
class LongitudinalRow:
    """One hip at one follow-up, compared with the baseline or the previous visit.

    Volumes in ml, None where a visit's hip was not measured (a blocking QC flag);
    ``edema_change_pct`` is None when the reference had no edema or the call is
    ``indeterminate``; ``residual_edema``: follow-up edema >= ``edema_present_ml``;
    ``focal_necrosis``: follow-up necrosis >= ``necrosis_min_ml`` (both None when
    ``indeterminate``: no call).
    """

    patient_id: str
    side: str
    baseline_date: str
    followup_date: str
    interval_days: int | None
    edema_baseline_ml: float | None
    edema_followup_ml: float | None
    edema_change_pct: float | None
    residual_edema: bool | None
    focal_necrosis: bool | None
    status: str
    reason: str
    compared_with: str = "baseline"
    necrosis_baseline_ml: float | None = None
    necrosis_followup_ml: float | None = None
    registration_ok: bool | None = None
    registration_quality_ncc: float | None = None
    baseline_study_uid: str = ""
    followup_study_uid: str = ""
    qc_flags: str = ""
    qc_reason: str = ""
    edema_baseline_low_ml: float | None = None
    edema_baseline_high_ml: float | None = None
    edema_followup_low_ml: float | None = None
    edema_followup_high_ml: float | None = None


COLUMNS = [f.name for f in fields(LongitudinalRow)]


def iso_date(value: str) -> str:
    """'YYYYMMDD' or 'YYYY-MM-DD' -> 'YYYY-MM-DD' ('' when unknown)."""
    date = parse_study_date(value)
    return date.isoformat() if date else ""


def head_size_flag(baseline: SideVolumes, followup: SideVolumes,
                   thresholds: StatusThresholds) -> QcFlag | None:
    """``head_size_changed`` (blocking) when the same femoral head's volume (ml) differs by
    more than ``max_head_volume_change`` between the two visits (larger / smaller - 1): a head
    does not grow, so its two measurements do not describe the same thing."""
    if baseline.femoral_head_ml is None or followup.femoral_head_ml is None:
        return None  # a head fit that failed is flagged already
    small, large = sorted((float(baseline.femoral_head_ml), float(followup.femoral_head_ml)))
    if small <= 0 or large / small - 1.0 <= thresholds.max_head_volume_change:
        return None
    return QcFlag("head_size_changed",
                  f"the femoral head measures {baseline.femoral_head_ml:.1f} ml at one visit and "
                  f"{followup.femoral_head_ml:.1f} ml at the other (> {thresholds.max_head_volume_change:.0%} "
                  "apart): the heads were not found alike (e.g. failed fat suppression at one visit)",
                  BLOCKING)


def call_side(patient_id: str, side: Side | str, baseline_date: str, followup_date: str,
              baseline: SideVolumes, followup: SideVolumes, thresholds: StatusThresholds,
              compared_with: str = "baseline", registration_ok: bool | None = None,
              registration_quality_ncc: float | None = None, baseline_study_uid: str = "",
              followup_study_uid: str = "",
              extra_flags: Sequence[QcFlag] = ()) -> tuple[StatusCall, LongitudinalRow]:
    """The status call for one hip at one follow-up, and its CSV row.

    ``baseline`` is the reference visit's measurements (the baseline, or the previous visit
    when ``compared_with`` is 'previous'); dates as 'YYYYMMDD' or 'YYYY-MM-DD'. A blocking
    QC flag of either visit (or in ``extra_flags``, e.g. the registration's) makes the call
    ``indeterminate`` with no change figure, and a visit whose own flags block has no volumes
    in the row (blocked means not measured).
    """
    size = head_size_flag(baseline, followup, thresholds)
    tagged = ([(f, "baseline" if compared_with == "baseline" else "previous visit")
               for f in baseline.qc_flags]
              + [(f, "follow-up") for f in followup.qc_flags] + [(f, "") for f in extra_flags]
              + ([(size, "")] if size is not None else []))
    blocking = [reason for f, where in tagged for reason in blocking_reasons([f], where)]
    before, after = _measured(baseline), _measured(followup)
    call = call_status(before.edema_ml, after.edema_ml, after.necrosis_ml, thresholds, blocking=blocking,
                       baseline_range=before.edema_range_ml, followup_range=after.edema_range_ml)
    called = call.status != Status.INDETERMINATE
    row = LongitudinalRow(
        **_visit_fields(patient_id, side, baseline_date, followup_date, before, after,
                        baseline_study_uid, followup_study_uid),
        edema_change_pct=call.edema_change_pct if called else None,
        residual_edema=bool(after.edema_ml >= thresholds.edema_present_ml) if called else None,
        focal_necrosis=bool(after.necrosis_ml >= thresholds.necrosis_min_ml) if called else None,
        status=call.status.value, reason=call.reason, compared_with=compared_with,
        registration_ok=registration_ok, registration_quality_ncc=registration_quality_ncc,
        qc_flags=";".join(dict.fromkeys(f.code for f, _ in tagged)),
        qc_reason="; ".join(f"{f.code}{' at ' + w if w else ''} ({f.severity}): {f.reason}"
                            for f, w in tagged))
    return call, row


def unpaired_row(patient_id: str, side: Side | str, baseline_date: str, followup_date: str,
                 baseline: SideVolumes | None, followup: SideVolumes | None,
                 absences: Sequence[tuple[str, str]], compared_with: str = "baseline",
                 baseline_study_uid: str = "", followup_study_uid: str = "") -> LongitudinalRow:
    """The row of a hip seen at only one of the two visits: ``indeterminate``, no change figure.

    ``absences``: (visit name, why) for each visit without the hip ("femoral head not found:
    ...", or "outside the field of view"). Its QC flag is ``head_not_found`` when the head lay
    in the field of view at that visit, else ``head_outside_fov``; the visit where the hip was
    measured keeps its volumes in the row (not its flags' reasons: they are in summary.csv).
    """
    side_value = _side_value(side)
    flags = [("head_outside_fov" if why == "outside the field of view" else "head_not_found", name, why)
             for name, why in absences]
    reason = ("no call: " + "; ".join(f"the {side_value} hip at the {name} visit: {why}" for _, name, why in flags)
              + "; no change is reported")
    return LongitudinalRow(
        **_visit_fields(patient_id, side, baseline_date, followup_date,
                        None if baseline is None else _measured(baseline),
                        None if followup is None else _measured(followup),
                        baseline_study_uid, followup_study_uid),
        edema_change_pct=None, residual_edema=None, focal_necrosis=None,
        status=Status.INDETERMINATE.value, reason=reason, compared_with=compared_with,
        qc_flags=";".join(dict.fromkeys(code for code, _, _ in flags)),
        qc_reason="; ".join(f"{code} at {name} ({BLOCKING}): {why}" for code, name, why in flags))


def _side_value(side: Side | str) -> str:
    return side.value if isinstance(side, Side) else str(side)


def _visit_fields(patient_id: str, side: Side | str, baseline_date: str, followup_date: str,
                  before: SideVolumes | None, after: SideVolumes | None, baseline_study_uid: str,
                  followup_study_uid: str) -> dict:
    """The row's columns that describe the two visits (None where a visit has no such hip)."""
    first, second = parse_study_date(baseline_date), parse_study_date(followup_date)
    return dict(
        patient_id=str(patient_id), side=_side_value(side),
        baseline_date=iso_date(baseline_date), followup_date=iso_date(followup_date),
        interval_days=(second - first).days if first and second else None,
        edema_baseline_ml=None if before is None else before.edema_ml,
        edema_followup_ml=None if after is None else after.edema_ml,
        necrosis_baseline_ml=None if before is None else before.necrosis_ml,
        necrosis_followup_ml=None if after is None else after.necrosis_ml,
        baseline_study_uid=str(baseline_study_uid), followup_study_uid=str(followup_study_uid),
        edema_baseline_low_ml=_end(before, 0), edema_baseline_high_ml=_end(before, 1),
        edema_followup_low_ml=_end(after, 0), edema_followup_high_ml=_end(after, 1))


def _end(visit: SideVolumes | None, which: int) -> float | None:
    return None if visit is None or visit.edema_ml is None or visit.edema_range_ml is None else float(visit.edema_range_ml[which])


def _measured(visit: SideVolumes) -> SideVolumes:
    """``visit`` with its edema and necrosis None when its own QC flags block (whatever
    numbers it carries: blocked means not measured), else as measured (floats)."""
    if not visit.measured:
        return replace(visit, edema_ml=None, necrosis_ml=None, edema_range_ml=None)
    return replace(visit, edema_ml=None if visit.edema_ml is None else float(visit.edema_ml),
                   necrosis_ml=None if visit.necrosis_ml is None else float(visit.necrosis_ml))


def write_longitudinal_csv(rows: Iterable[LongitudinalRow], path: Path) -> Path:
    """Write rows (header always, even with no rows) atomically; returns ``path``."""
    return write_csv_atomic(Path(path), COLUMNS, (asdict(row) for row in rows), float_digits=3)
