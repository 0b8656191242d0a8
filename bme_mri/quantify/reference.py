"""Normal-marrow reference for ROI mode: a given sample, or found automatically in the bone.

* **Given** (as in the VHI study): every voxel of the user's normal-marrow mask is used; the
  centre is their median and the spread their robust sd (1.4826 x MAD), which holds the
  marrow's own heterogeneity as well as the noise.
* **Automatic**: real marrow is heterogeneous (red and yellow marrow, vessels, partial volume
  with cortex and joint fluid, edema). The candidates are the bone mask's voxels deeper than
  ``reference_depth_mm`` (clear of cortex and surface fluid). Edema and vessels only *raise*
  STIR signal, so the normal marrow is the lowest substantial peak of the candidates'
  histogram (``reference_peak_min_fraction`` of the highest peak); its sd is measured from the
  peak's half width at half maximum on its narrower side (edema widens only the upper side,
  sclerosis and cortex only the lower one). The reference voxels are the
  candidates within mode +/- ``reference_window_sd`` x that sd, so bright outliers (edema,
  vessels) and dark ones (cortex, sclerosis) are left out; they are returned as a mask for the
  reader to check. Their centre is the peak (mode); their spread (the sd the lesion rules use) is
  measured around each voxel's neighbourhood mean (``reference_local_scale_mm``), as a
  hand-drawn sample of that size would show it: the whole-bone peak also holds slow variation
  from one bone to the next, which is not the noise a lesion must stand out from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from bme_mri.quantify.settings import RoiSettings


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


def erode_mm(mask: np.ndarray, depth_mm: float, spacing_mm: tuple[float, float, float]) -> np.ndarray:
    """Voxels of ``mask`` deeper than ``depth_mm`` (mm) under its surface (array edge = outside)."""
    return depth_below_surface_mm(mask, spacing_mm) > depth_mm


def depth_below_surface_mm(mask: np.ndarray, spacing_mm: tuple[float, float, float]) -> np.ndarray:
    """Distance (mm) of each voxel of ``mask`` to the nearest voxel outside it (0 outside)."""
    padded = np.pad(np.asarray(mask, dtype=bool), 1, constant_values=False)
    return ndimage.distance_transform_edt(padded, sampling=spacing_mm)[1:-1, 1:-1, 1:-1]


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
    lo, hi = np.percentile(values, [0.5, 99.5])
    hist, edges = np.histogram(values, bins=bins, range=(lo, hi))
    smooth = ndimage.gaussian_filter1d(hist.astype(np.float64), smooth_bins)
    is_peak = np.r_[True, smooth[1:] >= smooth[:-1]] & np.r_[smooth[:-1] > smooth[1:], True]
    peaks = np.flatnonzero(is_peak & (smooth >= peak_min_fraction * smooth.max()))
    centres = 0.5 * (edges[:-1] + edges[1:])
    width = float(edges[1] - edges[0])
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
    hwhm = min(sides) if sides else 0.5 * (hi - lo)
    sd = np.sqrt(max((hwhm / 1.1774) ** 2 - (smooth_bins * width) ** 2, 0.0))
    return float(centres[top]), max(float(sd), width)


def automatic_reference(smoothed: np.ndarray, bone: np.ndarray, spacing_mm: tuple[float, float, float],
                        settings: RoiSettings) -> ReferenceEstimate | None:
    """Normal marrow found inside ``bone`` (see the module docstring); None when too few voxels."""
    deep = erode_mm(bone, settings.reference_depth_mm, spacing_mm)
    description = f"automatic: lowest histogram peak of the bone mask deeper than {settings.reference_depth_mm} mm"
    if deep.sum() < settings.reference_source_min_voxels:
        deep = bone
        description = "automatic: lowest histogram peak of the whole bone mask (too thin to erode)"
    values = smoothed[deep].astype(np.float64)
    if values.size < settings.reference_source_min_voxels:
        return None
    mode, sd = lowest_peak(values, settings.reference_histogram_bins, settings.reference_histogram_smooth_bins,
                           settings.reference_peak_min_fraction)
    window = settings.reference_window_sd * sd
    chosen = deep & (smoothed >= mode - window) & (smoothed <= mode + window)
    if chosen.sum() < settings.reference_source_min_voxels:
        return None
    local_sd = local_spread(smoothed, chosen, spacing_mm, settings.reference_local_scale_mm)
    # The centre is the peak itself: the window's median is pulled up by whatever brighter
    # marrow (red marrow, faint edema) shares the window's upper half.
    return ReferenceEstimate(mask=chosen, source="automatic", median=mode,
                             robust_sd=max(local_sd, 1e-6 * max(abs(mode), 1.0)),
                             n_voxels=int(chosen.sum()), description=description)


def local_spread(smoothed: np.ndarray, mask: np.ndarray, spacing_mm: tuple[float, float, float],
                 scale_mm: float) -> float:
    """Robust sd of the voxels of ``mask`` around their neighbourhood mean (Gaussian of
    ``scale_mm``, normalised inside ``mask``): the spread a hand-drawn sample of that size
    would show, without the slow variation across bones (coil shading, red vs yellow marrow
    from one bone to the next) that the whole-bone histogram's width holds."""
    sigma = [scale_mm / s for s in spacing_mm]
    weight = ndimage.gaussian_filter(mask.astype(np.float32), sigma, mode="constant")
    total = ndimage.gaussian_filter(np.where(mask, smoothed, 0).astype(np.float32), sigma, mode="constant")
    local_mean = total[mask] / np.maximum(weight[mask], 1e-6)
    return robust_sd(smoothed[mask] - local_mean)
