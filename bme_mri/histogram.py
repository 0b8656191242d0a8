"""A smoothed intensity histogram and its peaks: where the normal-marrow references (hip and ROI
mode) look for the lowest substantial peak, and where two peaks are told apart."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class SmoothedHistogram:
    """Counts of values between their 0.5th and 99.5th percentiles (``lo``, ``hi``; image
    units), in equal bins of ``width`` centred on ``centres``, Gaussian-smoothed."""

    counts: np.ndarray
    centres: np.ndarray
    width: float
    lo: float
    hi: float

    def peaks(self, min_fraction: float) -> np.ndarray:
        """Bins of the local maxima at least ``min_fraction`` x the highest, lowest first."""
        smooth = self.counts
        is_peak = np.r_[True, smooth[1:] >= smooth[:-1]] & np.r_[smooth[:-1] > smooth[1:], True]
        return np.flatnonzero(is_peak & (smooth >= min_fraction * smooth.max()))

    def bin_of(self, value: float) -> int:
        """The bin whose centre is nearest ``value``."""
        return int(np.argmin(np.abs(self.centres - value)))


def smoothed_histogram(values: np.ndarray, bins: int, smooth_bins: float) -> SmoothedHistogram:
    """The histogram of ``values`` in ``bins`` bins over their 0.5-99.5th percentiles, smoothed
    by a Gaussian of ``smooth_bins`` bins (outliers do not stretch the bins)."""
    lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    hist, edges = np.histogram(values, bins=bins, range=(lo, hi))
    smooth = ndimage.gaussian_filter1d(hist.astype(np.float64), smooth_bins)
    return SmoothedHistogram(smooth, 0.5 * (edges[:-1] + edges[1:]), float(edges[1] - edges[0]), lo, hi)
