"""Normal-marrow reference and edema thresholding, shared by the hip segmenter and ROI mode.

Rules (fixed here and documented, as DOMAIN.md asks):

* **Reference.** Normal marrow is the *lower mode* of the marrow intensity histogram: edema
  only raises STIR / T2 fat-sat signal, so the lowest substantial histogram peak is normal
  marrow even when edema fills most of the region. Its robust sd is taken from the lower
  half of that peak only (values below the mode, which edema cannot contaminate). The
  reference voxels are those within ``mode +/- window_sd x sd``.
* **Threshold.** ``max(median + k_sd x sd, median x min_ratio, median + contrast_fraction x
  (core median - median))``, the last term only when a lesion core (voxels above
  ``median + core_k_sd x sd``, at least ``core_min_ml``) exists: a soft border is cut halfway
  (for contrast_fraction 0.5) between normal marrow and the lesion plateau, independent of
  the noise level.
* **Soft borders.** Hysteresis: voxels above the threshold seed the lesion, which grows into
  connected voxels above ``median + hysteresis_low_fraction x (threshold - median)``.
* **Enclosed normal voxels.** Normal voxels fully enclosed by edema (3-D holes, inside the
  marrow) up to ``fill_enclosed_holes_ml`` are counted as edema; larger islands are not.
  Components smaller than ``min_component_ml`` are noise and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from bme_mri.segment.base import ReferenceMarrow
from bme_mri.segment.settings import EdemaSettings, ReferenceSettings


@dataclass(frozen=True)
class LowerMode:
    """The lower histogram mode of a set of intensities and its robust spread."""

    mode: float
    robust_sd: float
    lower: float  # reference window, image units
    upper: float


def smooth_image(array: np.ndarray, spacing_mm: tuple[float, float, float],
                 sigma_mm: float) -> np.ndarray:
    """Gaussian smoothing with ``sigma_mm`` (mm) on an anisotropic grid; float32 out."""
    if sigma_mm <= 0:
        return np.asarray(array, dtype=np.float32)
    sigma = [sigma_mm / s for s in spacing_mm]
    return ndimage.gaussian_filter(np.asarray(array, dtype=np.float32), sigma, mode="nearest")


def lower_mode(values: np.ndarray, settings: ReferenceSettings) -> LowerMode | None:
    """The lowest substantial peak of the histogram of ``values`` (None when < 10 values)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < 10:
        return None
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        return LowerMode(float(lo), 0.0, float(lo), float(hi))
    hist, edges = np.histogram(values, bins=settings.histogram_bins, range=(lo, hi))
    smooth = ndimage.gaussian_filter1d(hist.astype(np.float64), settings.histogram_smooth_bins)
    is_peak = np.r_[True, smooth[1:] >= smooth[:-1]] & np.r_[smooth[:-1] > smooth[1:], True]
    peaks = np.flatnonzero(is_peak & (smooth >= settings.peak_min_fraction * smooth.max()))
    centres = 0.5 * (edges[:-1] + edges[1:])
    mode = float(centres[peaks[0]]) if peaks.size else float(np.median(values))
    below = values[(values <= mode) & (values >= lo)]
    if below.size >= 5:
        sd = 1.4826 * float(np.median(mode - below))
    else:
        sd = 1.4826 * float(np.median(np.abs(values - mode)))
    sd = max(sd, (hi - lo) / settings.histogram_bins)
    return LowerMode(mode, sd, mode - settings.window_sd * sd, mode + settings.window_sd * sd)


def reference_from_values(values: np.ndarray, description: str, settings: ReferenceSettings,
                          edema: EdemaSettings) -> ReferenceMarrow | None:
    """Reference marrow statistics from candidate marrow intensities (lower-mode window)."""
    found = lower_mode(values, settings)
    if found is None:
        return None
    values = np.asarray(values, dtype=np.float64).ravel()
    chosen = values[(values >= found.lower) & (values <= found.upper)]
    if chosen.size == 0:
        return None
    median = float(np.median(chosen))
    mad = float(np.median(np.abs(chosen - median)))
    threshold = max(median + edema.k_sd * found.robust_sd, median * edema.min_ratio)
    return ReferenceMarrow(description=description, n_voxels=int(chosen.size), median=median,
                           mad=mad, p95=float(np.percentile(chosen, 95)),
                           robust_sd=found.robust_sd, edema_threshold=threshold)


def edema_threshold(smoothed: np.ndarray, marrow: np.ndarray, reference: ReferenceMarrow,
                    voxel_ml: float, settings: EdemaSettings) -> float:
    """The edema threshold for one region (image units); see the module docstring."""
    threshold = reference.edema_threshold
    core_level = reference.median + settings.core_k_sd * reference.robust_sd
    core = marrow & (smoothed > core_level)
    if core.sum() * voxel_ml >= settings.core_min_ml:
        plateau = float(np.median(smoothed[core]))
        threshold = max(threshold, reference.median
                        + settings.contrast_fraction * (plateau - reference.median))
    return float(threshold)


def edema_mask(smoothed: np.ndarray, marrow: np.ndarray, reference: ReferenceMarrow,
               threshold: float, voxel_ml: float, settings: EdemaSettings) -> np.ndarray:
    """Edema voxels inside ``marrow`` by hysteresis, hole filling and a size floor."""
    high = marrow & (smoothed > threshold)
    if not high.any():
        return high
    low_level = reference.median + settings.hysteresis_low_fraction * (threshold - reference.median)
    low = marrow & (smoothed > low_level)
    labels, n = ndimage.label(low)
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(labels[high])] = True
    keep[0] = False
    lesion = keep[labels]
    if settings.fill_enclosed_holes_ml > 0:
        holes = ndimage.binary_fill_holes(lesion) & ~lesion & marrow
        hole_labels, n_holes = ndimage.label(holes)
        if n_holes:
            sizes = np.bincount(hole_labels.ravel())[1:] * voxel_ml
            small = np.r_[False, sizes <= settings.fill_enclosed_holes_ml]
            lesion |= small[hole_labels]
    if settings.min_component_ml > 0:
        comp, n_comp = ndimage.label(lesion)
        if n_comp:
            sizes = np.bincount(comp.ravel())[1:] * voxel_ml
            lesion = np.r_[False, sizes >= settings.min_component_ml][comp]
    return lesion
