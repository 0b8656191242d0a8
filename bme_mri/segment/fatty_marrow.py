"""Femoral heads on fat-bright series (T1, T2 and PD without fat suppression).

Without fat suppression the head is a ball of bright fatty marrow, and what surrounds it --
subchondral cortex, cartilage, the acetabulum, the obturator and gluteal muscles -- is dark or
intermediate. Along a ray from the centre the head's boundary is then a *step down*, not the
dark shell between two brighter tissues that :func:`~bme_mri.segment.localize.fit_head_sphere`
looks for. On real prostate T2 TSE series that shell fit skips the head's own boundary (no
rise outside it) and settles on the next dark line out, the acetabular rim: radius 28-31 mm
where the marrow sphere measures 23-26 mm (``scripts/eval_heads.py``).

Here each ray's boundary is where its profile falls halfway from the marrow level (the
median signal 3-10 mm from the centre) to the darkest level just beyond (lower decile of the
ray outside the search start): the marrow-cortex interface, located with sub-sample linear
interpolation. A sphere is fitted to those points robustly (as the shell fit does), the
centre re-estimated a few times, and the reported radius is the marrow sphere's plus
``step_cortex_mm`` (the subchondral bone plate lies outside the marrow; the project's head
radius is the outer bone surface). Rays towards either possible femoral neck, rays whose
profile leaves the imaged field of view before the boundary has been passed, and rays
whose drop is shallow (< ``step_min_drop`` x the marrow level) do not count: a head cut by
the field is fitted from what is imaged, and its boundary fraction is the fraction of the
rays that could show it.

Frames: everything on the LPS-aligned isotropic working grid of the classical segmenter
(array ``[x, y, z]``, LPS ``origin + spacing x index``), distances in mm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from bme_mri.segment.localize import SphereFit, _fit_sphere, fibonacci_directions, neck_cone_rays, trimmed_fit
from bme_mri.segment.resample import field_of_view
from bme_mri.segment.settings import LocalizeSettings
from bme_mri.types import Geometry, SequenceClass, Volume


def marrow_is_fat_bright(meta: Mapping[str, Any], settings: LocalizeSettings) -> bool:
    """True when the series' sequence class (``meta["sequence"]``, as ingest records it) is one
    of ``step_edge_sequences``: fat-bright marrow, no fat suppression."""
    sequence = meta.get("sequence")
    if isinstance(sequence, SequenceClass):
        sequence = sequence.value
    return str(sequence or "").lower() in {s.lower() for s in settings.step_edge_sequences}


def fat_bright_field(image: Volume, work_geometry: Geometry, settings: LocalizeSettings) -> np.ndarray | None:
    """The working-grid voxels inside ``image``'s field of view when its marrow is fat-bright
    (:func:`marrow_is_fat_bright`: its heads are fitted by :func:`fit_head_step`), else None
    (the cortical-shell fit applies)."""
    return field_of_view(image, work_geometry) if marrow_is_fat_bright(image.meta, settings) else None


def _sample_rays(smooth: np.ndarray, covered: np.ndarray, spacing: float, origin: np.ndarray,
                 centre: np.ndarray, directions: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Profiles (rays x samples, linear) of ``smooth`` from ``centre`` and whether each sample
    lies inside the field of view (``covered``, nearest; outside the grid = not covered)."""
    pts = centre[None, None, :] + t[None, :, None] * directions[:, None, :]
    coords = ((pts - origin) / spacing).reshape(-1, 3).T
    shape = (len(directions), t.size)
    profiles = ndimage.map_coordinates(smooth, coords, order=1, mode="nearest").reshape(shape)
    inside = ndimage.map_coordinates(covered.astype(np.float32), coords, order=0, mode="constant",
                                     cval=0.0).reshape(shape) > 0.5
    return profiles, inside


def _marrow_level(profiles: np.ndarray, inside: np.ndarray, inner: np.ndarray) -> float | None:
    """Median signal of the rays' inner stretch (``inner`` samples) where wholly imaged."""
    whole = inside[:, inner].all(axis=1)
    return float(np.median(profiles[:, inner][whole])) if whole.any() else None


def _falling_edges(profiles: np.ndarray, covered: np.ndarray, t: np.ndarray, lo: float,
                   hi: float, marrow: float, min_drop: float, margin_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Per ray: distance (mm) where the profile first falls below halfway from ``marrow`` to
    the ray's floor within ``[lo, hi]`` (NaN: none, shallow, or the field ends within
    ``margin_mm`` beyond), and whether the ray is observable (covered to ``hi`` + margin, or to
    its edge + margin)."""
    n = len(profiles)
    edges = np.full(n, np.nan)
    step = float(t[1] - t[0])
    window = (t >= lo) & (t <= hi + margin_mm)
    search = np.flatnonzero((t >= lo) & (t <= hi))
    reach = int(round(margin_mm / step))
    observable = np.zeros(n, dtype=bool)
    if search.size == 0:
        return edges, observable
    for i in range(n):
        p = profiles[i]
        cov = covered[i]
        first_gap = np.flatnonzero(~cov)
        end = int(first_gap[0]) if first_gap.size else t.size  # first sample outside the field
        floor = float(np.percentile(p[window & cov], 10)) if (window & cov).any() else marrow
        drop = marrow - floor
        half = marrow - 0.5 * drop
        below = search[(p[search] < half) & (search < end)]
        if below.size:
            j = int(below[0])
            if j + reach < end and j > 0:
                observable[i] = True
                if drop >= min_drop * marrow:
                    frac = (p[j - 1] - half) / max(p[j - 1] - p[j], 1e-9)
                    edges[i] = t[j - 1] + float(np.clip(frac, 0.0, 1.0)) * step
                continue
        observable[i] = end > search[-1] + reach
    return edges, observable


def fit_head_step(smooth: np.ndarray, spacing: float, origin: np.ndarray, start_mm: np.ndarray,
                  covered: np.ndarray, scale: float, settings: LocalizeSettings) -> SphereFit | None:
    """Sphere of a fat-bright head near ``start_mm`` (LPS mm) on the working grid (see module).

    ``smooth``: the smoothed working image; ``covered``: bool, the working-grid voxels inside
    the series' field of view; ``scale``: the body's median signal (for the reported contrast).
    Returns None when too few rays show a boundary or the radius is not a femoral head's.
    """
    directions = fibonacci_directions(settings.n_directions)
    usable = ~neck_cone_rays(directions, settings)
    step = settings.ray_step_mm
    cortex = settings.step_cortex_mm
    t = np.arange(0.0, settings.radius_max_mm + 12.0, step)
    inner = (t >= 3.0) & (t <= 10.0)
    centre = np.asarray(start_mm, dtype=np.float64)
    marrow_radius = None
    fit_points = None
    for _ in range(max(1, settings.refine_iterations) + 1):
        profiles, cov = _sample_rays(smooth, covered, spacing, origin, centre, directions, t)
        marrow = _marrow_level(profiles, cov, inner)
        if marrow is None:
            return None
        if marrow_radius is None:
            lo, hi = max(settings.radius_min_mm - cortex - 6.0, 4.0), settings.radius_max_mm - cortex + 3.0
        else:
            lo, hi = marrow_radius - 5.0, marrow_radius + 5.0
        edges, observable = _falling_edges(profiles, cov, t, lo, hi, marrow, settings.step_min_drop, 3.0)
        ok = np.isfinite(edges) & usable
        if ok.sum() < 10:
            return None
        points = centre + edges[ok, None] * directions[ok]
        new_centre, new_radius, points = trimmed_fit(points, _fit_sphere, 10)
        if not (settings.radius_min_mm - 3 <= new_radius + cortex <= settings.radius_max_mm + 3):
            return None
        moved = float(np.linalg.norm(new_centre - centre))
        centre, marrow_radius, fit_points = new_centre, float(new_radius), points
        if moved < 0.1:
            break
    # boundary fraction over the rays that could show the boundary (inside the field, off the necks)
    profiles, cov = _sample_rays(smooth, covered, spacing, origin, centre, directions, t)
    marrow = _marrow_level(profiles, cov, inner) or 0.0
    edges, observable = _falling_edges(profiles, cov, t, marrow_radius - 4.0, marrow_radius + 4.0, marrow,
                                       settings.step_min_drop, 3.0)
    near = np.isfinite(edges) & (np.abs(edges - marrow_radius) <= 2.0)
    seen = observable & usable
    if seen.sum() < 10:
        return None
    on_sphere = near & seen
    dists = np.abs(np.linalg.norm(fit_points - centre, axis=1) - marrow_radius)
    residual = float(np.sqrt(np.mean(np.square(dists)))) if dists.size else float("inf")
    outside = np.array([np.percentile(p[(t >= marrow_radius) & (t <= marrow_radius + 6.0)], 10)
                        for p in profiles[on_sphere]]) if on_sphere.any() else np.array([marrow])
    contrast = (marrow - float(np.median(outside))) / max(scale, 1e-6)
    return SphereFit(center_mm=centre, radius_mm=marrow_radius + cortex,
                     quality=float(on_sphere.sum() / seen.sum()), residual_mm=residual,
                     shell_contrast=float(contrast), directions=directions, on_sphere=on_sphere,
                     edge="step")
