"""Masks grown, shrunk and measured in millimetres on anisotropic voxel grids (Euclidean
distance transforms: a ball of the given radius in mm, whatever the voxel spacing)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def depth_below_surface_mm(mask: np.ndarray, spacing_mm: tuple[float, float, float]) -> np.ndarray:
    """Distance (mm) of each voxel of ``mask`` to the nearest voxel outside it, the array's
    edge counting as outside (0 outside the mask)."""
    padded = np.pad(np.asarray(mask, dtype=bool), 1, constant_values=False)
    return ndimage.distance_transform_edt(padded, sampling=spacing_mm)[1:-1, 1:-1, 1:-1]


def dilate_mm(mask: np.ndarray, radius_mm: float, spacing_mm) -> np.ndarray:
    """``mask`` grown by ``radius_mm`` (mm): every voxel within that distance of a mask voxel."""
    mask = np.asarray(mask, dtype=bool)
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    return ndimage.distance_transform_edt(~mask, sampling=spacing_mm) <= radius_mm


def close_mm(mask: np.ndarray, radius_mm: float, spacing_mm: tuple[float, float, float]) -> np.ndarray:
    """Morphological closing by a ball of ``radius_mm`` (mm): gaps narrower than twice the
    radius bridged, the mask itself always kept."""
    mask = np.asarray(mask, dtype=bool)
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    return (depth_below_surface_mm(dilate_mm(mask, radius_mm, spacing_mm), spacing_mm) > radius_mm) | mask
