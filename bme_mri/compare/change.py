"""Label maps across visits: resample a follow-up onto the baseline grid, map edema change.

After registration (:mod:`bme_mri.compare.register`) the follow-up label map is resampled onto
the baseline grid (nearest neighbour, so label values survive) and compared voxel by voxel:

* resolved edema: edema (label 2) at baseline, not at follow-up;
* persistent edema: edema at both visits;
* new edema: edema at follow-up, not at baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from bme_mri.compare.register import from_sitk, to_sitk
from bme_mri.types import Geometry, Label

CHANGE_NONE, CHANGE_RESOLVED, CHANGE_PERSISTENT, CHANGE_NEW = 0, 1, 2, 3


def resample_labels(labels: np.ndarray, from_geometry: Geometry, to_geometry: Geometry,
                    matrix_lps: np.ndarray | None = None) -> np.ndarray:
    """Resample a label map from one grid onto another (nearest neighbour).

    Parameters
    ----------
    labels : integer ``[i, j, k]`` array on ``from_geometry`` (e.g. the follow-up's labels).
    from_geometry : grid of ``labels``.
    to_geometry : target grid (e.g. the baseline's).
    matrix_lps : 4x4 mapping *target* LPS points to *source* LPS points (the registration's
        baseline -> follow-up matrix when resampling follow-up labels onto the baseline);
        None means identity (both grids in one scanner frame).

    Returns
    -------
    uint8 array of ``to_geometry.shape``; voxels mapping outside the source are 0.
    """
    labels = np.asarray(labels)
    if tuple(labels.shape) != tuple(from_geometry.shape):
        raise ValueError(f"labels {labels.shape} do not match their geometry {from_geometry.shape}")
    source = to_sitk(labels.astype(np.uint8), from_geometry)
    reference = sitk.Image([int(s) for s in to_geometry.shape], sitk.sitkUInt8)
    reference.SetOrigin(to_geometry.origin_lps_mm)
    reference.SetSpacing(to_geometry.spacing_mm)
    reference.SetDirection(tuple(np.asarray(to_geometry.direction_lps).ravel()))
    transform = sitk.AffineTransform(3)
    if matrix_lps is not None:
        matrix = np.asarray(matrix_lps, dtype=np.float64)
        transform.SetMatrix(tuple(matrix[:3, :3].ravel()))
        transform.SetTranslation(tuple(matrix[:3, 3]))
    resampled = sitk.Resample(source, reference, transform, sitk.sitkNearestNeighbor, 0,
                              sitk.sitkUInt8)
    return from_sitk(resampled).astype(np.uint8)


@dataclass
class ChangeMap:
    """Regional edema change on the baseline grid.

    Attributes
    ----------
    resolved, persistent, new : boolean masks ``[i, j, k]`` on the baseline grid.
    resolved_ml, persistent_ml, new_ml : their volumes (ml).
    """

    resolved: np.ndarray
    persistent: np.ndarray
    new: np.ndarray
    resolved_ml: float
    persistent_ml: float
    new_ml: float

    def as_labels(self) -> np.ndarray:
        """uint8 map: 0 none, 1 resolved, 2 persistent, 3 new (CHANGE_* constants)."""
        out = np.zeros(self.resolved.shape, dtype=np.uint8)
        out[self.resolved] = CHANGE_RESOLVED
        out[self.persistent] = CHANGE_PERSISTENT
        out[self.new] = CHANGE_NEW
        return out

    def to_dict(self) -> dict:
        """Volumes only (JSON-friendly)."""
        return {"resolved_ml": self.resolved_ml, "persistent_ml": self.persistent_ml,
                "new_ml": self.new_ml}


def _drop_small(mask: np.ndarray, min_voxels: float) -> np.ndarray:
    if min_voxels <= 1 or not mask.any():
        return mask
    components, count = ndimage.label(mask)
    sizes = np.bincount(components.ravel(), minlength=count + 1)
    keep = sizes >= min_voxels
    keep[0] = False
    return keep[components]


def change_map(baseline_labels: np.ndarray, followup_labels_on_baseline: np.ndarray,
               voxel_volume_ml: float, region: np.ndarray | None = None,
               min_component_ml: float = 0.0) -> ChangeMap:
    """Resolved / persistent / new edema between two label maps on the same (baseline) grid.

    Parameters
    ----------
    baseline_labels : baseline label map (:class:`~bme_mri.types.Label` values).
    followup_labels_on_baseline : follow-up labels already resampled onto the baseline grid
        (:func:`resample_labels` with the registration matrix).
    voxel_volume_ml : baseline voxel volume (ml).
    region : optional boolean mask limiting the comparison (e.g. one hip).
    min_component_ml : resolved/new clusters smaller than this (ml) are dropped (0 keeps all).
    """
    if baseline_labels.shape != followup_labels_on_baseline.shape:
        raise ValueError(f"label maps differ in shape: {baseline_labels.shape} vs "
                         f"{followup_labels_on_baseline.shape}; resample the follow-up first")
    before = baseline_labels == Label.EDEMA
    after = followup_labels_on_baseline == Label.EDEMA
    if region is not None:
        before = before & region
        after = after & region
    min_voxels = min_component_ml / voxel_volume_ml if voxel_volume_ml > 0 else 0.0
    resolved = _drop_small(before & ~after, min_voxels)
    persistent = before & after
    new = _drop_small(after & ~before, min_voxels)
    return ChangeMap(resolved, persistent, new,
                     float(resolved.sum() * voxel_volume_ml),
                     float(persistent.sum() * voxel_volume_ml),
                     float(new.sum() * voxel_volume_ml))
