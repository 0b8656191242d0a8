"""`bme-mri validate` on the smoke cohort (what CI runs): accuracy floors from the config."""

from __future__ import annotations

import json


def test_smoke_cohort_meets_every_validation_floor(smoke_validation):
    report, _ = smoke_validation
    assert report.passed, report.failures
    assert report.metrics["head_dice_mean"] is not None
    saved = json.loads(report.json_path.read_text())
    assert saved["passed"] and saved["metrics"] == report.metrics


def test_every_true_side_was_scored(smoke_validation):
    report, _ = smoke_validation
    assert report.sides and all(s.found for s in report.sides)
    assert all(s.error is None for s in report.sides)


def test_followup_statuses_are_scored_against_the_truth(smoke_validation):
    report, _ = smoke_validation
    assert report.statuses, "the smoke cohort has follow-ups; each must get a status"
    assert report.metrics["status_accuracy"] is not None
