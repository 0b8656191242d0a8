"""Masks drawn by other tools, brought onto the analysed image's voxel grid.

Real masks rarely carry the image's affine bit for bit: the tools that draw them round the
affine (float32 sform, quaternion qform), so a mask drawn on the image itself can sit
0.004 mm away. The rules:

* **Same grid.** Same shape, and every corner voxel centre within ``tolerance_voxel`` x the
  smallest voxel size of the image's (LPS mm): the mask's array is used as it is. The corner
  test covers origin, spacing and direction at once (a direction error shows as a
  displacement growing towards the far corners).
* **Another grid.** Resampled onto the image's grid by nearest neighbour in world (LPS)
  coordinates (SimpleITK), with a warning naming both grids.
* **No overlap.** A mask none of whose voxels land inside the image is an error (one line); one
  that keeps less than half its volume inside the image is used, and its warning says first
  that it was probably drawn on another scan.
* **Labels only.** A "mask" holding non-whole values or hundreds of distinct values is an
  image passed by mistake: refused, as are NaN / inf in a mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from bme_mri.errors import GeometryError, ImageValueError
from bme_mri.types import Geometry, Volume


@dataclass(frozen=True)
class GridMask:
    """A boolean mask on the image's grid.

    Attributes
    ----------
    array : bool ``[i, j, k]`` on the image grid.
    offset_voxel : largest corner displacement between the two grids, in units of the
        image's smallest voxel size (inf when the shapes differ).
    warning : why the mask was resampled (None when it was on the image grid).
    """

    array: np.ndarray
    offset_voxel: float
    warning: str | None


def grid_text(geometry: Geometry) -> str:
    """One-line description of a grid: shape, spacing (mm), origin (LPS mm)."""
    return (f"shape {tuple(geometry.shape)}, spacing "
            f"{tuple(round(s, 4) for s in geometry.spacing_mm)} mm, origin "
            f"{tuple(round(o, 3) for o in geometry.origin_lps_mm)} mm LPS")


def grid_offset_voxel(image: Geometry, mask: Geometry) -> float:
    """Largest corner voxel-centre displacement (LPS mm) over the image's smallest voxel size;
    ``inf`` when the shapes differ."""
    if tuple(image.shape) != tuple(mask.shape):
        return float("inf")
    displacement = np.linalg.norm(image.corners_lps() - mask.corners_lps(), axis=1)
    return float(displacement.max() / min(image.spacing_mm))


def _sitk_image(array: np.ndarray, geometry: Geometry) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(np.asarray(array, dtype=np.uint8).transpose(2, 1, 0)))
    image.SetSpacing(geometry.spacing_mm)
    image.SetOrigin(geometry.origin_lps_mm)
    image.SetDirection(tuple(float(v) for v in np.asarray(geometry.direction_lps).ravel()))
    return image


def resample_mask_nearest(mask: np.ndarray, mask_geometry: Geometry, target: Geometry) -> np.ndarray:
    """``mask`` resampled onto ``target`` by nearest neighbour in LPS world coordinates
    (SimpleITK); voxels outside the mask's grid are False."""
    reference = sitk.Image([int(s) for s in target.shape], sitk.sitkUInt8)
    reference.SetSpacing(target.spacing_mm)
    reference.SetOrigin(target.origin_lps_mm)
    reference.SetDirection(tuple(float(v) for v in np.asarray(target.direction_lps).ravel()))
    out = sitk.Resample(_sitk_image(mask, mask_geometry), reference, sitk.Transform(),
                        sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return sitk.GetArrayFromImage(out).transpose(2, 1, 0) > 0


def mask_on_grid(image: Geometry, mask: Volume, what: str, tolerance_voxel: float) -> GridMask:
    """``mask`` (any grid) as a boolean array on ``image``'s grid; see the module docstring.

    Raises :class:`GeometryError` (one line) when the mask is empty after resampling although
    it was not before: it does not overlap the image.
    """
    name = f"{what} {mask.meta.get('source', '')}".strip()
    require_labels(np.asarray(mask.array), name)
    values = np.asarray(mask.array) > 0.5
    offset = grid_offset_voxel(image, mask.geometry)
    if offset <= tolerance_voxel:
        return GridMask(values, offset, None)
    resampled = resample_mask_nearest(values, mask.geometry, image)
    grids = f"mask {grid_text(mask.geometry)} vs image {grid_text(image)}"
    if values.any() and not resampled.any():
        raise GeometryError(f"{name} does not overlap the image: {grids}; draw the mask on this image")
    inside = (resampled.sum() * image.voxel_volume_ml / (values.sum() * mask.geometry.voxel_volume_ml)
              if values.any() else 1.0)
    moved = "another shape" if np.isinf(offset) else f"corners up to {offset:.3g} voxel away"
    warning = (f"{name} is on another grid ({moved}: {grids}); resampled onto the image grid by nearest "
               f"neighbour in world coordinates ({min(inside, 1.0):.0%} of its volume inside the image)")
    if inside < MIN_MASK_FRACTION_INSIDE:
        warning = (f"only {inside:.0%} of {name} lies inside the image: was it drawn on this image "
                   f"(not another scan or patient)? Check the overlay before using the result. {warning}")
    return GridMask(resampled, offset, warning)


MIN_MASK_FRACTION_INSIDE = 0.5
"""A mask resampled from another grid that keeps less than this fraction of its volume (ml)
inside the image was probably drawn on another field of view, scan or patient: its warning
says so first (only a mask with no voxel inside the image is an error)."""

MAX_MASK_LABELS = 255
"""A mask holds a few whole-number labels; more distinct values than this is an image."""

SOFT_MASK_SLACK = 1e-3
"""Interpolation overshoot and float noise tolerated around labels and the 0..1 range."""


def require_labels(values: np.ndarray, name: str) -> None:
    """Raise :class:`ImageValueError` unless ``values`` look like a label mask: finite, whole
    numbers (or fractions within 0..1: a soft mask), at most :data:`MAX_MASK_LABELS` distinct
    non-zero values (an image passed as a mask would otherwise become a 'bone' of every voxel
    above 0.5)."""
    finite = np.isfinite(values)
    if not finite.all():
        raise ImageValueError(f"{name} holds {int((~finite).sum())} voxels that are not finite (NaN or "
                              "infinite): a mask holds labels 0 / 1; fix the mask")
    if np.issubdtype(values.dtype, np.floating):
        lowest, highest = float(values.min()), float(values.max())
        if lowest >= -SOFT_MASK_SLACK and highest <= 1 + SOFT_MASK_SLACK:
            return  # a soft (interpolated, probability) mask within 0..1: cut at 0.5
        fractional = np.abs(values - np.round(values)) > SOFT_MASK_SLACK
        if fractional.any():
            example = float(values[fractional].flat[0])
            raise ImageValueError(f"{name} is not a label mask: it holds values that are neither whole labels "
                                  f"nor fractions within 0..1 (e.g. {example:.6g}); pass the mask drawn on the "
                                  "image, not an image")
    nonzero = values[values != 0]
    small_range = nonzero.size and np.issubdtype(values.dtype, np.integer) and \
        int(nonzero.max()) - int(nonzero.min()) < 1_000_000
    labels = (np.flatnonzero(np.bincount(nonzero.astype(np.int64) - int(nonzero.min()))) if small_range
              else np.unique(np.round(nonzero)))
    if labels.size > MAX_MASK_LABELS:
        raise ImageValueError(f"{name} is not a label mask: it holds {labels.size} distinct values; a mask "
                              "holds labels 0 / 1: pass the mask drawn on the image, not an image")
