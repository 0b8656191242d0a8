"""Is fat suppressed on the analysed image? Measured on the image itself, per hip.

Edema is only visible where fat is dark: on STIR (fat nulled by the inversion) and on T2 with
fat saturation, normal fatty marrow and subcutaneous fat are darker than muscle, and edema is
bright. On a series without fat suppression (T1, T2 TSE, PD, a failed suppression) fatty
marrow and fat are the brightest soft tissues, and every edema rule reads the whole head as
edema. The levels measured here (image units; :mod:`bme_mri.quantify.qc` decides):

* **marrow** (:func:`head_interior`): the median of the femoral head's interior, the voxels
  within ``marrow_core_fraction`` of the fitted radius and at least ``marrow_min_depth_mm``
  under the sphere (no cortex, cartilage or joint fluid even when the sphere is fitted a few
  mm too large) — the bulk of the marrow, not the sample the reference picked;
* **the soft tissue around the head** (:func:`soft_tissue_classes`): its two classes, muscle
  and fat, split on a log scale. Which of the two is muscle depends on the very thing in
  question (fat is the dark class with fat suppression, the bright one without), so the rule
  asks on which side of the split a fatty tissue lies; the geometric mean of the two class
  levels is that split. (The muscle level of :func:`bme_mri.quantify.qc.muscle_level`, the
  dominant class, is fat itself around some heads of a T2 TSE: real ProstateX T2, 576 where
  muscle is ~110);
* **subcutaneous fat** (:func:`subcutaneous_fat`): the median of the body's outer layer,
  ``fat_depth_mm`` under the skin. Air is what lies below the noise floor (``fat_noise_multiple``
  x the noise sd) connected to the field's edge (:func:`edge_air`), so fat darker than muscle,
  even far darker than the body's median, stays in the body; the skin is where the body meets
  that air away from the field's faces. Where the body runs out of the field of view there is no
  skin and no layer (level None). Fat darker than the noise floor itself merges with the air: the
  "layer" is then the muscle under it, which the rule
  (:func:`bme_mri.quantify.qc.not_fat_suppressed_flag`) does not take for bright fat.

Nothing here knows the phantom: every level is relative to the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from bme_mri.segment.base import HeadFinding
from bme_mri.segment.marrow import smooth_image
from bme_mri.types import Volume


@dataclass(frozen=True)
class HeadInterior:
    """The bulk of a femoral head's marrow: ``level`` (median, image units) of ``n_voxels``
    voxels within ``core_radius_mm`` of the fitted centre (``level`` None when too few)."""

    level: float | None
    n_voxels: int
    core_radius_mm: float


@dataclass(frozen=True)
class SoftTissueClasses:
    """The two classes of the soft tissue around a head (image units): ``dark`` and ``bright``
    (the medians of each side of the Otsu split of log intensity) and ``split``, their
    geometric mean. One class (all muscle, say) still splits, close around its median."""

    dark: float
    bright: float

    @property
    def split(self) -> float:
        return float(np.sqrt(self.dark * self.bright))


@dataclass(frozen=True)
class SubcutaneousFat:
    """The body's outer layer: ``level`` (median, image units; None when the field holds too
    little skin), its volume in ml and the depth range (mm under the skin) it was taken from."""

    level: float | None
    volume_ml: float
    depth_mm: tuple[float, float]


def head_interior(image: Volume, head: HeadFinding, core_fraction: float, min_depth_mm: float,
                  min_voxels: int) -> HeadInterior:
    """Median of the image (1 mm Gaussian, as the reference) over the head's interior: the
    voxels of the field of view within ``min(core_fraction x r, r - min_depth_mm)`` of the
    fitted centre (LPS mm)."""
    geometry = image.geometry
    core = max(0.0, min(core_fraction * head.radius_mm, head.radius_mm - min_depth_mm))
    centre = np.asarray(head.center_lps_mm, dtype=np.float64)
    corners = np.array([centre + np.array([dx, dy, dz]) for dx in (-core, core)
                        for dy in (-core, core) for dz in (-core, core)])
    idx = geometry.lps_to_index(corners)
    lo = np.clip(np.floor(idx.min(0)).astype(int) - 1, 0, np.array(geometry.shape))
    hi = np.clip(np.ceil(idx.max(0)).astype(int) + 2, 0, np.array(geometry.shape))
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
    sub = np.asarray(image.array[box], dtype=np.float32)
    if core <= 0 or sub.size == 0:
        return HeadInterior(None, 0, core)
    ii, jj, kk = np.meshgrid(*[np.arange(s.start, s.stop) for s in box], indexing="ij")
    xyz = geometry.index_to_lps(np.stack([ii, jj, kk], -1).astype(np.float64))
    inside = np.linalg.norm(xyz - centre, axis=-1) <= core
    n = int(inside.sum())
    if n < min_voxels:
        return HeadInterior(None, n, core)
    smoothed = smooth_image(sub, geometry.spacing_mm, 1.0)
    return HeadInterior(float(np.median(smoothed[inside])), n, core)


def soft_tissue_classes(values: np.ndarray, bins: int) -> SoftTissueClasses | None:
    """Split positive ``values`` (image units) in two by Otsu's rule on log intensity; None with
    fewer than 50 values. Log: a coil's bias field multiplies every tissue, so on a log scale it
    shifts the classes alike instead of spreading the bright one most."""
    values = np.asarray(values, dtype=np.float64)
    values = values[values > 0]
    if values.size < 50:
        return None
    logs = np.log(values)
    cut = float(threshold_otsu(logs, nbins=bins))
    dark, bright = logs[logs <= cut], logs[logs > cut]
    if dark.size == 0 or bright.size == 0:
        level = float(np.exp(np.median(logs)))
        return SoftTissueClasses(level, level)
    return SoftTissueClasses(float(np.exp(np.median(dark))), float(np.exp(np.median(bright))))


def _blank_faces(array: np.ndarray) -> tuple[slice, ...]:
    """The array without its all-zero planes at the faces (outside the field of view: some
    scanners leave a slab's first column blank; a resampled image is zero outside the field)."""
    keep = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        filled = np.flatnonzero(np.any(array != 0, axis=other))
        keep.append(slice(int(filled[0]), int(filled[-1]) + 1) if filled.size else slice(0, 0))
    return tuple(keep)


def _near_faces(shape: tuple[int, ...], spacing: tuple[float, ...], margin_mm: float) -> np.ndarray:
    """Voxels within ``margin_mm`` of a face of the array (bool, ``shape``)."""
    near = np.zeros(shape, bool)
    for axis, (n, step) in enumerate(zip(shape, spacing)):
        reach = min(n, int(np.ceil(margin_mm / step)))
        index = [slice(None)] * len(shape)
        index[axis] = slice(0, reach)
        near[tuple(index)] = True
        index[axis] = slice(n - reach, n)
        near[tuple(index)] = True
    return near


def edge_air(smoothed: np.ndarray, floor: float) -> np.ndarray:
    """Air: the voxels of ``smoothed`` below ``floor`` (image units) that are connected (6-
    neighbourhood) to a face of the array. Dark places inside the body (gas, cortex, fat planes
    darker than the floor) are not connected to the field's edge and stay in the body; with
    ``floor`` <= 0 (a noise-free image) nothing is air."""
    if floor <= 0:
        return np.zeros(smoothed.shape, bool)
    labels, n = ndimage.label(smoothed < floor)
    if n == 0:
        return np.zeros(smoothed.shape, bool)
    faces = np.concatenate([np.moveaxis(labels, axis, 0)[index].ravel()
                            for axis in range(labels.ndim) for index in (0, -1)])
    touching = np.unique(faces[faces > 0])
    return np.isin(labels, touching)


def subcutaneous_fat(image: Volume, depth_mm: tuple[float, float], grid_mm: float, min_ml: float,
                     face_margin_mm: float, noise_multiple: float) -> SubcutaneousFat:
    """The median of the body's outer layer, ``depth_mm`` (min, max) under the skin.

    The image is taken on a grid of about ``grid_mm`` (every n-th voxel) and smoothed by half
    that. Air is what lies below the noise floor, ``noise_multiple`` x the noise sd
    (:func:`bme_mri.quantify.qc.noise_sd`), connected to the field's edge (:func:`edge_air`):
    in a magnitude image air is Rician noise (mean 1.25 sd), and whatever is tissue, however
    dark its fat, lies above the floor or inside the body. Depth under the skin is the distance
    to the nearest air voxel more than ``face_margin_mm`` from a face of the field of view (a
    face is no skin, nor a dark strip along it). ``level`` is None when the layer holds less
    than ``min_ml`` (no skin in view). Fat darker than the floor itself merges with the air:
    the layer is then the tissue under it (muscle), which the rule
    (:func:`bme_mri.quantify.qc.not_fat_suppressed_flag`) does not take for fat.
    """
    geometry = image.geometry
    lo, hi = depth_mm
    array = np.asarray(image.array)
    stride = [max(1, int(round(grid_mm / s))) for s in geometry.spacing_mm]
    crop = _blank_faces(array)
    sub = np.asarray(array[crop][::stride[0], ::stride[1], ::stride[2]], dtype=np.float32)
    spacing = tuple(float(s * n) for s, n in zip(geometry.spacing_mm, stride))
    voxel_ml = float(np.prod(spacing)) / 1000.0
    if sub.size == 0 or min(sub.shape) < 2:
        return SubcutaneousFat(None, 0.0, (lo, hi))
    from bme_mri.quantify.qc import noise_sd

    smoothed = smooth_image(sub, spacing, 0.5 * grid_mm)
    sigma = noise_sd(sub, np.ones(sub.shape, bool)) or 0.0
    air = edge_air(smoothed, noise_multiple * sigma)
    beyond_skin = air & ~_near_faces(air.shape, spacing, face_margin_mm)
    if not beyond_skin.any():
        return SubcutaneousFat(None, 0.0, (lo, hi))
    depth = ndimage.distance_transform_edt(~beyond_skin, sampling=spacing)
    layer = ~air & (depth >= lo) & (depth <= hi)
    volume = float(layer.sum()) * voxel_ml
    if volume < min_ml:
        return SubcutaneousFat(None, volume, (lo, hi))
    return SubcutaneousFat(float(np.median(smoothed[layer])), volume, (lo, hi))
