"""ROI mode: edema inside a user-given bone mask (knee, ankle, foot, sacroiliac joint, ...).

Steps: the masks are brought onto the image grid (:mod:`bme_mri.quantify.grid`); normal
marrow (its level voxel by voxel and its spread) and the lesions are estimated together by the
rules of :mod:`bme_mri.quantify.lesions` (method ``hysteresis``; a given normal-marrow sample
anchors the normal level and always counts as normal), or the VHI authors' published thresholds
are applied (:mod:`bme_mri.quantify.vhi`, method ``vhi``, which needs the given sample). Every constant is in ``configs/default.yaml`` under ``quantify.roi``; the hip
segmenter's rules (``segment.*``) are not used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from bme_mri.errors import BmeError, SegmentationError
from bme_mri.quantify.grid import mask_on_grid
from bme_mri.quantify.lesions import find_lesions
from bme_mri.quantify.reference import ReferenceEstimate, given_reference
from bme_mri.quantify.vhi import vhi_lesions, vhi_thresholds
from bme_mri.types import Volume

METHODS = ("hysteresis", "vhi")


@dataclass
class RoiResult:
    """Edema inside one bone mask.

    Attributes
    ----------
    edema_mask : bool ``[i, j, k]`` on the image grid.
    edema_ml, bone_ml : volumes (ml); edema_fraction = edema_ml / bone_ml.
    edema_ml_range : (low, high) edema volumes (ml) at levels ``quantify.roi.range_sd`` higher and
        lower (hysteresis), or the volumes above the VHI upper and lower thresholds (vhi).
    threshold : the level lesion voxels exceed (image units): the median over the bone of the
        local grow level (hysteresis) or the lower VHI threshold.
    reference : the normal marrow (its ``mask`` is the voxels used).
    reference_source : "given" (a normal-marrow mask) or "automatic" (inside the bone mask).
    method : "hysteresis" or "vhi".
    details : method-specific levels and rule counts (JSON-friendly).
    warnings : what was done to the inputs (e.g. a mask resampled onto the image grid).
    """

    edema_mask: np.ndarray
    edema_ml: float
    bone_ml: float
    edema_fraction: float
    edema_ml_range: tuple[float, float]
    threshold: float
    reference: ReferenceEstimate
    reference_source: str
    method: str
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "edema_ml": self.edema_ml,
                "edema_ml_range": list(self.edema_ml_range), "bone_ml": self.bone_ml,
                "edema_fraction": self.edema_fraction, "threshold": self.threshold,
                "reference_source": self.reference_source, "reference": self.reference.to_dict(),
                "details": self.details, "warnings": list(self.warnings)}


def smooth_image(array: np.ndarray, spacing_mm: tuple[float, float, float], sigma_mm: float,
                 inside: np.ndarray | None = None) -> np.ndarray:
    """Gaussian smoothing with ``sigma_mm`` (mm) on an anisotropic grid; float32 out.

    With ``inside`` (a mask), voxels of the mask are smoothed from the mask only (normalised
    convolution), so what lies outside the bone (joint fluid, cortex-adjacent soft tissue) does
    not bleed into its edge; voxels outside keep the plain smoothing.
    """
    array = np.asarray(array, dtype=np.float32)
    if sigma_mm <= 0:
        return array
    sigma = [sigma_mm / s for s in spacing_mm]
    plain = ndimage.gaussian_filter(array, sigma, mode="nearest")
    if inside is None:
        return plain
    weight = ndimage.gaussian_filter(inside.astype(np.float32), sigma, mode="constant")
    total = ndimage.gaussian_filter(np.where(inside, array, 0.0).astype(np.float32), sigma, mode="constant")
    return np.where(inside, total / np.maximum(weight, 1e-6), plain).astype(np.float32)


def _finite_where_measured(image: Volume, bone: np.ndarray, normal: np.ndarray | None,
                           warnings: list[str]) -> Volume:
    """Refuse NaN / inf inside the bone or reference mask; elsewhere set them to 0 (no signal)
    with a warning, so that smoothing does not carry them into the bone."""
    from bme_mri.ingest.finite import non_finite_message, require_finite

    require_finite(image.array, "the image", bone, where=" inside the bone mask")
    if normal is not None:
        require_finite(image.array, "the image", normal, where=" inside the reference mask")
    message = non_finite_message(image.array, "the image", where=" outside the masks")
    if message is None:
        return image
    warnings.append(message.split(";")[0] + "; set to 0 (no signal), not measured")
    return Volume(np.nan_to_num(np.asarray(image.array, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0),
                  image.geometry, image.meta)


def quantify_roi(image: Volume, bone_mask: Volume, reference_mask: Volume | None, config: Any,
                 method: str | None = None) -> RoiResult:
    """Edema inside ``bone_mask`` (``config``: a :class:`bme_mri.config.Config`; uses its
    ``quantify.roi`` section). ``method``: "hysteresis" or "vhi" (None: the configured one).

    Raises :class:`GeometryError` when a mask does not overlap the image and
    :class:`SegmentationError` when the masks hold no usable marrow.
    """
    settings = config.quantify.roi
    method = method or settings.method
    if method not in METHODS:
        raise BmeError(f"unknown ROI method {method!r}; choose one of {', '.join(METHODS)}")
    geometry = image.geometry
    warnings: list[str] = []
    bone_on_grid = mask_on_grid(geometry, bone_mask, "bone mask", settings.grid_tolerance_voxel)
    bone = bone_on_grid.array
    if bone_on_grid.warning:
        warnings.append(bone_on_grid.warning)
    normal = None
    if reference_mask is not None:
        normal_on_grid = mask_on_grid(geometry, reference_mask, "reference mask", settings.grid_tolerance_voxel)
        normal = normal_on_grid.array
        if normal_on_grid.warning:
            warnings.append(normal_on_grid.warning)
    if not bone.any():
        raise SegmentationError(f"bone mask {bone_mask.meta.get('source', '')} is empty")
    image = _finite_where_measured(image, bone, normal, warnings)
    if normal is not None and normal.sum() < settings.reference_source_min_voxels:
        raise SegmentationError(
            f"reference mask {reference_mask.meta.get('source', '')} has {int(normal.sum())} "
            f"voxels on the image; at least {settings.reference_source_min_voxels} needed")
    voxel_ml = geometry.voxel_volume_ml
    if method == "vhi":
        if normal is None:
            raise BmeError("method vhi needs a normal-marrow sample (--reference), as published")
        raw = np.asarray(image.array, dtype=np.float32)
        reference = given_reference(raw, normal)
        thresholds = vhi_thresholds(raw[normal], settings)
        edema = vhi_lesions(raw, bone, thresholds, settings)
        certain = edema & (raw >= thresholds.upper)
        edema_range = (float(certain.sum() * voxel_ml), float(edema.sum() * voxel_ml))
        threshold = thresholds.lower
        details: dict[str, Any] = {"vhi": thresholds.to_dict()}
    else:
        smoothed = smooth_image(image.array, geometry.spacing_mm, settings.smoothing_sigma_mm, inside=bone)
        try:
            lesions = find_lesions(smoothed, bone, geometry.spacing_mm, settings,
                                   raw=np.asarray(image.array, dtype=np.float32), given=normal)
        except ValueError as exc:
            raise SegmentationError(f"no normal marrow to judge edema against: {exc}") from exc
        edema = lesions.mask
        used = lesions.field.mask & ~edema  # the final lesions may reach a voxel fitted as normal
        values = smoothed[used]
        reference = ReferenceEstimate(
            mask=used, source="given" if normal is not None else "automatic",
            median=float(np.median(values)), robust_sd=lesions.field.scale, n_voxels=int(used.sum()),
            description=("the given normal-marrow sample and the bone's marrow taken as normal with it"
                         if normal is not None else
                         "the bone's marrow taken as normal (lowest histogram peak, then every deep "
                         "voxel that is neither lesion nor next to one)"))
        threshold = lesions.grow_level(bone)
        edema_range = lesions.volume_range_ml
        details = lesions.to_dict()
    edema_ml = float(edema.sum() * voxel_ml)
    bone_ml = float(bone.sum() * voxel_ml)
    return RoiResult(edema_mask=edema, edema_ml=edema_ml, bone_ml=bone_ml,
                     edema_fraction=edema_ml / bone_ml if bone_ml > 0 else 0.0,
                     edema_ml_range=(min(edema_range[0], edema_ml), max(edema_range[1], edema_ml)),
                     threshold=float(threshold), reference=reference,
                     reference_source=reference.source, method=method, details=details,
                     warnings=warnings)
