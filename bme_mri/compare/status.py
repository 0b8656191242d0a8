"""The follow-up call per hip: remission / residual edema / progression / necrosis / no edema.

No published study defines remission by a volume threshold (see shared/DOMAIN.md): trials
grade presence and "reduction in size". The thresholds are therefore configuration
(``compare.status`` in configs/default.yaml), and the phantom truth is labelled by this
same function so that truth and prediction use one definition.

``indeterminate``: when the evidence of either visit fails a *blocking* quality-control rule
(:mod:`bme_mri.quantify.qc`: head fit poor, head cut by the field of view, implausible
reference marrow, fat not suppressed; or the comparison's own, e.g. a head that changed size),
no call is made and no change is reported: a failed fat suppression hides edema (a false
``remission``) or makes fatty marrow look like edema, and a dark band that QC cannot trust must
not become ``necrosis``. A blocked hip has no edema or necrosis figure at that visit at all
(:mod:`bme_mri.quantify.withhold`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bme_mri.compare.settings import StatusThresholds


class Status(str, Enum):
    NECROSIS = "necrosis"
    REMISSION = "remission"
    PROGRESSION = "progression"
    RESIDUAL_EDEMA = "residual_edema"
    NO_EDEMA = "no_edema"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class StatusCall:
    """A status with the reason a person can read, e.g. 'edema 18.2 -> 0.3 ml (-98%)'."""

    status: Status
    reason: str
    edema_change_pct: float | None


def _pct(baseline_ml: float, followup_ml: float) -> float | None:
    if baseline_ml <= 0:
        return None
    return 100.0 * (followup_ml - baseline_ml) / baseline_ml


def _span(span: tuple[float, float] | None, ml: float) -> tuple[float, float]:
    return (ml, ml) if span is None else (min(float(span[0]), ml), max(float(span[1]), ml))


def call_status(baseline_edema_ml: float | None, followup_edema_ml: float | None,
                followup_necrosis_ml: float | None, thresholds: StatusThresholds,
                blocking: Sequence[str] = (), baseline_range: tuple[float, float] | None = None,
                followup_range: tuple[float, float] | None = None) -> StatusCall:
    """Classify one hip at one follow-up from volumes in ml (rules in precedence order).

    ``baseline_range`` / ``followup_range``: the (low, high) edema volumes reported beside each
    visit's volume (:mod:`bme_mri.segment.ranges`; None = the volume alone). A change that stays
    inside the visits' ranges is not progression or remission on its own.

    0. ``indeterminate``: ``blocking`` holds the reasons of blocking QC flags of either
       visit, or a volume was not measured (None); no change figure (overrides everything,
       necrosis included);
    1. ``necrosis``: follow-up necrosis >= ``necrosis_min_ml`` (overrides the others);
    2. ``no_edema``: baseline and follow-up edema both < ``edema_present_ml``;
    3. ``remission``: follow-up edema < ``edema_present_ml``, and so is the high end of its
       range (otherwise ``indeterminate``: the image cannot tell remission from a residual
       edema, the reason says so);
    4. ``progression``: follow-up > baseline x ``progression_ratio`` and
       > baseline + ``progression_min_increase_ml``, and the low end of the follow-up's range
       above the high end of the baseline's (otherwise ``residual_edema``, the reason says so);
    5. ``residual_edema``: otherwise (edema still present).
    """
    if baseline_edema_ml is None or followup_edema_ml is None or followup_necrosis_ml is None:
        blocking = list(blocking) or ["edema or necrosis not measured at one of the visits"]
    if blocking:
        return StatusCall(Status.INDETERMINATE,
                          "QC failed: " + "; ".join(blocking) + "; no change is reported", None)
    pct = _pct(baseline_edema_ml, followup_edema_ml)
    pct_text = "n/a" if pct is None else f"{pct:+.0f}%"
    change = f"edema {baseline_edema_ml:.1f} -> {followup_edema_ml:.1f} ml ({pct_text})"
    present = thresholds.edema_present_ml
    if followup_necrosis_ml >= thresholds.necrosis_min_ml:
        return StatusCall(Status.NECROSIS,
                          f"focal necrosis {followup_necrosis_ml:.2f} ml at follow-up "
                          f"(>= {thresholds.necrosis_min_ml} ml); {change}", pct)
    if baseline_edema_ml < present and followup_edema_ml < present:
        return StatusCall(Status.NO_EDEMA, f"no edema at either visit (< {present} ml); {change}", pct)
    base_low, base_high = _span(baseline_range, baseline_edema_ml)
    follow_low, follow_high = _span(followup_range, followup_edema_ml)
    if followup_edema_ml < present:
        if follow_high < present:
            return StatusCall(Status.REMISSION, f"{change}; below {present} ml (range up to {follow_high:.1f} ml)", pct)
        return StatusCall(Status.INDETERMINATE,
                          f"{change}; below {present} ml, but its range reaches {follow_high:.1f} ml: "
                          "remission cannot be told from residual edema on this image; no call", None)
    if (followup_edema_ml > baseline_edema_ml * thresholds.progression_ratio
            and followup_edema_ml > baseline_edema_ml + thresholds.progression_min_increase_ml):
        if follow_low > base_high:
            return StatusCall(Status.PROGRESSION,
                              f"{change}; grew > x{thresholds.progression_ratio} and "
                              f"> +{thresholds.progression_min_increase_ml} ml, beyond both visits' ranges "
                              f"({base_low:.1f}-{base_high:.1f} -> {follow_low:.1f}-{follow_high:.1f} ml)", pct)
        return StatusCall(Status.RESIDUAL_EDEMA,
                          f"{change}; grew, but within the visits' combined ranges ({base_low:.1f}-{base_high:.1f}"
                          f" -> {follow_low:.1f}-{follow_high:.1f} ml): not called progression on its own", pct)
    return StatusCall(Status.RESIDUAL_EDEMA, f"{change}; edema persists (>= {present} ml)", pct)
