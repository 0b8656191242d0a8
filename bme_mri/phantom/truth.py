"""Truth volumes (ml) per hip, computed from the continuous model, not from a label map.

* ``femoral_head_ml``: exact, analytic (sphere minus the cap beyond the head-neck junction
  plane; see :mod:`bme_mri.phantom.anatomy` for the definition of the femoral head).
* ``edema_ml``: femoral-head marrow (cortex excluded) with edema field ``e >= 0.5`` and
  outside any necrosis (label 2 of the map);
* ``edema_headneck_ml``: edematous marrow (``e >= 0.5``, not necrotic) anywhere in the
  proximal femur: head, neck and trochanteric region (a superset of ``edema_ml``);
* ``necrosis_ml``: femoral-head marrow inside the necrotic lesion, its dark rim and bright
  inner line included (label 3 of the map).

The model is evaluated on a regular ``FINE_STEP_MM`` = 0.5 mm grid of cell centres over the
bounding box of the relevant blob (the same :func:`~bme_mri.phantom.scene.sample_body` that
draws the images, so truth and images share one definition); volume = count x 0.125 mm^3.
Volumes are frame-independent, so they are computed in the body frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bme_mri.phantom.anatomy import HipModel
from bme_mri.phantom.scene import Scene, sample_body
from bme_mri.phantom.tissue import Tissue
from bme_mri.types import Label

FINE_STEP_MM = 0.5


@dataclass(frozen=True)
class SideVolumes:
    femoral_head_ml: float
    edema_ml: float
    edema_headneck_ml: float
    necrosis_ml: float


def _box_points(lo: np.ndarray, hi: np.ndarray, step: float) -> np.ndarray:
    axes = [np.arange(a + step / 2, b, step, dtype=np.float32) for a, b in zip(lo, hi)]
    grid = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.ravel() for g in grid], axis=1)


def _ellipsoid_box(center, axes, radii, margin: float) -> tuple[np.ndarray, np.ndarray]:
    axes = np.asarray(axes)
    half = np.sqrt(((np.asarray(radii)[:, None] * axes) ** 2).sum(axis=0)) + margin
    return np.asarray(center) - half, np.asarray(center) + half


def _count_ml(mask: np.ndarray, step: float) -> float:
    return float(mask.sum()) * step**3 / 1000.0


def side_volumes(scene: Scene, side: str, step: float = FINE_STEP_MM) -> SideVolumes:
    """Truth volumes (ml) of one hip of a scene (see module docstring)."""
    hip: HipModel = scene.anatomy.hips[side]
    path = scene.pathology.get(side)
    edema_ml = headneck_ml = necrosis_ml = 0.0
    center = np.asarray(hip.head_center)
    head_lo, head_hi = center - hip.head_radius - 1.0, center + hip.head_radius + 1.0
    if path is not None and path.edema is not None:
        spec = path.edema
        margin = 6.0 * spec.softness_mm + sum(w[4] for w in spec.wobble)
        lo, hi = _ellipsoid_box(spec.center, spec.axes, spec.radii, margin)
        points = _box_points(lo, hi, step)
        sample = sample_body(scene, points)
        headneck_ml = _count_ml((sample.tissue == Tissue.MARROW) & (sample.edema >= 0.5), step)
        edema_ml = _count_ml(sample.label == Label.EDEMA, step)
    if path is not None and path.necrosis is not None:
        spec = path.necrosis
        lo, hi = _ellipsoid_box(spec.center, spec.axes, spec.radii, 1.0)
        lo, hi = np.maximum(lo, head_lo), np.minimum(hi, head_hi)
        sample = sample_body(scene, _box_points(lo, hi, step))
        necrosis_ml = _count_ml(sample.label == Label.NECROSIS, step)
    return SideVolumes(femoral_head_ml=hip.head_volume_ml, edema_ml=edema_ml,
                       edema_headneck_ml=headneck_ml, necrosis_ml=necrosis_ml)


def transform_record(to_body: np.ndarray) -> dict:
    """``transform_to_baseline`` for truth.json: 4x4 LPS matrix, translation, rotation angle."""
    rot = to_body[:3, :3]
    angle = float(np.degrees(np.arccos(np.clip((np.trace(rot) - 1) / 2, -1.0, 1.0))))
    return {"matrix_lps": np.round(to_body, 9).tolist(),
            "translation_mm": [round(float(v), 6) for v in to_body[:3, 3]],
            "rotation_deg": round(angle, 6),
            "note": "maps this visit's patient LPS mm to the baseline visit's (x_b = M @ x_v)"}


def side_record(scene: Scene, side: str, present: bool, volumes: SideVolumes) -> dict:
    """One ``sides`` entry of truth.json, positions in this visit's patient LPS mm."""
    hip = scene.anatomy.hips[side]
    center = scene.to_visit(np.asarray([hip.head_center]))[0]
    inverse = np.linalg.inv(scene.to_body)
    axis = inverse[:3, :3] @ np.asarray(hip.neck_axis)
    return {
        "present": present,
        "femoral_head_ml": round(volumes.femoral_head_ml, 4),
        "edema_ml": round(volumes.edema_ml, 4),
        "edema_headneck_ml": round(volumes.edema_headneck_ml, 4),
        "necrosis_ml": round(volumes.necrosis_ml, 4),
        "head_center_lps_mm": [round(float(v), 4) for v in center],
        "head_radius_mm": round(hip.head_radius, 4),
        "neck_axis_lps": [round(float(v), 6) for v in axis],
        "junction_offset_mm": round(hip.junction_offset_mm, 4),
    }
