"""One visit's scene: anatomy + pathology + where the patient lies; sampled at any points.

The anatomy lives in the body frame (the baseline visit's patient coordinates). At a visit
the patient lies rigidly repositioned: ``to_body`` (4x4, LPS) maps that visit's patient
coordinates to the body frame; it is the ``transform_to_baseline`` of the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bme_mri.phantom.anatomy import (
    CORTEX_MM, Anatomy, acetabulum_sdf, body_sdf, cartilage_mask, femur_sdf, head_region,
    sd_capsule, sd_ellipsoid, sd_sphere,
)
from bme_mri.phantom.pathology import SidePathology, edema_fraction, necrosis_sdf
from bme_mri.phantom.tissue import Tissue
from bme_mri.types import Label


@dataclass(frozen=True)
class Scene:
    anatomy: Anatomy
    pathology: dict[str, SidePathology]
    to_body: np.ndarray = field(default_factory=lambda: np.eye(4))

    def to_visit(self, xyz_body: np.ndarray) -> np.ndarray:
        """Body-frame LPS mm -> this visit's patient LPS mm."""
        inverse = np.linalg.inv(self.to_body)
        return np.asarray(xyz_body) @ inverse[:3, :3].T + inverse[:3, 3]


@dataclass
class Sample:
    """Model values at points: tissue code, edema fraction (0..1) and truth label."""

    tissue: np.ndarray  # uint8 Tissue codes
    edema: np.ndarray  # float32, meaningful where tissue == MARROW
    label: np.ndarray  # uint8 Label values


def sample_body(scene: Scene, p: np.ndarray) -> Sample:
    """Evaluate the model at body-frame points ``p`` (N, 3) float32."""
    n = p.shape[0]
    anatomy = scene.anatomy
    body = anatomy.body
    tissue = np.full(n, Tissue.AIR, np.uint8)
    edema = np.zeros(n, np.float32)
    label = np.zeros(n, np.uint8)
    skin = body_sdf(p, body)
    inside = skin <= 0
    tissue[inside] = Tissue.FAT
    tissue[skin <= -body.fat_mm] = Tissue.MUSCLE
    bladder = sd_ellipsoid(p, body.bladder_center, np.eye(3), body.bladder_radii) <= 0
    tissue[bladder] = Tissue.URINE
    pelvis = np.full(n, np.inf, np.float32)
    for a, b, radius in body.pelvis_bones:
        lo = np.minimum(a, b) - radius - 1.0
        hi = np.maximum(a, b) + radius + 1.0
        idx = np.flatnonzero((p[:, 0] >= lo[0]) & (p[:, 0] <= hi[0]) & (p[:, 1] >= lo[1])
                             & (p[:, 1] <= hi[1]) & (p[:, 2] >= lo[2]) & (p[:, 2] <= hi[2]))
        if idx.size:
            pelvis[idx] = np.minimum(pelvis[idx], sd_capsule(p[idx], a, b, radius))
    local: dict[str, np.ndarray] = {}
    for side, hip in anatomy.hips.items():
        # head, neck, acetabulum and pathology live within this box around the head centre
        half = hip.head_radius + hip.neck_length + 12.0
        c = hip.head_center
        idx = np.flatnonzero((np.abs(p[:, 0] - c[0]) <= half) & (np.abs(p[:, 1] - c[1]) <= half)
                             & (np.abs(p[:, 2] - c[2]) <= half))
        local[side] = idx
        if idx.size:
            pelvis[idx] = np.minimum(pelvis[idx], acetabulum_sdf(p[idx], hip))
    tissue[pelvis <= 0] = Tissue.CORTEX
    tissue[pelvis <= -CORTEX_MM] = Tissue.PELVIC_MARROW
    for side, hip in anatomy.hips.items():
        path = scene.pathology.get(side, SidePathology())
        idx = local[side]
        q = p[idx]
        t = tissue[idx]
        if path.effusion_mm > 0:
            headneck = np.minimum(sd_sphere(q, hip.head_center, hip.head_radius),
                                  sd_capsule(q, hip.head_center,
                                             np.asarray(hip.head_center) + 0.8 * hip.neck_length
                                             * np.asarray(hip.neck_axis),
                                             hip.neck_radius_head, hip.neck_radius_base))
            t[(headneck > 0) & (headneck <= path.effusion_mm) & (pelvis[idx] > 0)] = Tissue.FLUID
        t[cartilage_mask(q, hip)] = Tissue.CARTILAGE
        tissue[idx] = t
        sign = 1.0 if side == "left" else -1.0
        near = np.flatnonzero(sign * p[:, 0] > 15.0)  # the whole femur of this side
        femur = femur_sdf(p[near], hip)
        tissue[near[femur <= 0]] = Tissue.CORTEX
        tissue[near[femur <= -CORTEX_MM]] = Tissue.MARROW
        # pathology and truth labels, in the head box
        t = tissue[idx]
        marrow = t == Tissue.MARROW
        head = head_region(q, hip)
        lab = np.where(head, Label.HEAD_MARROW, Label.BACKGROUND).astype(np.uint8)
        e = np.zeros(q.shape[0], np.float32)
        if path.edema is not None:
            m = np.flatnonzero(marrow)
            e[m] = edema_fraction(q[m], path.edema)
            lab[head & marrow & (e >= 0.5)] = Label.EDEMA
        if path.necrosis is not None:
            spec = path.necrosis
            nsdf = necrosis_sdf(q, spec)
            lesion = marrow & (nsdf <= 0)
            t[lesion] = Tissue.NECROTIC_CORE
            if spec.double_line:
                t[lesion & (nsdf > -spec.rim_mm - 1.0)] = Tissue.GRANULATION
            t[lesion & (nsdf > -spec.rim_mm)] = Tissue.SCLEROTIC_RIM
            e[lesion] = 0.0
            lab[head & lesion] = Label.NECROSIS
        tissue[idx] = t
        edema[idx] = e
        label[idx] = lab
    return Sample(tissue=tissue, edema=edema, label=label)


def sample_visit(scene: Scene, xyz_visit: np.ndarray) -> Sample:
    """Evaluate at points given in this visit's patient LPS mm (N, 3)."""
    m = scene.to_body
    p = (np.asarray(xyz_visit, np.float64) @ m[:3, :3].T + m[:3, 3]).astype(np.float32)
    return sample_body(scene, p)
