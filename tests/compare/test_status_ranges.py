"""The follow-up call and the volume ranges: a change inside the visits' ranges is not
progression or remission on its own."""

from __future__ import annotations

from bme_mri.compare.status import Status, call_status


def test_growth_inside_the_combined_ranges_is_not_progression(compare_settings):
    # 6.0 -> 8.5 ml passes x1.25 and +1 ml, but the baseline could be 8.8 and the follow-up 7.2
    call = call_status(6.0, 8.5, 0.0, compare_settings.status, baseline_range=(4.9, 8.8),
                       followup_range=(7.2, 10.1))
    assert call.status == Status.RESIDUAL_EDEMA
    assert "not called progression on its own" in call.reason and "4.9-8.8" in call.reason


def test_growth_beyond_both_ranges_is_progression(compare_settings):
    call = call_status(6.0, 12.0, 0.0, compare_settings.status, baseline_range=(5.0, 7.0),
                       followup_range=(10.5, 13.0))
    assert call.status == Status.PROGRESSION
    assert "beyond both visits' ranges" in call.reason


def test_without_ranges_the_volumes_alone_decide(compare_settings):
    assert call_status(6.0, 8.5, 0.0, compare_settings.status).status == Status.PROGRESSION
    assert call_status(6.0, 0.3, 0.0, compare_settings.status).status == Status.REMISSION


def test_remission_needs_the_whole_followup_range_below_presence(compare_settings):
    present = compare_settings.status.edema_present_ml
    unsure = call_status(6.0, 0.8 * present, 0.0, compare_settings.status, followup_range=(0.1, 1.5 * present))
    assert unsure.status == Status.INDETERMINATE and "cannot be told" in unsure.reason
    assert unsure.edema_change_pct is None
    sure = call_status(6.0, 0.1, 0.0, compare_settings.status, followup_range=(0.0, 0.5 * present))
    assert sure.status == Status.REMISSION


def test_necrosis_and_blocking_keep_their_precedence(compare_settings):
    assert call_status(6.0, 8.5, 0.5, compare_settings.status, baseline_range=(4.9, 8.8),
                       followup_range=(7.2, 10.1)).status == Status.NECROSIS
    assert call_status(6.0, 12.0, 0.0, compare_settings.status, blocking=["head cut"],
                       baseline_range=(5.0, 7.0), followup_range=(10.5, 13.0)).status == Status.INDETERMINATE
