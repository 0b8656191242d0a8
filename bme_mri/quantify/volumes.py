"""Volumes per femoral head from a :class:`~bme_mri.segment.Segmentation` (ml).

Every volume is a voxel count x the voxel volume (``Geometry.voxel_volume_ml``) on the
analysed image's grid. Voxels are attributed to the side of the nearest head centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bme_mri.segment.base import ReferenceMarrow, Segmentation
from bme_mri.types import Label, Side


@dataclass(frozen=True)
class SideMeasurement:
    """What is measured on one femoral head.

    Attributes
    ----------
    side : the patient's side.
    femoral_head_ml : head proper (labels 1-3), ml.
    edema_ml : edema inside the head proper (label 2), ml.
    edema_headneck_ml : edema in head and neck, ml.
    edema_fraction : edema_ml / femoral_head_ml (0 when the head is empty).
    necrosis_ml : label 3, ml.
    reference : the normal-marrow reference used on this side.
    edema_threshold : edema threshold applied on this side (image units).
    edema_ml_range, necrosis_ml_range : (low, high) of ``edema_ml`` and ``necrosis_ml`` (ml;
        :mod:`bme_mri.segment.ranges`); None when not measured.
    not_measured : why the edema and necrosis figures (and, when the head fit failed or the
        head is cut by the field of view, the head's) are None: a blocking quality-control flag
        (:mod:`bme_mri.quantify.withhold`); None for a measured hip. The withheld figures are
        not kept anywhere.
    """

    side: Side
    femoral_head_ml: float | None
    edema_ml: float | None
    edema_headneck_ml: float | None
    edema_fraction: float | None
    necrosis_ml: float | None
    reference: ReferenceMarrow | None
    edema_threshold: float
    not_measured: str | None = None
    edema_ml_range: tuple[float, float] | None = None
    necrosis_ml_range: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side.value,
            "femoral_head_ml": self.femoral_head_ml,
            "edema_ml": self.edema_ml,
            "edema_headneck_ml": self.edema_headneck_ml,
            "edema_fraction": self.edema_fraction,
            "necrosis_ml": self.necrosis_ml,
            "edema_threshold": self.edema_threshold,
            "edema_ml_range": None if self.edema_ml_range is None else [float(v) for v in self.edema_ml_range],
            "necrosis_ml_range": None if self.necrosis_ml_range is None else [float(v) for v in self.necrosis_ml_range],
            "reference": None if self.reference is None else self.reference.to_dict(),
            "not_measured": self.not_measured,
        }


def _counts_by_head(seg: Segmentation, mask: np.ndarray) -> np.ndarray:
    owner = seg.nearest_head(mask)
    return np.bincount(owner, minlength=len(seg.heads))[: len(seg.heads)]


def measure(seg: Segmentation) -> list[SideMeasurement]:
    """One :class:`SideMeasurement` per head in ``seg.heads`` (same order)."""
    if not seg.heads:
        return []
    voxel_ml = seg.geometry.voxel_volume_ml
    labels = seg.labels
    head = _counts_by_head(seg, labels > Label.BACKGROUND) * voxel_ml
    edema = _counts_by_head(seg, labels == Label.EDEMA) * voxel_ml
    necrosis = _counts_by_head(seg, labels == Label.NECROSIS) * voxel_ml
    headneck = _counts_by_head(seg, seg.edema_headneck) * voxel_ml
    out = []
    for i, finding in enumerate(seg.heads):
        out.append(SideMeasurement(
            side=finding.side, femoral_head_ml=float(head[i]), edema_ml=float(edema[i]),
            edema_headneck_ml=float(headneck[i]),
            edema_fraction=float(edema[i] / head[i]) if head[i] > 0 else 0.0,
            necrosis_ml=float(necrosis[i]),
            reference=finding.reference if finding.reference is not None else seg.reference,
            edema_threshold=float(finding.edema_threshold),
            edema_ml_range=seg.ranges_ml.get(finding.side, {}).get("edema"),
            necrosis_ml_range=seg.ranges_ml.get(finding.side, {}).get("necrosis")))
    return out
