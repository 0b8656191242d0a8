"""The normal-marrow level of a scan, voxel by voxel, and the spread of marrow around it.

Real marrow is not one grey level: coil shading, red and yellow marrow and the bone's own
shape make whole regions of normal marrow 20-30% brighter or darker than others (on the
sacroiliac STIR scans of the development data the deep marrow of one slice lies 0.8-1.9 x a
hand-drawn normal sample). A lesion is marrow brighter than *its own surroundings'* normal
level, so the level is a field, not a number:

* ``level(x)``: a Gaussian-weighted mean (``sigma_mm``) of the voxels taken as normal marrow
  (normalised convolution: only those voxels count, wherever they lie), kept within
  ``centre +/- window_sd x spread``, the range normal marrow spans over the whole bone (a local
  level may follow shading, never climb into a large lesion).
* ``scale``: the robust sd of the normal voxels around ``level`` (texture and noise together;
  1.4826 x MAD).
* ``z(x) = (image(x) - level(x)) / scale``: how far a voxel stands above its own normal marrow.

Which voxels are normal is decided with the lesions (:mod:`bme_mri.quantify.lesions`): at
first those within ``centre +/- window_sd x spread`` (the lowest histogram peak of the deep
bone, or a given sample), then every deep voxel that is neither lesion nor next to one, nor an
outlier beyond ``outlier_sd``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from bme_mri.quantify.reference import robust_sd


@dataclass
class NormalMarrowField:
    """Normal marrow's level per voxel and its spread (image units of the smoothed image).

    Attributes
    ----------
    level : float32 ``[i, j, k]``: the normal-marrow level at each voxel.
    scale : robust sd of normal marrow around ``level``.
    mask : bool ``[i, j, k]``: the voxels ``level`` was fitted to.
    centre, spread : the bone-wide normal level and sd that bound ``level``
        (``centre +/- window_sd x spread``).
    """

    level: np.ndarray
    scale: float
    mask: np.ndarray
    centre: float
    spread: float

    def z(self, image: np.ndarray) -> np.ndarray:
        """(image - level) / scale, float32: sd above this voxel's normal marrow."""
        return ((np.asarray(image, dtype=np.float32) - self.level) / np.float32(self.scale)).astype(np.float32)

    def level_range(self, inside: np.ndarray) -> tuple[float, float]:
        """Lowest and highest normal level over ``inside`` (image units)."""
        values = self.level[inside]
        return (float(values.min()), float(values.max())) if values.size else (self.centre, self.centre)


def local_level(image: np.ndarray, normal: np.ndarray, spacing_mm: tuple[float, float, float],
                sigma_mm: float) -> np.ndarray:
    """Gaussian-weighted mean (``sigma_mm``, mm) of ``image`` over the voxels of ``normal``
    (normalised convolution); where no normal voxel lies within reach, the mean of all of them."""
    sigma = [sigma_mm / s for s in spacing_mm]
    weight = ndimage.gaussian_filter(normal.astype(np.float32), sigma, mode="constant")
    total = ndimage.gaussian_filter(np.where(normal, image, 0.0).astype(np.float32), sigma, mode="constant")
    fallback = float(np.mean(image[normal])) if normal.any() else 0.0
    floor = 1e-4 * float(weight.max()) if weight.size else 0.0
    return np.where(weight > floor, total / np.maximum(weight, 1e-12), fallback).astype(np.float32)


def fit_field(image: np.ndarray, normal: np.ndarray, spacing_mm: tuple[float, float, float],
              sigma_mm: float, centre: float, spread: float, window_sd: float,
              scale: float | None = None) -> NormalMarrowField:
    """The field fitted to ``normal`` (see the module docstring); ``scale`` None = measured
    on ``normal`` around the new level."""
    level = local_level(image, normal, spacing_mm, sigma_mm)
    np.clip(level, centre - window_sd * spread, centre + window_sd * spread, out=level)
    if scale is None:
        residual = image[normal].astype(np.float64) - level[normal]
        scale = robust_sd(residual)
    scale = max(float(scale), 1e-6 * max(abs(centre), 1.0))
    return NormalMarrowField(level=level, scale=scale, mask=normal.copy(), centre=float(centre),
                             spread=float(spread))
