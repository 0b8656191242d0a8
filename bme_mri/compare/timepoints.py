"""Order a patient's visits in time and pick the comparisons to make.

Studies are ordered by StudyDate, then StudyTime, then study UID (a stable tie-break). The
earliest is the baseline; every later study is a follow-up compared with the baseline and,
from the second follow-up on, also with the previous visit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def parse_study_date(value: str) -> dt.date | None:
    """'YYYYMMDD' (DICOM DA) or 'YYYY-MM-DD' -> date; None when empty or malformed."""
    text = str(value or "").strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%Y.%m.%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_study_time(value: str) -> float:
    """DICOM TM ('HHMMSS.frac', 'HH:MM:SS', 'HHMM', ...) -> seconds since midnight (0 if bad)."""
    text = str(value or "").strip().replace(":", "")
    if not text:
        return 0.0
    whole, _, frac = text.partition(".")
    try:
        hours = int(whole[0:2]) if len(whole) >= 2 else 0
        minutes = int(whole[2:4]) if len(whole) >= 4 else 0
        seconds = int(whole[4:6]) if len(whole) >= 6 else 0
        fraction = float("0." + frac) if frac.isdigit() else 0.0
    except ValueError:
        return 0.0
    return hours * 3600.0 + minutes * 60.0 + seconds + fraction


@dataclass(frozen=True)
class Comparison(Generic[T]):
    """One follow-up compared with one earlier visit.

    ``compared_with`` is 'baseline' or 'previous' (the visit just before the follow-up; only
    made when it is not the baseline itself).
    """

    reference: T
    followup: T
    compared_with: str
    interval_days: int | None


def order_studies(studies: Sequence[T], date_of: Callable[[T], str],
                  time_of: Callable[[T], str] = lambda _: "",
                  uid_of: Callable[[T], str] = lambda _: "") -> list[T]:
    """Studies sorted by (date, time, uid); studies without a valid date go last.

    ``date_of``/``time_of``/``uid_of`` extract StudyDate ('YYYYMMDD' or 'YYYY-MM-DD'),
    StudyTime and StudyInstanceUID from each item (any type).
    """
    def key(item: T) -> tuple:
        date = parse_study_date(date_of(item))
        return (date is None, date or dt.date.max, parse_study_time(time_of(item)),
                str(uid_of(item)))

    return sorted(studies, key=key)


def _interval(a: str, b: str) -> int | None:
    first, second = parse_study_date(a), parse_study_date(b)
    if first is None or second is None:
        return None
    return (second - first).days


def comparisons(studies: Sequence[T], date_of: Callable[[T], str],
                time_of: Callable[[T], str] = lambda _: "",
                uid_of: Callable[[T], str] = lambda _: "") -> list[Comparison[T]]:
    """The comparisons to make for one patient's studies (any order in, time order out).

    For ordered visits v0 (baseline), v1, v2, ...: (v0, v1, 'baseline'), (v0, v2, 'baseline'),
    (v1, v2, 'previous'), ... A single study gives no comparison.
    """
    ordered = order_studies(studies, date_of, time_of, uid_of)
    if not ordered:
        return []
    baseline = ordered[0]
    result: list[Comparison[T]] = []
    for index in range(1, len(ordered)):
        followup = ordered[index]
        result.append(Comparison(baseline, followup, "baseline",
                                 _interval(date_of(baseline), date_of(followup))))
        if index >= 2:
            previous = ordered[index - 1]
            result.append(Comparison(previous, followup, "previous",
                                     _interval(date_of(previous), date_of(followup))))
    return result
