"""Choose, per study, the stack to analyse and its companion T1 (rules in ``ingest.select``)."""

from __future__ import annotations

from bme_mri.errors import NoEdemaSeriesError, SeriesSelectionError
from bme_mri.ingest.models import Selection, StackInfo, StudyInfo
from bme_mri.ingest.settings import IngestSettings

def describe_stack(stack: StackInfo) -> str:
    """"coronal STIR 'COR STIR' #5" — orientation, class, description, series number."""
    number = f" #{stack.series_number}" if stack.series_number is not None else ""
    return f"{stack.orientation or 'unknown-plane'} {stack.sequence.display} '{stack.description}'{number}"


def study_contents(study: StudyInfo) -> str:
    """What a study holds, by class: "T2 x3, diffusion x4, ADC/diffusion map x2, localizer x3".

    Counts are stacks (a multi-b diffusion series counts once per b-value, a dynamic series
    once per phase). Unreadable stacks of a class that could be analysed (STIR, T2 fat-sat) are
    counted apart with their errors; those of classes never analysed (a 4-D fMRI or diffusion
    series, a CT) are counted under their class: their errors stay in ``inspect``'s series list
    and ``--json``, not in a study's reason.
    """
    counts: dict[str, int] = {}
    broken: list[str] = []
    for stack in study.stacks:
        if stack.error is not None and stack.sequence.edema_sensitive:
            broken.append(stack.error)
            continue
        counts[stack.sequence.display] = counts.get(stack.sequence.display, 0) + 1
    parts = [f"{name} x{n}" for name, n in counts.items()]
    if broken:
        more = f"; and {len(broken) - 2} more" if len(broken) > 2 else ""
        parts.append(f"unreadable x{len(broken)} ({'; '.join(broken[:2])}{more})")
    return ", ".join(parts) or "no image series"


def _latest(candidates: list[StackInfo]) -> StackInfo:
    return max(candidates, key=lambda s: (s.series_number if s.series_number is not None else -1, s.stack_id))


def _repeat_note(candidates: list[StackInfo]) -> str:
    return f" (later of {len(candidates)} repeats)" if len(candidates) > 1 else ""


def select_series(study: StudyInfo, settings: IngestSettings) -> Selection:
    """The analysis stack (priority list in config; later SeriesNumber among repeats) and a T1.

    Stacks with an error or fewer than ``select.min_slices`` slices are never chosen.

    Raises
    ------
    SeriesSelectionError
        One line listing what the study has, when no stack fits.
    """
    rules = settings.select
    usable = [s for s in study.stacks if s.error is None and s.n_slices >= rules.min_slices]
    for rank, rule in enumerate(rules.analysis_priority, start=1):
        candidates = [s for s in usable if s.sequence == rule.sequence
                      and (rule.orientation == "any" or s.orientation == rule.orientation)]
        if not candidates:
            continue
        chosen = _latest(candidates)
        reason = f"{describe_stack(chosen)}{_repeat_note(candidates)}"
        if rank > 1:
            reason += f" (priority {rank}: {rule.orientation} {rule.sequence.value})"
        return Selection(analysis=chosen, t1=_pick_t1(usable, chosen, settings), reason=reason)
    wanted = ", ".join(f"{r.orientation} {r.sequence.value}" for r in rules.analysis_priority)
    broken = [s for s in study.stacks if s.error is not None
              and any(s.sequence == r.sequence for r in rules.analysis_priority)]
    if broken:  # the series we wanted exists but cannot be used: its own reason is the news
        raise SeriesSelectionError(
            f"study {study.study_uid} of patient {study.patient_id}: the only candidate series "
            f"cannot be used: {broken[-1].error}")
    sensitive = [s for s in study.stacks if s.sequence.edema_sensitive]
    if not sensitive:
        raise NoEdemaSeriesError(
            f"no STIR or fat-suppressed T2 (no edema-sensitive series): found {study_contents(study)}")
    listing = "; ".join(
        describe_stack(s) + (f" [{s.n_slices} slices]" if s.error is None else " [unreadable]")
        for s in study.stacks)
    raise SeriesSelectionError(
        f"study {study.study_uid} of patient {study.patient_id}: no series to analyse (looked for "
        f"{wanted} with >= {rules.min_slices} slices); it has: {listing}")


def _pick_t1(usable: list[StackInfo], analysis: StackInfo, settings: IngestSettings) -> StackInfo | None:
    candidates = [s for s in usable if s.sequence in settings.select.t1_classes]
    if not candidates:
        return None
    if settings.select.t1_prefer_same_orientation:
        same = [s for s in candidates if s.orientation == analysis.orientation]
        if same:
            return _latest(same)
    return _latest(candidates)
