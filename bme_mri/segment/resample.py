"""Resampling between the analysed image's grid and an LPS-aligned isotropic working grid.

The working grid has identity direction (axes = LPS x, y, z), so working-array index
``(a, b, c)`` maps to LPS ``origin + spacing x (a, b, c)``; arrays are ``[x, y, z]``.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from bme_mri.types import Geometry, Volume


def to_sitk(volume: Volume) -> sitk.Image:
    """A SimpleITK image of ``volume`` with its full geometry (spacing, origin, direction)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array.transpose(2, 1, 0),
                                                        dtype=np.float32))
    geometry = volume.geometry
    image.SetSpacing(geometry.spacing_mm)
    image.SetOrigin(geometry.origin_lps_mm)
    image.SetDirection(tuple(float(v) for v in np.asarray(geometry.direction_lps).ravel()))
    return image


def working_geometry(geometry: Geometry, spacing_mm: float) -> Geometry:
    """The LPS-aligned isotropic grid (spacing ``spacing_mm``) covering ``geometry``."""
    corners = geometry.corners_lps()
    low, high = corners.min(axis=0), corners.max(axis=0)
    shape = tuple(int(np.floor((h - lo) / spacing_mm)) + 1 for lo, h in zip(low, high))
    return Geometry(shape, (spacing_mm,) * 3, tuple(low), np.eye(3))


def resample_onto(volume: Volume, target: Geometry, linear: bool = True) -> np.ndarray:
    """``volume`` resampled onto ``target`` (world coordinates), float32 ``[i, j, k]``;
    voxels outside ``volume`` are 0. On ``volume``'s own grid (voxel centres within 1e-4 mm:
    a T1 acquired on the STIR's grid) the array itself, as float32, without interpolating."""
    if volume.geometry.same_grid(target, tol_mm=1e-4):
        return np.array(volume.array, dtype=np.float32)
    reference = sitk.Image([int(s) for s in target.shape], sitk.sitkFloat32)
    reference.SetSpacing(target.spacing_mm)
    reference.SetOrigin(target.origin_lps_mm)
    reference.SetDirection(tuple(float(v) for v in np.asarray(target.direction_lps).ravel()))
    out = sitk.Resample(to_sitk(volume), reference, sitk.Transform(),
                        sitk.sitkLinear if linear else sitk.sitkNearestNeighbor, 0.0,
                        sitk.sitkFloat32)
    return sitk.GetArrayViewFromImage(out).transpose(2, 1, 0).copy()  # one copy, C-ordered [i, j, k]


def n4_corrected(array: np.ndarray, spacing_mm: float, shrink: int, iterations: int,
                 mask: np.ndarray) -> np.ndarray:
    """N4 bias-corrected ``array`` (working grid); the field is fitted on a shrunk copy."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(array.transpose(2, 1, 0)))
    image.SetSpacing((spacing_mm,) * 3)
    mask_image = sitk.GetImageFromArray(np.ascontiguousarray(mask.transpose(2, 1, 0)).astype(np.uint8))
    mask_image.CopyInformation(image)
    small = sitk.Shrink(image, [shrink] * 3)
    small_mask = sitk.Shrink(mask_image, [shrink] * 3)
    corrector = sitk.N4BiasFieldCorrectionImageFilter()
    corrector.SetMaximumNumberOfIterations([iterations] * 3)
    corrector.Execute(sitk.Cast(small, sitk.sitkFloat32) + 1e-3, small_mask)
    log_field = corrector.GetLogBiasFieldAsImage(image)
    field = np.exp(sitk.GetArrayFromImage(log_field).transpose(2, 1, 0))
    return (array / np.maximum(field, 1e-3)).astype(np.float32)


def field_of_view(image: Volume, geometry: Geometry, margin_mm: float = 0.0) -> np.ndarray:
    """Bool mask on ``geometry``: the voxels inside ``image``'s field of view, i.e. whose
    continuous voxel index in ``image`` lies within [-0.5, n - 0.5] on every axis (the voxels'
    own extent; the same voxels as resampling a volume of ones linearly and keeping > 0.5,
    without resampling: one affine map per axis of the target grid). With ``margin_mm`` > 0,
    only the voxels at least that far (mm, along each face's normal) inside every face of the
    field."""
    to_source = np.linalg.inv(image.geometry.affine_lps) @ geometry.affine_lps
    axes = [np.arange(n, dtype=np.float64) for n in geometry.shape]
    inside = np.ones(tuple(int(n) for n in geometry.shape), dtype=bool)
    for d, size in enumerate(image.geometry.shape):
        pad = margin_mm / float(image.geometry.spacing_mm[d])
        terms = [to_source[d, a] * axes[a].reshape([-1 if b == a else 1 for b in range(3)])
                 for a in range(3) if to_source[d, a] != 0.0]  # an axis-aligned image: one term
        index = sum(terms, np.full((1, 1, 1), to_source[d, 3]))
        inside &= (index >= -0.5 + pad) & (index <= size - 0.5 - pad)
    return inside
