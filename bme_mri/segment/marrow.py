"""Normal-marrow reference and edema thresholding, shared by the hip segmenter and ROI mode.

Rules (fixed here and documented, as DOMAIN.md asks):

* **Reference.** Normal marrow is the *lower mode* of the marrow intensity histogram: edema
  only raises STIR / T2 fat-sat signal, so the lowest substantial histogram peak is normal
  marrow even when edema fills most of the region. Its robust sd is taken from the lower
  half of that peak only (values below the mode, which edema cannot contaminate). The
  reference voxels are those within ``mode +/- window_sd x sd``.
* **Threshold.** ``max(median + k_sd x sd, median x min_ratio, median + contrast_fraction x
  (plateau - median))``, the last term only when a lesion core (voxels above
  ``median + core_k_sd x sd``, at least ``core_min_ml``) exists; the plateau is the
  ``plateau_percentile`` of the core (the core still holds part of the soft border, so its
  median underestimates the plateau). The core is sought only in ``core_region`` (the hip:
  head marrow ``core_min_depth_mm`` under the head surface): joint fluid, far brighter than
  edema on STIR, fills the capsule around the neck and lies on the head, and partial volume
  carries it into the neck cylinder and the outer marrow layer, where it would pose as the
  plateau and lift the border above a small lesion. A soft border is cut halfway
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

from bme_mri.histogram import smoothed_histogram
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
    histogram = smoothed_histogram(values, settings.histogram_bins, settings.histogram_smooth_bins)
    lo, hi = histogram.lo, histogram.hi
    if hi <= lo:
        return LowerMode(lo, 0.0, lo, hi)
    peaks = histogram.peaks(settings.peak_min_fraction)
    mode = float(histogram.centres[peaks[0]]) if peaks.size else float(np.median(values))
    below = values[(values <= mode) & (values >= lo)]
    if below.size >= 5:
        sd = 1.4826 * float(np.median(mode - below))
    else:
        sd = 1.4826 * float(np.median(np.abs(values - mode)))
    sd = max(sd, (hi - lo) / settings.histogram_bins)
    return LowerMode(mode, sd, mode - settings.window_sd * sd, mode + settings.window_sd * sd)


def two_populations(values: np.ndarray, low: float, high: float, settings: ReferenceSettings) -> bool:
    """Whether the histogram of ``values`` (as :func:`lower_mode` smooths it) dips between the
    peaks at ``low`` and ``high`` to at most ``minority_valley_fraction`` x its height at ``low``:
    two tissues (spared marrow beside diffuse edema), not a noise wiggle on one broad peak."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    histogram = smoothed_histogram(values, settings.histogram_bins, settings.histogram_smooth_bins)
    if histogram.hi <= histogram.lo or not histogram.lo <= low < high:
        return False
    first, last = histogram.bin_of(low), histogram.bin_of(min(high, histogram.hi))
    if last <= first + 1:
        return False
    smooth = histogram.counts
    return float(smooth[first:last + 1].min()) <= settings.minority_valley_fraction * float(smooth[first])


def reference_from_values(values: np.ndarray, description: str, settings: ReferenceSettings,
                          edema: EdemaSettings,
                          mode_values: np.ndarray | None = None) -> ReferenceMarrow | None:
    """Reference marrow statistics from candidate marrow intensities (lower-mode window).

    ``mode_values``: when given (e.g. marrow clear of the partial-volume layer under the
    cortex), the mode is located on them only, so a partial-volume peak cannot pose as normal
    marrow; the spread and the window still come from ``values`` below that mode. There, a
    lower peak of at least ``deep_peak_min_fraction`` x the highest is taken instead of the
    usual lowest substantial peak when that peak is more than ``side_ratio_warn`` x brighter
    and the histogram dips between them (:func:`two_populations`: spared marrow beside diffuse
    edema).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    found = lower_mode(values if mode_values is None else mode_values, settings)
    if found is not None and mode_values is not None:
        # Clear of partial volume, a smaller peak far below the main one (the main one more
        # than side_ratio_warn x brighter, as between a diffusely edematous and a normal side)
        # is spared normal marrow beside diffuse edema; a nearer one is only a shade of normal
        # marrow (head vs neck, bias field) and the main peak stands.
        minority = lower_mode(mode_values, settings.model_copy(
            update={"peak_min_fraction": settings.deep_peak_min_fraction}))
        if (minority is not None and 0 < minority.mode * settings.side_ratio_warn < found.mode
                and two_populations(mode_values, minority.mode, found.mode, settings)):
            found = minority
    if found is None:
        return None
    if mode_values is not None:
        below = values[values <= found.mode]
        if below.size >= 5:
            sd = max(1.4826 * float(np.median(found.mode - below)), found.robust_sd)
            found = LowerMode(found.mode, sd, found.mode - settings.window_sd * sd,
                              found.mode + settings.window_sd * sd)
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
                    voxel_ml: float, settings: EdemaSettings,
                    core_region: np.ndarray | None = None) -> float:
    """The edema threshold for one region (image units); see the module docstring.

    ``core_region``: where the lesion plateau may be measured (bool, like ``marrow``;
    None = all of ``marrow``).
    """
    threshold = reference.edema_threshold
    core_level = reference.median + settings.core_k_sd * reference.robust_sd
    core = marrow & (smoothed > core_level)
    if core_region is not None:
        core &= core_region
    if core.sum() * voxel_ml >= settings.core_min_ml:
        plateau = float(np.percentile(smoothed[core], settings.plateau_percentile))
        threshold = max(threshold, reference.median
                        + settings.contrast_fraction * (plateau - reference.median))
    return float(threshold)


def local_border_level(smoothed: np.ndarray, high: np.ndarray, reference: ReferenceMarrow,
                       threshold: float, spacing_mm: tuple[float, float, float],
                       settings: EdemaSettings) -> np.ndarray:
    """Per-voxel border level (image units) from the lesion's *local* plateau: half the contrast
    (``contrast_fraction``) between normal marrow and the brightest lesion signal (``high``)
    within ``local_plateau_radius_mm`` (a box of that half-width), never above ``threshold``
    (the global half-contrast level) nor below the noise floor ``reference.edema_threshold``.

    A large edema is not one plateau: it is brightest in its middle and fades towards its
    margin, so half the contrast of its brightest part cuts its fading margin off (stress
    phantoms: every missed edema voxel of the large lesions lay on the outer voxel layer,
    volumes 5-9% low). Near that margin the local plateau is the margin's own level. At a
    sharp border, and in a small lesion, the brightest signal within the radius is the
    plateau itself, and the border stays where it was.
    """
    half = [max(1, int(round(settings.local_plateau_radius_mm / s))) for s in spacing_mm]
    lesion = np.where(high, smoothed, -np.inf).astype(np.float32)
    local_max = ndimage.maximum_filter(lesion, size=tuple(2 * h + 1 for h in half), mode="constant",
                                       cval=-np.inf)
    near = np.isfinite(local_max)  # farther from every lesion voxel, the global level holds
    level = np.full(smoothed.shape, threshold, dtype=np.float32)
    level[near] = reference.median + settings.contrast_fraction * (local_max[near] - reference.median)
    return np.clip(level, min(reference.edema_threshold, threshold), threshold)


def edema_mask(smoothed: np.ndarray, marrow: np.ndarray, reference: ReferenceMarrow,
               threshold: float, voxel_ml: float, settings: EdemaSettings,
               spacing_mm: tuple[float, float, float] | None = None) -> np.ndarray:
    """Edema voxels inside ``marrow`` by hysteresis, hole filling and a size floor; with
    ``spacing_mm`` (mm) and ``local_plateau_radius_mm`` > 0 the low level follows the lesion's
    local plateau (:func:`local_border_level`)."""
    high = marrow & (smoothed > threshold)
    if not high.any():
        return high
    low_level = reference.median + settings.hysteresis_low_fraction * (threshold - reference.median)
    if spacing_mm is not None and settings.local_plateau_radius_mm > 0:
        low_level = np.minimum(low_level, local_border_level(smoothed, high, reference, threshold,
                                                             spacing_mm, settings))
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


def reference_from_normal_values(values: np.ndarray, description: str,
                                 edema: EdemaSettings) -> ReferenceMarrow | None:
    """Reference statistics from voxels known to be normal marrow (all of them used)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    sd = max(1.4826 * mad, 1e-6 * max(abs(median), 1.0))
    threshold = max(median + edema.k_sd * sd, median * edema.min_ratio)
    return ReferenceMarrow(description=description, n_voxels=int(values.size), median=median,
                           mad=mad, p95=float(np.percentile(values, 95)), robust_sd=sd,
                           edema_threshold=threshold)
