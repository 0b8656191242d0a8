"""bme_mri.histogram: the smoothed histogram the normal-marrow references read their peaks from."""

from __future__ import annotations

import numpy as np

from bme_mri.histogram import smoothed_histogram


def test_peaks_are_found_lowest_first_and_small_ones_left_out():
    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(100, 5, 3000), rng.normal(200, 5, 6000), rng.normal(150, 3, 100)]
    histogram = smoothed_histogram(values, 96, 2.0)
    assert histogram.lo >= values.min() and histogram.hi <= values.max()  # percentiles, not extremes
    assert histogram.counts.size == histogram.centres.size == 96
    modes = histogram.centres[histogram.peaks(0.25)]
    assert len(modes) == 2 and abs(modes[0] - 100) < 3 and abs(modes[1] - 200) < 3
    assert abs(histogram.centres[histogram.bin_of(150.0)] - 150.0) <= histogram.width / 2
