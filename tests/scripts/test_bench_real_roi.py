"""scripts/bench_real_roi.py: the acceptance band and the leave-one-scan-out choice."""

from __future__ import annotations


def test_volume_band_is_half_to_twice_the_readers_and_readers_plus_1_ml_on_a_near_normal_scan(bench_real_roi):
    ok = bench_real_roi.volume_ok
    assert ok(10.0, 10.0) and ok(5.0, 10.0) and ok(20.0, 10.0)
    assert not ok(4.9, 10.0) and not ok(20.1, 10.0)
    assert ok(0.0, 0.5) and ok(1.5, 0.5) and not ok(1.6, 0.5)  # near normal: readers' mean + 1 ml


def test_the_choice_never_sees_the_scan_it_is_scored_on(bench_real_roi):
    def entry(ratio, ok=True):
        return {"dice_over_agreement": ratio, "volume_ok": ok}

    # setting a is best on A and B; setting b wins only on C, where a leaves the band
    results = {name: {("a",): {"A": entry(0.9), "B": entry(0.9), "C": entry(0.2, ok=False)},
                      ("b",): {"A": entry(0.5), "B": entry(0.5), "C": entry(0.9)}}
               for name, _ in bench_real_roi.OURS}
    key, failures, _ = bench_real_roi.choose(results, ["A", "B"])
    assert key == ("a",) and failures == 0
    key, failures, _ = bench_real_roi.choose(results, ["A", "C"])
    assert key == ("b",) and failures == 0  # a fails the band on C: the feasible setting wins
