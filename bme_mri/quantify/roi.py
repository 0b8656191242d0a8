"""ROI mode: edema inside a user-given bone mask (knee, ankle, foot, sacroiliac joint, ...).

The same rules as the hip segmenter (:mod:`bme_mri.segment.marrow`): marrow = the bone mask
eroded by ``segment.edema.cortex_thickness_mm``; reference = the given normal-marrow mask, or
else the lower intensity mode of the marrow deeper than ``quantify.roi.reference_depth_mm``
inside the bone mask (clear of the cortex's partial volume); threshold, hysteresis,
hole filling and size floor as configured in ``segment.edema``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bme_mri.errors import GeometryError, SegmentationError
from bme_mri.segment.base import ReferenceMarrow
from bme_mri.segment.marrow import (
    edema_mask, edema_threshold, erode_mm, reference_from_normal_values, reference_from_values,
    smooth_image,
)
from bme_mri.types import Geometry, Volume


@dataclass
class RoiResult:
    """Edema inside one bone mask.

    Attributes
    ----------
    edema_mask : bool ``[i, j, k]`` on the image grid.
    edema_ml, bone_ml : volumes (ml); edema_fraction = edema_ml / bone_ml.
    threshold : edema threshold applied (image units).
    reference : reference marrow statistics.
    reference_source : "given" (a normal-marrow mask) or "estimated" (inside the bone mask).
    """

    edema_mask: np.ndarray
    edema_ml: float
    bone_ml: float
    edema_fraction: float
    threshold: float
    reference: ReferenceMarrow
    reference_source: str

    def to_dict(self) -> dict[str, Any]:
        return {"edema_ml": self.edema_ml, "bone_ml": self.bone_ml,
                "edema_fraction": self.edema_fraction, "threshold": self.threshold,
                "reference_source": self.reference_source,
                "reference": self.reference.to_dict()}


def _grid_text(geometry: Geometry) -> str:
    return (f"shape {tuple(geometry.shape)}, spacing {tuple(round(s, 4) for s in geometry.spacing_mm)} mm, "
            f"origin {tuple(round(o, 3) for o in geometry.origin_lps_mm)} mm LPS")


def _check_grid(image: Volume, mask: Volume, what: str) -> np.ndarray:
    if not image.geometry.same_grid(mask.geometry):
        name = f"{what} {mask.meta.get('source', '')}".strip()
        raise GeometryError(
            f"{name} is not on the image grid: mask {_grid_text(mask.geometry)} vs image "
            f"{_grid_text(image.geometry)}; resample the mask onto the image first")
    return np.asarray(mask.array) > 0.5


def quantify_roi(image: Volume, bone_mask: Volume, reference_mask: Volume | None,
                 config: Any) -> RoiResult:
    """Edema inside ``bone_mask`` (``config``: a :class:`bme_mri.config.Config`; uses its
    ``segment.edema``, ``segment.reference`` and ``quantify.roi`` sections).

    Raises :class:`GeometryError` when a mask is not on the image grid and
    :class:`SegmentationError` when the masks hold no usable marrow.
    """
    edema_settings = config.segment.edema
    bone = _check_grid(image, bone_mask, "bone mask")
    normal = None if reference_mask is None else _check_grid(image, reference_mask, "reference mask")
    geometry = image.geometry
    voxel_ml = geometry.voxel_volume_ml
    if not bone.any():
        raise SegmentationError(f"bone mask {bone_mask.meta.get('source', '')} is empty")
    marrow = erode_mm(bone, edema_settings.cortex_thickness_mm, geometry.spacing_mm)
    if marrow.sum() < 10:
        marrow = bone
    smoothed = smooth_image(image.array, geometry.spacing_mm, edema_settings.smoothing_sigma_mm)
    if normal is not None:
        if normal.sum() < config.quantify.roi.reference_source_min_voxels:
            raise SegmentationError(
                f"reference mask {reference_mask.meta.get('source', '')} has {int(normal.sum())} "
                f"voxels; at least {config.quantify.roi.reference_source_min_voxels} needed")
        reference = reference_from_normal_values(smoothed[normal], "given normal-marrow mask",
                                                 edema_settings)
        source = "given"
    else:
        deep = erode_mm(bone, config.quantify.roi.reference_depth_mm, geometry.spacing_mm)
        if deep.sum() < config.quantify.roi.reference_source_min_voxels:
            deep = marrow
        reference = reference_from_values(smoothed[deep],
                                          "lower intensity mode of the marrow inside the bone mask",
                                          config.segment.reference, edema_settings,
                                          tail_fallback=True)
        source = "estimated"
    if reference is None:
        raise SegmentationError("no marrow voxels to estimate the normal reference from")
    threshold = edema_threshold(smoothed, marrow, reference, voxel_ml, edema_settings)
    edema = edema_mask(smoothed, marrow, reference, threshold, voxel_ml, edema_settings)
    edema_ml = float(edema.sum() * voxel_ml)
    bone_ml = float(bone.sum() * voxel_ml)
    return RoiResult(edema_mask=edema, edema_ml=edema_ml, bone_ml=bone_ml,
                     edema_fraction=edema_ml / bone_ml if bone_ml > 0 else 0.0,
                     threshold=threshold, reference=reference, reference_source=source)
