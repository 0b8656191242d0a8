"""Normal-marrow reference for ROI mode: what the lesions are judged against, reported.

The normal marrow itself is estimated with the lesions (:mod:`bme_mri.quantify.lesions`,
:mod:`bme_mri.quantify.normal_field`): its level per voxel, its spread, and the voxels it was
fitted to. :class:`ReferenceEstimate` is its summary for the reader (and the mask written as
``reference.nii.gz``); :func:`lowest_peak` gives the bone-wide normal centre (the lowest
substantial histogram peak of the deep bone: edema and vessels only raise STIR signal, so the
normal marrow is the lowest peak, even when edema fills much of the bone); :func:`given_reference`
summarises a normal-marrow sample drawn by the user (the VHI baseline's input).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bme_mri.histogram import smoothed_histogram


@dataclass
class ReferenceEstimate:
    """The normal marrow ROI mode compares against.

    Attributes
    ----------
    mask : bool ``[i, j, k]``: the voxels the statistics come from.
    source : "given" or "automatic".
    median, robust_sd : image units (of the smoothed image the rules run on).
    n_voxels : voxels in ``mask``.
    description : where they come from, for the reader.
    """

    mask: np.ndarray
    source: str
    median: float
    robust_sd: float
    n_voxels: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "description": self.description, "n_voxels": self.n_voxels,
                "median": self.median, "robust_sd": self.robust_sd}


def robust_sd(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation (equals the sd for normal data)."""
    values = np.asarray(values, dtype=np.float64)
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def given_reference(smoothed: np.ndarray, normal: np.ndarray) -> ReferenceEstimate:
    """Statistics of a given normal-marrow sample (all its voxels)."""
    values = smoothed[normal].astype(np.float64)
    median = float(np.median(values))
    sd = max(robust_sd(values), 1e-6 * max(abs(median), 1.0))
    return ReferenceEstimate(mask=normal.copy(), source="given", median=median, robust_sd=sd,
                             n_voxels=int(normal.sum()), description="given normal-marrow mask")


def lowest_peak(values: np.ndarray, bins: int, smooth_bins: float,
                peak_min_fraction: float) -> tuple[float, float]:
    """(mode, sd) of the lowest histogram peak at least ``peak_min_fraction`` x the highest.

    The sd is the peak's half width at half maximum / 1.1774 (a normal peak's), taking the
    narrower side: edema and vessels widen the upper side, sclerosis and cortex the lower one,
    each only its own; the histogram smoothing's own width is subtracted in quadrature.
    """
    histogram = smoothed_histogram(values, bins, smooth_bins)
    smooth, width = histogram.counts, histogram.width
    peaks = histogram.peaks(peak_min_fraction)
    if not peaks.size:
        return float(np.median(values)), max(robust_sd(values), width)
    top = int(peaks[0])
    half = 0.5 * smooth[top]
    below = np.flatnonzero(smooth[:top] < half)
    above = np.flatnonzero(smooth[top:] < half)
    sides = []
    if below.size:
        sides.append((top - below[-1]) * width)
    if above.size:
        sides.append(above[0] * width)
    hwhm = min(sides) if sides else 0.5 * (histogram.hi - histogram.lo)
    sd = np.sqrt(max((hwhm / 1.1774) ** 2 - (smooth_bins * width) ** 2, 0.0))
    return float(histogram.centres[top]), max(float(sd), width)
