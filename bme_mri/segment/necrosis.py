"""Necrosis: a focal subchondral lesion bounded by a low-signal band.

Rule (fixed and documented):

1. *Band voxels*: head-marrow voxels darker than normal marrow — STIR below
   ``median - band_k_sd x sd`` of the reference (with ``band_sd_from_band_image`` the sd of
   normal marrow on the band image itself, :func:`band_image_sd`), or (with a T1) T1 below
   ``band_t1_fraction`` x the T1 level of normal marrow (the ``t1_normal_percentile`` of the
   head marrow's T1: edema only lowers T1, so a high percentile is normal marrow). Only band
   voxels at least ``band_min_depth_mm`` under the head surface count (the partial-volume
   shell under the cortex is dark too and is not a lesion boundary), and a band piece must
   reach ``band_min_reach_mm`` deep. Both depths grow by ``band_depth_voxel_fraction`` x the
   voxel's extent along the surface normal there (the partial-volume shell is thicker where
   the surface faces the slice direction of a thick-slice stack than where it lies in plane).
   A band piece must also *start* within ``band_max_start_mm`` of that depth floor: the band
   of a necrotic segment runs from the subchondral plate at one margin of the lesion, deep
   into the head and back; a dark blob floating in deep marrow bounds nothing.
   *Seen on both series*: with a T1, at least ``band_t1_min_fraction`` of a band piece must be
   dark on the T1. A sclerotic band is dark on every sequence; a piece dark on the STIR only,
   where the T1 is normal, is noise: at low SNR the STIR band level lies within about 2 sd of
   the band image's own noise, so every head holds dozens of dark noise clusters, and now and
   then one meets the depth rules (a 0.24 ml false call on a normal hip at SNR 15), while the
   T1's noise is independent of the STIR's and far above the T1 band level.
2. A connected band piece (26-connected: a thin oblique band on thick slices steps between
   slices at voxel edges, and a digital surface one voxel thick is not face-connected) of at
   least ``band_min_ml`` (after a closing of ``band_closing_mm``) -- or, with a T1, of at least ``band_small_min_voxels`` voxels of which
   at least ``band_small_t1_fraction`` is dark on the T1 (the band of a 0.3-0.5 ml lesion on
   4 mm slices is only 5-15 voxels, under 0.1 ml; STIR noise clusters of that size are not dark
   on the T1) -- casts a "shadow" towards the articular surface (with ``band_half_contrast``
   from its voxels darker than half the band's contrast, :func:`band_core`: a thick slice
   that grazes the band is under the band level but not band): every head-marrow
   voxel whose straight path to the head centre crosses the piece within
   ``shadow_depth_mm`` belongs to the lesion (the lesion is the cap between the band and the
   surface, rim included); the band is not looked for in the partial-volume shell
   above the depth floor, so the cap is grown ``shell_margin_voxels`` (face neighbours) into
   that shell: the lesion's margin runs on through it to the plate, and on 4 mm slices the
   shell holds a third of a 0.3 ml lesion.
3. The lesion is kept when it is ``min_ml``..``max_head_fraction`` x head, and, when it is at
   least ``interior_check_min_ml``, its inside (lesion minus band) is not darker than the band
   level (marrow-like, or brighter: a bright inner line is allowed) and is at least
   ``min_inside_fraction`` of it. A smaller lesion is a few voxels deep: partial volume with
   the rim and the cortex darkens all of it, so only its band and depth can be judged.
4. The kept lesions are closed with the 26-neighbourhood ``lesion_closing_voxels`` times
   (:func:`close_gaps`): where partial volume or noise hides the band voxel by voxel, the cap
   cast from the rest of the band has holes and notches a voxel wide. The closing only fills a
   lesion already kept; it never makes one.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from bme_mri.morphology import close_mm
from bme_mri.segment.base import HeadFinding, ReferenceMarrow
from bme_mri.segment.marrow import smooth_image
from bme_mri.segment.regions import HeadRegions
from bme_mri.segment.settings import NecrosisSettings


def normal_extent_mm(shape: tuple[int, int, int], centre_index: np.ndarray,
                     spacing: tuple[float, float, float]) -> np.ndarray:
    """Extent (mm) of each voxel along the radial direction from the head centre:
    ``sqrt(sum_i (n_i s_i)^2)`` with ``n`` the unit radial vector in the grid's own axes and
    ``s`` the spacing (equals the slice thickness where the surface faces the slice axis)."""
    grids = np.meshgrid(*[(np.arange(n) - c) * s for n, c, s in zip(shape, centre_index, spacing)],
                        indexing="ij", sparse=True)
    length = np.sqrt(sum(g ** 2 for g in grids))
    length = np.maximum(length, 1e-6)
    return np.sqrt(sum((g / length * s) ** 2 for g, s in zip(grids, spacing))).astype(np.float32)


def _shadow(piece: np.ndarray, regions: HeadRegions, centre_index: np.ndarray,
            spacing: tuple[float, float, float], depth_mm: float, step_mm: float) -> np.ndarray:
    """Marrow voxels whose path to the head centre crosses ``piece`` within ``depth_mm``."""
    candidates = np.argwhere(regions.head_marrow)
    radial = regions.radial_mm[tuple(candidates.T)]
    hit = np.zeros(len(candidates), dtype=bool)
    vec = candidates - centre_index  # index units, relative to the centre
    shape = np.array(piece.shape)
    for back in np.arange(0.0, depth_mm + 1e-6, step_mm):
        frac = np.clip(1.0 - back / np.maximum(radial, 1e-6), 0.0, 1.0)
        q = np.rint(centre_index + vec * frac[:, None]).astype(np.int64)
        ok = np.all((q >= 0) & (q < shape), axis=1)
        hit[ok] |= piece[tuple(q[ok].T)]
    out = np.zeros_like(piece)
    out[tuple(candidates[hit].T)] = True
    return out


def band_core(piece: np.ndarray, smooth: np.ndarray, marrow_level: float, band_level: float,
              max_iterations: int) -> np.ndarray:
    """The voxels of a band ``piece`` darker on the STIR (``smooth``) than halfway between
    normal marrow (``marrow_level``: the reference median) and the band's own level.

    The band level (``band_level``: ``band_k_sd`` sd under the marrow) detects a band; at a
    high SNR it lies close to the marrow level, so voxels that hold only a sliver of the band
    (a thick slice grazing it) pass it too, and the lesion cast from them spreads a slice too
    deep and a voxel too wide. As the edema border, the band's own border is cut halfway
    between normal marrow and the band's level: the level starts at the darkest tenth of the
    piece's STIR-dark voxels and becomes the median of the voxels under the midpoint, until
    they settle (Ridler and Calvard's two-class midpoint, approached from the dark side so
    that a wide partial-volume fringe cannot pull the band's level up to itself). Only the
    voxels between that midpoint and the band level are dropped: those bridged by the closing
    or dark on the T1 only (brighter than the band level on the STIR) stay. The whole piece
    is kept when none of it is dark on the STIR (a band seen on the T1 only), or when the
    midpoint keeps nothing."""
    dark = piece & (smooth < band_level)
    if not dark.any():
        return piece
    level = float(np.percentile(smooth[dark], 10))
    core = None
    for _ in range(max(1, max_iterations)):
        half = 0.5 * (marrow_level + level)
        new = piece & (smooth < half)
        if not new.any():
            return piece
        if core is not None and np.array_equal(new, core):
            break
        core = new
        level = float(np.median(smooth[core]))
    return piece & ~((smooth >= half) & (smooth < band_level))


def close_gaps(mask: np.ndarray, voxels: int) -> np.ndarray:
    """Closing of ``mask`` with the 26-neighbourhood, ``voxels`` times: fills holes and notches
    of that many voxels' width, whatever the voxel size (a border of empty voxels keeps the
    array's edge from eroding it)."""
    structure = np.ones((3, 3, 3), bool)
    padded = np.pad(mask, voxels + 1)
    closed = ndimage.binary_closing(padded, structure=structure, iterations=voxels)
    inner = tuple(slice(voxels + 1, -(voxels + 1)) for _ in range(3))
    return closed[inner] | mask


def band_image_sd(values: np.ndarray, marrow_level: float, reference_sd: float) -> float:
    """Robust sd of normal marrow on the band image itself: 1.4826 x the median distance under
    ``marrow_level`` (the reference median) of the ``values`` at or under it (deep head marrow;
    edema only raises the STIR, so its lower half is normal marrow: noise, the bias field's
    spread, and the few voxels of a band), never under ``reference_sd``.

    The reference's sd is measured on the edema image (``segment.edema.smoothing_sigma_mm``);
    the band is sought on a less smoothed image, whose noise is larger. In the reference's
    units the band level is fewer of the band image's own sd under normal marrow than
    ``band_k_sd`` says, and at low SNR that passes several percent of normal marrow as dark.
    Where this sd comes out smaller (a head full of edema: its lower half is the few spared
    voxels), the reference's own sd stands."""
    below = marrow_level - values[values <= marrow_level]
    if below.size < 5:
        return reference_sd
    return max(1.4826 * float(np.median(below)), reference_sd)


def find_necrosis(image: np.ndarray, t1: np.ndarray | None, regions: HeadRegions,
                  reference: ReferenceMarrow, head: HeadFinding, centre_index: np.ndarray,
                  spacing: tuple[float, float, float], settings: NecrosisSettings) -> np.ndarray:
    """Necrosis mask (bool, in the box of ``regions``) of one head; empty when none.

    ``centre_index``: the head centre in box index coordinates (continuous).
    """
    marrow = regions.head_marrow
    empty = np.zeros_like(marrow)
    if marrow.sum() < 10:
        return empty
    voxel_ml = float(np.prod(spacing)) / 1000.0
    smooth = smooth_image(image, spacing, settings.band_smoothing_sigma_mm)
    extra = settings.band_depth_voxel_fraction * normal_extent_mm(marrow.shape, centre_index, spacing)
    depth = head.radius_mm - regions.radial_mm  # under the fitted surface (mm)
    floor = settings.band_min_depth_mm + extra
    deep = depth >= floor
    band_sd = reference.robust_sd
    if settings.band_sd_from_band_image:
        band_sd = band_image_sd(smooth[marrow & deep], reference.median, reference.robust_sd)
    band_level = reference.median - settings.band_k_sd * band_sd
    dark = smooth < band_level
    t1_dark = None
    if t1 is not None and np.any(t1[marrow] > 0):
        t1_smooth = smooth_image(t1, spacing, settings.band_smoothing_sigma_mm)
        t1_level = float(np.percentile(t1_smooth[marrow], settings.t1_normal_percentile))
        t1_dark = t1_smooth < settings.band_t1_fraction * t1_level
        dark |= t1_dark
    band = close_mm(marrow & dark & deep, settings.band_closing_mm, spacing) & marrow & deep
    labels, n = ndimage.label(band, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return empty
    counts = np.bincount(labels.ravel())[1:]
    sizes = counts * voxel_ml
    big = sizes >= settings.band_min_ml
    # with a T1, a smaller piece may still be a band: kept below when it is dark on the T1 too
    small = ~big & (counts >= settings.band_small_min_voxels) if t1_dark is not None else np.zeros_like(big)
    head_ml = regions.head.sum() * voxel_ml
    lesion = empty.copy()
    for value in np.flatnonzero(big | small) + 1:
        piece = labels == value
        if small[value - 1] and (piece & t1_dark).sum() < settings.band_small_t1_fraction * piece.sum():
            continue  # a small piece counts only when the T1 confirms it
        if np.max(depth[piece] - extra[piece]) < settings.band_min_reach_mm:
            continue  # a band hugging the cortex is partial volume, not a lesion boundary
        if np.min(depth[piece] - floor[piece]) > settings.band_max_start_mm:
            continue  # floating in deep marrow: it does not meet the subchondral plate
        if t1_dark is not None and (piece & t1_dark).sum() < settings.band_t1_min_fraction * piece.sum():
            continue  # dark on the STIR only, normal on the T1: noise, not a sclerotic band
        if settings.band_half_contrast:
            piece = band_core(piece, smooth, reference.median, band_level, settings.band_border_max_iterations)
        cap = _shadow(piece, regions, centre_index, spacing, settings.shadow_depth_mm,
                      0.5 * min(spacing)) | piece
        cap &= marrow
        # the band is not looked for in the partial-volume shell under the cortex (``deep``);
        # the lesion's margin runs on through it to the subchondral plate
        grown = cap | (ndimage.binary_dilation(cap, iterations=settings.shell_margin_voxels)
                       & marrow & ~deep) if settings.shell_margin_voxels > 0 else cap
        grown_ml = grown.sum() * voxel_ml
        if grown_ml < settings.min_ml or grown_ml > settings.max_head_fraction * head_ml:
            continue
        if cap.sum() * voxel_ml >= settings.interior_check_min_ml:  # smaller: partial volume hides the inside
            inside = cap & ~dark
            if inside.sum() == 0 or np.median(smooth[inside]) < band_level:
                continue
            if (cap & ~piece).sum() < settings.min_inside_fraction * cap.sum():
                continue
        lesion |= grown
    if settings.lesion_closing_voxels > 0 and lesion.any():
        lesion |= close_gaps(lesion, settings.lesion_closing_voxels) & marrow
    return lesion
