"""Femoral head candidates: a 3-D radial-symmetry vote, then a ray-based sphere fit.

Everything here works on the LPS-aligned isotropic working grid (array ``[x, y, z]``,
index ``(a, b, c)`` -> LPS ``origin + spacing x (a, b, c)``). The femoral head is found as a
sphere bounded by a thin dark shell (cortex; dark on STIR, T1 and T2 fat-sat alike): the
outer surface of that shell is located along rays from a candidate centre and a sphere is
fitted to it, robustly. Rays that find no shell near the sphere open into the femoral neck.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from bme_mri.segment.order_stats import exact_percentile
from bme_mri.segment.settings import LocalizeSettings, NeckSettings


@dataclass
class SphereFit:
    """A sphere fitted to a head's boundary (centre LPS mm, radius mm)."""

    center_mm: np.ndarray  # LPS mm
    radius_mm: float
    quality: float  # fraction of rays with a boundary within tolerance of the sphere
    residual_mm: float  # robust RMS distance of boundary points to the sphere
    shell_contrast: float  # median (outside - shell minimum) / body scale
    directions: np.ndarray  # (n, 3) unit ray directions
    on_sphere: np.ndarray  # (n,) bool, ray found the cortex near the sphere
    vote: float = 0.0
    network_offset_mm: float | None = None  # learned segmenter: distance to the network's centre (mm)
    native: bool = False  # centre and radius refitted on the analysed image's own grid
    native_note: str | None = None  # why a refit on the image's own grid was not taken
    edge: str = "shell"  # the boundary fitted: 'shell' (dark cortical shell) or 'step' (fat-bright marrow's step down)


def fibonacci_directions(n: int) -> np.ndarray:
    """``n`` roughly uniform unit vectors on the sphere, (n, 3)."""
    idx = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * idx / n)
    theta = np.pi * (1 + 5 ** 0.5) * idx
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], 1)


def gaussian_gradient(array: np.ndarray, sigma: float) -> list[np.ndarray]:
    """The Gaussian-derivative gradient of ``array`` along each axis (sigma in voxels), as
    ``scipy.ndimage.gaussian_filter(array, sigma, order=e_a)`` for each axis a, in 8 one-axis
    passes instead of 9: the smoothing along x is shared by the y and z derivatives."""
    def one(data: np.ndarray, axis: int, order: int) -> np.ndarray:
        return ndimage.gaussian_filter1d(data, sigma, axis=axis, order=order)

    smooth_x = one(array, 0, 0)
    d_y = one(one(smooth_x, 1, 1), 2, 0)
    d_z = one(one(smooth_x, 1, 0), 2, 1)
    d_x = one(one(one(array, 0, 1), 1, 0), 2, 0)
    return [d_x, d_y, d_z]


_VOTE_SPREAD_MM = 2.25  # votes are spread by a Gaussian of this sigma (1.5 voxels of the 1.5 mm grid the vote was built on)


def vote_centres(work: np.ndarray, spacing: float, body: np.ndarray,
                 settings: LocalizeSettings) -> np.ndarray:
    """Radial-symmetry accumulator (float32, on the grid of ``work``, voxel ``spacing`` mm: the
    working grid or a :func:`coarsen` copy of it): every strong edge inside ``body`` votes at
    distance r (both signs) along its gradient, for r in the head radius range. "Strong" is
    the top ``100 - edge_percentile`` % of the gradient magnitude, or with
    ``vote_relative_scale_mm`` > 0 of the magnitude divided by the local body signal
    (:func:`local_signal_level`, floored at ``vote_relative_floor`` x the body mean). An empty
    ``body`` gives an all-zero accumulator."""
    if not body.any():
        return np.zeros(work.shape, dtype=np.float32)
    sigma = settings.gradient_sigma_mm / spacing
    # Gaussian derivatives, not central differences of the smoothed image: those differ in
    # direction by ~1% and lost a real head's peak (ProstateX-0000's left on the PD slab)
    grads = gaussian_gradient(work, sigma)
    magnitude = np.sqrt(np.square(grads[0]) + np.square(grads[1]) + np.square(grads[2]))
    if settings.vote_relative_scale_mm > 0:
        # contrast, not signal, decides which edges vote: a coil's shading scales signal and
        # gradient alike (real PD slab: the anterior surface-coil region held every voting edge)
        local = local_signal_level(work, body, spacing, settings.vote_relative_scale_mm)
        magnitude = magnitude / np.maximum(local, settings.vote_relative_floor * float(np.mean(work[body])))
    level = exact_percentile(magnitude[body], settings.edge_percentile)
    flat_points = np.flatnonzero(body & (magnitude > level))  # array order
    if settings.vote_max_points and len(flat_points) > settings.vote_max_points:
        # the vote only proposes candidates (the sphere fit measures them): an evenly spread
        # subset of the edge voxels finds the same peaks at a fraction of the cost
        flat_points = flat_points[np.linspace(0, len(flat_points) - 1, settings.vote_max_points).astype(np.int64)]
    g = np.stack([grads[a].ravel()[flat_points] for a in range(3)], 1)
    unit = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    radii = np.arange(settings.radius_min_mm, settings.radius_max_mm + 1e-6,
                      settings.radius_step_mm)
    steps = np.concatenate([radii, -radii]) / spacing  # voxels along the gradient, both signs
    # one contiguous column per axis: the same arithmetic as on (n, 3) rows, several times faster
    starts = [index.astype(np.float64) for index in np.unravel_index(flat_points, work.shape)]
    along = [np.ascontiguousarray(unit[:, a]) for a in range(3)]
    shape = work.shape
    flat = []
    for step in steps:
        inside = np.ones(len(flat_points), dtype=bool)
        cells = []
        for a in range(3):
            target = starts[a] + step * along[a]
            inside &= (target >= -0.5) & (target < shape[a] - 0.5)
            cells.append(np.floor(target + 0.5))  # the nearest voxel
        index = (cells[0] * shape[1] + cells[1]) * shape[2] + cells[2]  # exact in float64
        flat.append(index[inside])
    acc = np.bincount(np.concatenate(flat).astype(np.int64), minlength=int(np.prod(shape)))
    return ndimage.gaussian_filter(acc.reshape(shape), _VOTE_SPREAD_MM / spacing, output=np.float32)


def local_signal_level(work: np.ndarray, body: np.ndarray, spacing: float, scale_mm: float,
                       block: int = 4) -> np.ndarray:
    """Mean signal of the body around each voxel (Gaussian of sigma ``scale_mm``, normalised
    by the body's own weight so air does not darken the edge of the body), on the grid of
    ``work`` (voxel ``spacing`` mm). Computed on blocks of ``block`` voxels a side and
    interpolated back (linear): a smooth map of the coil's shading, cheap at any scale."""
    block = max(1, min(block, *work.shape))  # a one-slice volume has no 4-voxel block
    inside = body.astype(np.float32)
    signal, _ = coarsen(work * inside, body, block)
    weight, _ = coarsen(inside, body, block)
    sigma = scale_mm / (spacing * block)
    level = ndimage.gaussian_filter(signal, sigma) / np.maximum(ndimage.gaussian_filter(weight, sigma), 1e-3)
    fine = level.astype(np.float32)
    for axis in range(3):
        fine = _upsample_linear(fine, axis, block)
    # the far edges coarsen cropped repeat the last values
    return np.pad(fine, [(0, n - m) for n, m in zip(work.shape, fine.shape)], mode="edge")


def _upsample_linear(array: np.ndarray, axis: int, block: int) -> np.ndarray:
    """``array`` interpolated linearly to ``block`` x as many samples along ``axis``, coarse
    sample i centred on fine index i * block + (block - 1) / 2 (:func:`coarsen`'s convention),
    the ends held constant. Fine index i * block + r lies a fixed fraction between two coarse
    samples for each r: one strided assignment per r."""
    m = array.shape[axis]
    padded = np.pad(array, [(1, 1) if a == axis else (0, 0) for a in range(array.ndim)], mode="edge")
    shape = list(array.shape)
    shape[axis] = m * block
    out = np.empty(shape, dtype=array.dtype)

    def along(start: int, stop: int, step: int = 1) -> tuple:
        return tuple(slice(start, stop, step) if a == axis else slice(None) for a in range(array.ndim))

    for r in range(block):
        offset = (r - (block - 1) / 2.0) / block  # from the coarse sample, in coarse samples (-0.5, 0.5)
        low = 0 if offset < 0 else 1  # padded index of the lower neighbour of coarse sample 0
        frac = offset + 1.0 if offset < 0 else offset
        out[along(r, None, block)] = (padded[along(low, low + m)] * (1.0 - frac)
                                      + padded[along(low + 1, low + 1 + m)] * frac)
    return out


def mirror_pair(center_a_mm, radius_a_mm: float, center_b_mm, radius_b_mm: float,
                settings: LocalizeSettings) -> bool:
    """Two spheres (LPS mm centres, radii mm) lie as a left and a right femoral head do: the
    bilateral separation apart in x (which rules out the same femur's trochanter) and near
    mirror images (radius, height and front-back position agree within ``pair_max_*``)."""
    dx, dy, dz = np.abs(np.asarray(center_a_mm, dtype=np.float64) - np.asarray(center_b_mm, dtype=np.float64))
    return bool(settings.bilateral_min_separation_mm <= dx <= settings.bilateral_max_separation_mm
                and abs(radius_a_mm - radius_b_mm) <= settings.pair_max_radius_difference_mm
                and dz <= settings.pair_max_height_difference_mm
                and dy <= settings.pair_max_ap_difference_mm)


def coarse_to_work_index(index: np.ndarray, factor: int) -> np.ndarray:
    """Working-grid index (continuous) of the centre of coarse voxel ``index`` made by
    :func:`coarsen` with ``factor``."""
    return np.asarray(index, dtype=np.float64) * factor + (factor - 1) / 2.0


def coarsen(work: np.ndarray, body: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """``work`` averaged in blocks of ``factor`` voxels a side (the far edges cropped to a
    whole block) and the body mask on that grid (blocks at least half body). Coarse voxel ``i``
    is centred on working-grid index ``i * factor + (factor - 1) / 2``."""
    if factor <= 1:
        return work, body

    def block_mean(array: np.ndarray) -> np.ndarray:
        # sums of strided slices, one axis at a time (skimage's block_reduce takes 4x longer)
        out = np.asarray(array, dtype=np.float32)
        for axis in range(3):
            n = (out.shape[axis] // factor) * factor
            lead = (slice(None),) * axis
            total = out[lead + (slice(0, n, factor),)].copy()
            for k in range(1, factor):
                total += out[lead + (slice(k, n, factor),)]
            out = total / factor
        return out

    return block_mean(work), block_mean(body) >= 0.5


def accumulator_peaks(acc: np.ndarray, spacing: float, settings: LocalizeSettings) -> list[tuple[np.ndarray, float]]:
    """The ``n_candidates`` strongest local maxima (working-grid index, value) of ``acc``: voxels
    > 0 that no voxel of the cube of side ``peak_separation_mm`` around them exceeds (the cube
    cut at the array's faces), strongest first; equal values in array order.

    The same voxels as ``acc == scipy.ndimage.maximum_filter(acc, size)`` (reflected faces
    repeat values already inside the cut cube), without filtering the whole array at that size:
    a maximum of the cube is a maximum of its 3 x 3 x 3 neighbourhood, so only those are
    checked, strongest first, until enough are found (a few dozen cube maxima a study)."""
    size = max(3, int(round(settings.peak_separation_mm / spacing)) | 1)
    half = size // 2
    candidates = np.flatnonzero((acc == _neighbourhood_max(acc)) & (acc > 0))
    values = acc.ravel()[candidates]
    order = np.argsort(-values, kind="stable")  # strongest first, ties in array order
    found: list[tuple[np.ndarray, float]] = []
    for i in order:
        if len(found) >= settings.n_candidates:
            break
        idx = np.array(np.unravel_index(candidates[i], acc.shape))
        low = np.maximum(idx - half, 0)
        cube = acc[low[0]:idx[0] + half + 1, low[1]:idx[1] + half + 1, low[2]:idx[2] + half + 1]
        if cube.max() <= values[i]:
            found.append((idx.astype(np.float64), float(values[i])))
    return found


def _neighbourhood_max(array: np.ndarray) -> np.ndarray:
    """The maximum of each voxel's 3 x 3 x 3 neighbourhood (cut at the array's faces), as
    ``scipy.ndimage.maximum_filter(array, 3)``: one shifted ``np.maximum`` each way per axis,
    several times faster than the filter."""
    out = array
    for axis in range(array.ndim):
        source, out = out, out.copy()
        lead = (slice(None),) * axis
        np.maximum(out[lead + (slice(1, None),)], source[lead + (slice(None, -1),)],
                   out=out[lead + (slice(1, None),)])
        np.maximum(out[lead + (slice(None, -1),)], source[lead + (slice(1, None),)],
                   out=out[lead + (slice(None, -1),)])
    return out


def _shell_boundaries(profile: np.ndarray, step: float, lo_mm: float, hi_mm: float,
                      min_depth: float, search_mm: float, with_minima: bool = False,
                      need_outer: bool = True) -> list:
    """Outer-surface radii (mm) of dark shells along one smoothed ray profile.

    A shell is a local minimum at least ``min_depth`` below the profile on both sides
    (within 4 mm); its outer surface is the steepest rise within ``search_mm`` outwards of
    the minimum (sub-sample parabolic refinement). The steepest rise is where a blurred
    dark-to-bright step truly lies, whatever the blur; the minimum itself shifts with the
    brightness of the tissues on either side. ``need_outer=False`` asks only for the drop from
    the inside (the cortex seen from the marrow), e.g. to tell cortex from the neck opening.
    """
    return shell_boundaries_rays(np.asarray(profile)[None, :], step, lo_mm, hi_mm, min_depth,
                                 search_mm, with_minima, need_outer)[0]


def shell_boundaries_rays(profiles: np.ndarray, step: float, lo_mm: float, hi_mm: float,
                          min_depth: float, search_mm: float, with_minima: bool = False,
                          need_outer: bool = True) -> list[list]:
    """:func:`_shell_boundaries` of every row of ``profiles`` (rays x samples) at once: one
    list per ray, innermost shell first (the same rule, vectorised over rays)."""
    profiles = np.asarray(profiles, dtype=np.float64)
    n_rays, n = profiles.shape
    out: list[list] = [[] for _ in range(n_rays)]
    win = max(2, int(round(4.0 / step)))
    reach = max(2, int(round(search_mm / step)))
    lo = max(1, int(lo_mm / step))
    hi = min(n - 2, int(hi_mm / step))
    if hi < lo:
        return out
    inner = profiles[:, lo: hi + 1]
    is_min = (inner <= profiles[:, lo - 1: hi]) & (inner < profiles[:, lo + 1: hi + 2])
    if not is_min.any():
        return out
    windows = np.lib.stride_tricks.sliding_window_view
    floor = np.full((n_rays, win), -np.inf)
    rows, t = np.nonzero(is_min)
    t = t + lo  # sample index of each minimum; the windows' maxima only there
    depth = profiles[rows, t]
    left_max = windows(np.concatenate([floor, profiles], axis=1), win, axis=1)[rows, t].max(-1)
    ok = left_max - depth >= min_depth  # the win samples before the minimum
    if need_outer:
        right_max = windows(np.concatenate([profiles, floor], axis=1), win, axis=1)[rows, t + 1].max(-1)
        ok &= right_max - depth >= min_depth  # ... and the win samples after it
    rows, t = rows[ok], t[ok]
    if rows.size == 0:
        return out
    derivative = np.gradient(profiles, axis=1)
    searchable = derivative.copy()
    searchable[:, n - 1:] = -np.inf  # the rise is sought before the last sample
    padded = np.concatenate([searchable, np.full((n_rays, reach + 1), -np.inf)], axis=1)
    k = t + windows(padded, reach + 1, axis=1)[rows, t].argmax(-1)
    shift = np.zeros(k.size)
    middle = (k > 0) & (k < n - 1)
    km = k[middle]
    rm = rows[middle]
    before, at, after = derivative[rm, km - 1], derivative[rm, km], derivative[rm, km + 1]
    curvature = before - 2 * at + after
    concave = curvature < 0
    values = np.zeros(km.size)
    values[concave] = np.clip(0.5 * (before[concave] - after[concave]) / curvature[concave], -0.5, 0.5)
    shift[middle] = values
    surface = (k + shift) * step
    for r, surf, minimum in zip(rows.tolist(), surface.tolist(), (t * step).tolist()):
        out[r].append((surf, minimum) if with_minima else surf)
    return out


def _fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Algebraic least-squares sphere through ``points`` (n, 3): centre, radius."""
    a = np.c_[2 * points, np.ones(len(points))]
    b = (points ** 2).sum(1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = sol[:3]
    radius = float(np.sqrt(max(sol[3] + centre @ centre, 1e-6)))
    return centre, radius


def trimmed_fit(points: np.ndarray, fitter, min_keep: int, rounds: int = 4):
    """``fitter(points) -> (centre, radius)`` refitted without outliers: points farther from
    the fitted surface than max(1 mm, 2.5 robust SD) are dropped, at most ``rounds`` times and
    never below ``min_keep`` points. Returns (centre, radius, kept points)."""
    for _trim in range(max(1, rounds)):
        centre, radius = fitter(points)
        dist = np.abs(np.linalg.norm(points - centre, axis=1) - radius)
        keep = dist <= max(1.0, 2.5 * 1.4826 * float(np.median(dist)))
        if keep.all() or keep.sum() < min_keep:
            break
        points = points[keep]
    return centre, radius, points


def neck_cone_rays(directions: np.ndarray, settings: LocalizeSettings) -> np.ndarray:
    """Bool per ray: the ray may leave through a femoral neck (either side's: lateral and
    ``fit_exclusion_neck_angle_deg`` down, within ``fit_exclusion_cone_deg``); such rays do
    not shape a head's sphere."""
    incline = np.radians(settings.fit_exclusion_neck_angle_deg)
    cone = np.zeros(len(directions), dtype=bool)
    for side_sign in (1.0, -1.0):
        neck = np.array([side_sign * np.cos(incline), 0.0, -np.sin(incline)])
        cone |= directions @ neck >= np.cos(np.radians(settings.fit_exclusion_cone_deg))
    return cone


def fit_head_sphere(smooth: np.ndarray, spacing: float, origin: np.ndarray, start_mm: np.ndarray,
                    scale: float, settings: LocalizeSettings) -> SphereFit | None:
    """Refine a candidate centre (LPS mm) into a sphere fitted to the outer cortical surface."""
    directions = fibonacci_directions(settings.n_directions)
    neck_cone = neck_cone_rays(directions, settings)  # rays that may leave through a neck
    step = settings.ray_step_mm
    t = np.arange(0.0, settings.radius_max_mm + 8.0, step)
    inner = t <= settings.radius_min_mm - 6.0
    off = settings.surface_search_mm
    centre = np.asarray(start_mm, dtype=np.float64)
    radius = None
    initial_radius = None
    tolerance = 2.5
    for _ in range(settings.refine_iterations):
        pts = centre[None, None, :] + t[None, :, None] * directions[:, None, :]
        coords = ((pts - origin) / spacing).reshape(-1, 3).T
        profiles = ndimage.map_coordinates(smooth, coords, order=1, mode="nearest").reshape(
            len(directions), t.size)
        if radius is None:  # shell depth is judged against the marrow signal inside the head
            # (lower decile: edema raises part of the inside, normal marrow sets the scale)
            min_depth = settings.min_shell_contrast * max(
                float(np.percentile(profiles[:, inner], 10)), 1e-3 * scale)
        lo = settings.radius_min_mm - 6.0 if radius is None else radius - 5.0
        hi = settings.radius_max_mm + 4.0 if radius is None else radius + 5.0
        cands = shell_boundaries_rays(profiles, step, max(lo, 4.0), hi, min_depth, off)
        if radius is None:
            # the femoral cortex is the first dark shell outwards from the centre (the
            # acetabulum lies outside it): the mode of each ray's innermost shell
            first = [min((x for x in c if x >= settings.radius_min_mm - 3), default=np.nan)
                     for c in cands]
            flat = np.asarray(first)
            flat = flat[np.isfinite(flat) & (flat <= settings.radius_max_mm + 3)]
            if flat.size < 10:
                return None
            hist, edges = np.histogram(flat, bins=np.arange(flat.min(), flat.max() + 1.0, 1.0))
            if hist.size == 0:
                return None
            counts = ndimage.uniform_filter1d(hist.astype(float), 3)
            is_peak = (counts >= np.r_[-1.0, counts[:-1]]) & (counts >= np.r_[counts[1:], -1.0])
            strong = np.flatnonzero(is_peak & (counts >= 0.5 * counts.max()))
            radius = float(edges[strong[0]] + 0.5)  # innermost strong peak: acetabulum lies outside
            initial_radius = radius
        chosen = np.full(len(directions), np.nan)
        for i, c in enumerate(cands):
            if c:
                c = np.asarray(c)
                j = int(np.argmin(np.abs(c - radius)))
                if abs(c[j] - radius) <= tolerance:
                    chosen[i] = c[j]
        ok = np.isfinite(chosen) & ~neck_cone
        if ok.sum() < 10:
            return None
        points = centre + chosen[ok, None] * directions[ok]
        new_centre, new_radius, points = trimmed_fit(points, _fit_sphere, 10)
        if not (settings.radius_min_mm - 3 <= new_radius <= settings.radius_max_mm + 3):
            return None
        centre, radius = new_centre, new_radius
        tolerance = 2.0
    fit = _assess(smooth, spacing, origin, centre, radius, directions, t, min_depth, scale, settings)
    if fit.quality < settings.min_boundary_fraction and initial_radius is not None:
        # the refinement wandered off (e.g. pulled by an effusion): the vote peak may be better
        start_fit = _assess(smooth, spacing, origin, np.asarray(start_mm, dtype=np.float64),
                            initial_radius, directions, t, min_depth, scale, settings)
        if start_fit.quality > fit.quality:
            return start_fit
    return fit


def _assess(smooth: np.ndarray, spacing: float, origin: np.ndarray, centre: np.ndarray,
            radius: float, directions: np.ndarray, t: np.ndarray, min_depth: float,
            scale: float, settings: LocalizeSettings) -> SphereFit:
    """Boundary fraction, residual and shell contrast of the sphere (centre, radius)."""
    step = settings.ray_step_mm
    off = settings.surface_search_mm
    pts = centre[None, None, :] + t[None, :, None] * directions[:, None, :]
    coords = ((pts - origin) / spacing).reshape(-1, 3).T
    profiles = ndimage.map_coordinates(smooth, coords, order=1, mode="nearest").reshape(
        len(directions), t.size)
    on_sphere = np.zeros(len(directions), dtype=bool)
    dists = []
    shells = shell_boundaries_rays(profiles, step, radius - 5.0, radius + 5.0, min_depth, off, True, False)
    for i, c in enumerate(shells):
        # a ray shows the cortex when a dark shell's minimum lies just under the surface
        near = [(surface, minimum) for surface, minimum in c if radius - 3.5 <= minimum <= radius + 0.5]
        if near:
            on_sphere[i] = True
            dists.append(min(abs(surface - radius) for surface, _ in near))

    def band(a_mm: float, b_mm: float) -> slice:
        return slice(max(0, int((radius + a_mm) / step)), max(1, int((radius + b_mm) / step)))

    inside = np.median(profiles[:, band(-8.0, -4.0)], axis=1)
    outside = profiles[:, band(0.0, 3.0)].max(axis=1)
    shell = profiles[:, band(-3.5, 0.0)].min(axis=1)
    contrast = float(np.median(np.minimum(inside, outside)[on_sphere] - shell[on_sphere])) / scale \
        if on_sphere.any() else 0.0
    residual = float(np.sqrt(np.mean(np.square(dists)))) if dists else float("inf")
    return SphereFit(np.asarray(centre, dtype=np.float64), float(radius), float(on_sphere.mean()),
                     residual, contrast, directions, on_sphere)


def ray_voxel_extent_mm(directions: np.ndarray, geometry) -> np.ndarray:
    """Length (mm) of one voxel of ``geometry`` along each unit LPS direction (n, 3): the
    RMS of the voxel's sides projected on the ray. In-plane rays of a 1.8 x 1.8 x 4 mm series
    see 1.8 mm, rays along the slice normal 4 mm: the blur an edge suffers along that ray."""
    axes = np.asarray(geometry.direction_lps, dtype=np.float64)  # columns: i, j, k unit vectors
    proj = directions @ axes  # (n, 3) cosines to the voxel axes
    return np.sqrt(np.sum((proj * np.asarray(geometry.spacing_mm)[None, :]) ** 2, axis=1))


def sharp_rays(directions: np.ndarray, geometry, settings: LocalizeSettings) -> np.ndarray:
    """Bool per ray: one voxel of ``geometry`` spans at most ``native_max_ray_extent_mm`` along
    it (:func:`ray_voxel_extent_mm`), or it is among the ``native_min_ray_fraction`` least
    blurred rays (so thick slices always leave enough rays)."""
    extent = ray_voxel_extent_mm(directions, geometry)
    limit = max(settings.native_max_ray_extent_mm,
                float(np.quantile(extent, settings.native_min_ray_fraction)))
    return extent <= limit + 1e-9


def refine_on_native(array: np.ndarray, geometry, fit: SphereFit,
                     settings: LocalizeSettings) -> tuple[SphereFit, str | None]:
    """Refit ``fit``'s sphere to the outer cortical surface sampled on the image's own grid.

    The working grid resamples the image (linear interpolation onto 1.5 mm, then smoothing):
    on 4 mm slices the edge is blurred twice and the fitted radius comes out up to ~1 mm small.
    Here each ray from the current centre is sampled directly from ``array`` (voxel
    ``(i, j, k)`` of ``geometry``; trilinear, ``native_ray_step_mm``), and the outer surface is
    the steepest rise within ``native_surface_search_mm`` outwards of a dark shell whose minimum
    lies just under the current sphere (sub-sample parabolic refinement, as on the working grid). Rays along which a voxel is
    longer than ``native_max_ray_extent_mm`` (near the slice normal of thick slices: the slice
    profile mixes cortex, cartilage and marrow, and the rise lies inwards) are left out, but at
    least ``native_min_ray_fraction`` of the rays (the least blurred) are kept; rays towards a
    possible femoral neck are left out as on the working grid; rays leaving the grid too.

    The centre is an algebraic sphere fit to the surface points (outliers trimmed), the radius
    the median distance of the points from it. Returns the refined fit (quality, residual,
    contrast and ray classification of the input kept: they describe the shell as the working
    grid saw it) and ``None``, or the input fit unchanged and the reason when too few rays found
    the surface or the refit moved the sphere more than ``native_max_change_mm`` (the
    working-grid fit stands then).
    """
    directions = fibonacci_directions(settings.n_directions)
    usable = ~neck_cone_rays(directions, settings) & sharp_rays(directions, geometry, settings)
    step = settings.native_ray_step_mm
    volume = np.asarray(array, dtype=np.float32)
    shape = np.asarray(volume.shape)
    centre = np.asarray(fit.center_mm, dtype=np.float64)
    radius = float(fit.radius_mm)
    tolerance = settings.native_edge_tolerance_mm
    for _ in range(settings.native_iterations):
        t = np.arange(max(radius - 9.0, step), radius + 6.0, step)
        pts = centre[None, None, :] + t[None, :, None] * directions[:, None, :]
        idx = geometry.lps_to_index(pts.reshape(-1, 3))
        near = (np.abs(t - radius) <= tolerance + 2.0)[None, :]
        inside = np.all((idx >= 0) & (idx <= shape - 1), axis=1).reshape(len(directions), t.size)
        in_grid = np.all(inside | ~near, axis=1)
        profiles = ndimage.map_coordinates(volume, idx.T, order=1, mode="nearest").reshape(
            len(directions), t.size)
        inner = t <= radius - 6.0
        rays = usable & in_grid
        if inner.any() and rays.any():
            level = float(np.percentile(profiles[rays][:, inner], 10))
        else:
            level = float(np.percentile(profiles[rays], 10)) if rays.any() else 0.0
        min_depth = settings.fallback_shell_contrast * max(level, 1e-6)
        chosen = np.full(len(directions), np.nan)
        ray_index = np.flatnonzero(rays)
        shells = shell_boundaries_rays(profiles[ray_index], step, radius - tolerance - 4.0 - t[0],
                                       radius + tolerance - t[0], min_depth,
                                       settings.native_surface_search_mm, True, False)
        for i, found in zip(ray_index, shells):
            best = None
            for surface, minimum in found:
                surface, minimum = surface + t[0], minimum + t[0]
                if (radius - 3.5 <= minimum <= radius + 0.5 and abs(surface - radius) <= tolerance
                        and (best is None or abs(surface - radius) < abs(best - radius))):
                    best = surface
            if best is not None:
                chosen[i] = best
        ok = np.isfinite(chosen)
        if ok.sum() < settings.native_min_rays:
            return fit, (f"sphere kept from the {settings.work_spacing_mm:g} mm working grid: only "
                         f"{int(ok.sum())} rays found the cortex on the image's own grid")
        points = centre + chosen[ok, None] * directions[ok]
        new_centre, new_radius, points = trimmed_fit(points, _fit_sphere, settings.native_min_rays)
        # the radius is the median distance of the kept points from the fitted centre: a ray
        # whose steepest rise lands on the far side of the cartilage does not pull it outwards
        centre = new_centre
        radius = float(np.median(np.linalg.norm(points - new_centre, axis=1)))
        tolerance = min(tolerance, 1.5)
    moved = float(np.linalg.norm(centre - fit.center_mm))
    if moved > settings.native_max_change_mm or abs(radius - fit.radius_mm) > settings.native_max_change_mm:
        return fit, (f"sphere kept from the {settings.work_spacing_mm:g} mm working grid: the refit "
                     f"on the image's own grid moved it {moved:.1f} mm (radius "
                     f"{fit.radius_mm:.1f} -> {radius:.1f} mm)")
    refined = SphereFit(center_mm=centre, radius_mm=radius, quality=fit.quality,
                        residual_mm=fit.residual_mm, shell_contrast=fit.shell_contrast,
                        directions=fit.directions, on_sphere=fit.on_sphere, vote=fit.vote,
                        network_offset_mm=fit.network_offset_mm, native=True, edge=fit.edge)
    return refined, None


def prior_neck_axis(side_sign: float, settings: NeckSettings) -> np.ndarray:
    """Textbook neck direction from the head centre (LPS): lateral, inferior by
    ``neck_shaft_angle_deg - 90`` and posterior by ``anteversion_deg`` (the head faces forward)."""
    incline = np.radians(settings.neck_shaft_angle_deg - 90.0)
    antev = np.radians(settings.anteversion_deg)
    return np.array([side_sign * np.cos(incline) * np.cos(antev), np.cos(incline) * np.sin(antev),
                     -np.sin(incline)])


def neck_from_gap(fit: SphereFit, settings: NeckSettings, side_sign: float
                  ) -> tuple[np.ndarray, float, float, list[str]]:
    """Neck of a head on the side ``side_sign`` (+1 left, -1 right): axis (unit LPS),
    junction-plane distance (mm), neck radius (mm) and notes.

    The neck opening is the cluster of rays without cortex ("gap" rays) around the textbook
    neck direction (:func:`prior_neck_axis`); its mean direction is the axis when the cluster
    holds at least ``min_gap_fraction`` of the rays and lies within ``max_axis_deviation_deg``
    of the prior, else the prior is used. The neck radius comes from the opening's half angle
    (``gap_angle_percentile``), clipped to ``neck_radius_ratio_range`` x head radius.
    """
    notes: list[str] = []
    prior = prior_neck_axis(side_sign, settings)
    g = fit.directions[~fit.on_sphere]
    cos_max = np.cos(np.radians(settings.max_gap_half_angle_deg))
    axis, members = prior, g[:0]
    if len(g):
        seed = prior
        for _ in range(3):
            members = g[g @ seed >= cos_max]
            if len(members) == 0:
                break
            seed = members.mean(0)
            seed = seed / np.linalg.norm(seed)
        deviation = np.degrees(np.arccos(np.clip(seed @ prior, -1, 1)))
        if (len(members) >= settings.min_gap_fraction * len(fit.directions)
                and deviation <= settings.max_axis_deviation_deg):
            axis = seed
        else:
            members = g[:0]
    lo, hi = settings.neck_radius_ratio_range
    if len(members):
        half_angle = float(np.degrees(np.arccos(np.clip(
            np.percentile(members @ axis, settings.gap_angle_percentile), -1, 1))))
        ratio = float(np.clip(np.sin(np.radians(half_angle)), lo, hi))
    else:
        notes.append("neck opening not measurable in the cortex; textbook neck axis and width used")
        ratio = settings.default_neck_radius_ratio
    neck_radius = ratio * fit.radius_mm
    junction = float(np.sqrt(max(fit.radius_mm ** 2 - neck_radius ** 2, 0.0)))
    return axis, junction, float(neck_radius), notes


@dataclass
class NeckSections:
    """The femoral neck measured in cross-sections on the image's own grid."""

    axis: np.ndarray  # unit LPS, from the head centre through the sections' centres
    junction_mm: float  # head centre to the head-neck junction plane along the axis (mm)
    neck_radius_mm: float  # neck radius where the neck surface meets the head sphere (mm)
    positions_mm: np.ndarray  # axial distances of the sections that held (mm)
    radii_mm: np.ndarray  # their fitted circle radii (mm)
    aim_change_deg: float = 0.0  # angle between ``axis`` and the line through the sections' centres


def _fit_circle(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Algebraic least-squares circle through 2-D ``points`` (n, 2): centre, radius."""
    a = np.c_[2 * points, np.ones(len(points))]
    b = (points ** 2).sum(1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    return sol[:2], float(np.sqrt(max(sol[2] + sol[:2] @ sol[:2], 1e-6)))


def _perpendicular_basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([0.0, 1.0, 0.0]) if abs(axis[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


def _strongest_shells(profiles: np.ndarray, ray_index: np.ndarray, shells: list[list],
                      step: float, rise_mm: float = 3.0) -> list[tuple[int, float]]:
    """(ray, outer surface mm) of each ray's shell with the largest rise of the profile within
    ``rise_mm`` outwards of its minimum (the neck's own cortex, not a vessel or trabecula;
    the first on ties), for the rays ``ray_index`` of ``profiles`` whose ``shells`` come from
    :func:`shell_boundaries_rays` with minima. Rays whose shells do not rise are left out."""
    rows = [(i, surface, minimum) for i, ray_shells in zip(ray_index.tolist(), shells)
            for surface, minimum in ray_shells]
    if not rows:
        return []
    ray, surface, minimum = (np.asarray(column) for column in zip(*rows))
    reach = int(round(rise_mm / step))
    ahead = np.concatenate([profiles, np.full((profiles.shape[0], reach), -np.inf)], axis=1)
    k = np.rint(minimum / step).astype(np.int64)
    peak = np.lib.stride_tricks.sliding_window_view(ahead, reach + 1, axis=1)[ray, k].max(axis=-1)
    rise = peak - profiles[ray, k]
    # per ray (ascending) the shell of largest rise, the first on ties
    order = np.lexsort((np.arange(ray.size), -rise, ray))
    first = order[np.r_[True, ray[order][1:] != ray[order][:-1]]]
    return [(int(ray[i]), float(surface[i])) for i in first if rise[i] > 0.0]


def neck_from_sections(array: np.ndarray, geometry, centre: np.ndarray, radius: float,
                       axis: np.ndarray, prior: np.ndarray, settings: NeckSettings,
                       localize: LocalizeSettings) -> NeckSections | None:
    """Neck radius and head-neck junction from cross-sections of the neck, on the image's grid.

    Anatomy: the head-neck junction is where the neck's surface meets the head sphere. The neck
    is cut by planes perpendicular to ``axis`` at ``section_positions`` x ``radius`` from the
    head centre ``centre`` (LPS mm); in each plane ``section_rays`` rays from the axis find the
    neck's outer cortical surface (the dark shell with the largest rise outwards, between
    ``section_search_ratio`` x ``radius``; rays along which a voxel is longer than
    ``localize.native_max_ray_extent_mm`` are left out, as for the head), and a circle is
    fitted to those points (robustly). The axis is re-aimed through the circles' centres
    (``section_iterations`` passes; kept within ``max_axis_deviation_deg`` of ``prior``). The
    neck radius r(d) is a straight line through the sections' radii (the neck's taper). The
    junction's neck radius r_n is, by ``junction_rule``: ``taper_at_centre``, r(0), the taper
    followed to the head centre where the neck axis starts (the project's truth definition,
    ``sqrt(R^2 - r_n^2)`` with r_n the neck radius at the head); ``surface_meets_sphere``, r at
    the distance d where ``sqrt(R^2 - d^2) = r(d)`` (the neck's surface meets the sphere; on a
    neck that widens away from the head this plane lies nearer the centre). r_n is clipped to
    ``neck_radius_ratio_range`` x ``radius`` and the junction is ``sqrt(R^2 - r_n^2)``. ``None`` when fewer than ``section_min_count``
    sections hold (the caller falls back to the opening in the head's cortex).

    This measures a width (an edge position on many rays), not the presence or absence of the
    cortex on the head's rays, so it does not swing with the marrow's contrast from visit to
    visit the way the opening's angle does.
    """
    volume = np.asarray(array, dtype=np.float32)
    shape = np.asarray(volume.shape)
    step = localize.native_ray_step_mm
    angles = np.linspace(0.0, 2 * np.pi, settings.section_rays, endpoint=False)
    lo_ratio, hi_ratio = settings.section_search_ratio
    t = np.arange(0.0, hi_ratio * radius + 6.0, step)
    centre = np.asarray(centre, dtype=np.float64)
    axis = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    cos_max = np.cos(np.radians(settings.max_axis_deviation_deg))
    result = None
    for _ in range(settings.section_iterations):
        u, v = _perpendicular_basis(axis)
        ray_dirs = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v
        sharp = sharp_rays(ray_dirs, geometry, localize)
        positions, radii, centres = [], [], []
        for fraction in settings.section_positions:
            d = fraction * radius
            origin = centre + d * axis
            pts = origin[None, None, :] + t[None, :, None] * ray_dirs[:, None, :]
            idx = geometry.lps_to_index(pts.reshape(-1, 3))
            inside = np.all((idx >= 0) & (idx <= shape - 1), axis=1).reshape(len(angles), t.size)
            profiles = ndimage.map_coordinates(volume, idx.T, order=1, mode="nearest").reshape(
                len(angles), t.size)
            level = float(np.percentile(profiles[:, t <= lo_ratio * radius * 0.8], 10))
            min_depth = localize.fallback_shell_contrast * max(level, 1e-6)
            ray_index = np.flatnonzero(sharp & inside.all(axis=1))
            shells = shell_boundaries_rays(profiles[ray_index], step, lo_ratio * radius, hi_ratio * radius,
                                           min_depth, localize.surface_search_mm, True)
            found = _strongest_shells(profiles, ray_index, shells, step)
            if len(found) < settings.section_min_rays:
                continue
            found = [origin + surface * ray_dirs[i] for i, surface in found]
            pts2 = np.stack([(np.asarray(found) - origin) @ u, (np.asarray(found) - origin) @ v], 1)
            c2, r2, pts2 = trimmed_fit(pts2, _fit_circle, settings.section_min_rays, rounds=3)
            if not (lo_ratio * radius <= r2 <= hi_ratio * radius):
                continue
            positions.append(d)
            radii.append(r2)
            centres.append(origin + c2[0] * u + c2[1] * v)
        if len(positions) < settings.section_min_count:
            return result
        positions, radii = np.asarray(positions), np.asarray(radii)
        slope, intercept = np.polyfit(positions, radii, 1)
        if settings.junction_rule == "taper_at_centre":
            r_j = float(intercept)  # the neck's taper followed to the head centre
        else:  # surface_meets_sphere: sqrt(R^2 - d^2) = intercept + slope d, the root in (0, R)
            grid = np.linspace(0.3 * radius, radius, 281)
            gap = np.sqrt(np.maximum(radius ** 2 - grid ** 2, 0.0)) - (intercept + slope * grid)
            crossing = np.flatnonzero(np.diff(np.sign(gap)) != 0)
            if crossing.size:
                j = crossing[0]
                d_j = float(grid[j] - gap[j] * (grid[j + 1] - grid[j]) / (gap[j + 1] - gap[j]))
                r_j = float(intercept + slope * d_j)
            else:
                r_j = float(np.median(radii))
        lo, hi = settings.neck_radius_ratio_range
        r_j = float(np.clip(r_j, lo * radius, hi * radius))
        d_j = float(np.sqrt(max(radius ** 2 - r_j ** 2, 0.0)))
        aim = np.mean(np.asarray(centres) - centre, axis=0)
        aim /= np.linalg.norm(aim)
        result = NeckSections(axis.copy(), d_j, r_j, positions, radii,
                              float(np.degrees(np.arccos(np.clip(aim @ axis, -1.0, 1.0)))))
        if aim @ prior < cos_max:
            break
        axis = aim
    return result


def side_from_cut_edge(center_mm: np.ndarray, radius_mm: float, body: np.ndarray, origin: np.ndarray,
                       spacing: float, reach: float) -> tuple[float, str]:
    """Side of a lone head from where the field of view cuts it: +1 (left), -1 (right), 0.

    Anatomy, not the field's layout: lateral to a femoral head lie the greater trochanter,
    the gluteal muscles and fat (several cm), so the body cannot end within the head's own
    radius on its lateral side unless the field of view cuts it there; medially the pelvis
    continues. So when the body (imaged tissue) in the head's slab stops within
    ``reach`` x radius of the centre on the +x side only, the +x side is lateral: a left head
    (and vice versa). ``body`` is on an LPS-aligned grid ``[x, y, z]`` with ``origin`` (mm)
    and isotropic ``spacing`` (mm). Undecided (0) when neither or both sides are cut.
    """
    centre_idx = (np.asarray(center_mm, float) - np.asarray(origin, float)) / spacing
    half = max(1, int(round(0.5 * radius_mm / spacing)))
    j0, k0 = int(round(centre_idx[1])), int(round(centre_idx[2]))
    slab = body[:, max(0, j0 - half):j0 + half + 1, max(0, k0 - half):k0 + half + 1]
    if slab.size == 0:
        return 0.0, "head slab outside the grid"
    xs = np.flatnonzero(slab.any(axis=(1, 2)))
    if xs.size == 0:
        return 0.0, "no body in the head's slab"
    lo_mm, hi_mm = (xs[0] - centre_idx[0]) * spacing, (xs[-1] - centre_idx[0]) * spacing
    cut_hi = hi_mm < reach * radius_mm
    cut_lo = -lo_mm < reach * radius_mm
    text = f"imaged tissue ends {hi_mm:.0f} mm to +x and {-lo_mm:.0f} mm to -x of the centre"
    if cut_hi and not cut_lo:
        return 1.0, text
    if cut_lo and not cut_hi:
        return -1.0, text
    return 0.0, text


def side_from_neck(fit: SphereFit, settings: NeckSettings) -> tuple[float, int, int]:
    """Which way the neck leaves a lone head: +1 (patient's left: the neck runs to +x LPS),
    -1 (right) or 0 (undecided), with the counts of cortex-free rays within
    ``max_gap_half_angle_deg`` of the left and of the right textbook neck direction."""
    gap = fit.directions[~fit.on_sphere]
    cos_max = np.cos(np.radians(settings.max_gap_half_angle_deg))
    left = int(np.sum(gap @ prior_neck_axis(1.0, settings) >= cos_max))
    right = int(np.sum(gap @ prior_neck_axis(-1.0, settings) >= cos_max))
    if max(left, right) < settings.min_gap_fraction * len(fit.directions) or left == right:
        return 0.0, left, right
    return (1.0 if left > right else -1.0), left, right
