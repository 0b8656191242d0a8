"""Visit ordering: by StudyDate then StudyTime; baseline + previous comparisons."""

from __future__ import annotations

import datetime as dt

from bme_mri.compare.timepoints import comparisons, order_studies, parse_study_date, parse_study_time

STUDIES = [  # (uid, date, time) deliberately out of order
    ("c", "20240610", "080000"),
    ("a", "2024-01-15", "120000"),
    ("b2", "20240410", "153000.5"),
    ("b1", "20240410", "09:15:00"),
]


def _cmp(studies):
    return comparisons(studies, date_of=lambda s: s[1], time_of=lambda s: s[2],
                       uid_of=lambda s: s[0])


def test_studies_are_ordered_by_date_then_time_not_input_order():
    ordered = order_studies(STUDIES, lambda s: s[1], lambda s: s[2])
    assert [s[0] for s in ordered] == ["a", "b1", "b2", "c"]


def test_each_followup_is_compared_with_baseline_and_previous_visit():
    pairs = [(c.reference[0], c.followup[0], c.compared_with) for c in _cmp(STUDIES)]
    assert pairs == [
        ("a", "b1", "baseline"),
        ("a", "b2", "baseline"), ("b1", "b2", "previous"),
        ("a", "c", "baseline"), ("b2", "c", "previous"),
    ]


def test_interval_days_counts_calendar_days():
    first = _cmp(STUDIES)[0]
    assert first.interval_days == (dt.date(2024, 4, 10) - dt.date(2024, 1, 15)).days == 86


def test_single_study_gives_no_comparison_and_missing_dates_sort_last():
    assert _cmp(STUDIES[:1]) == []
    ordered = order_studies([("x", "", ""), ("y", "20200101", "")], lambda s: s[1])
    assert [s[0] for s in ordered] == ["y", "x"]
    assert comparisons([("x", "garbage"), ("y", "20200101")], lambda s: s[1])[0].interval_days is None


def test_date_and_time_parsing():
    assert parse_study_date("20240229") == dt.date(2024, 2, 29)
    assert parse_study_date("2024-13-01") is None
    assert parse_study_time("0930") == 9 * 3600 + 30 * 60
    assert parse_study_time("not a time") == 0.0
