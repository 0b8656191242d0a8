"""Tiny synthetic hip scenes for compare/report tests (not the phantom generator).

A scene is defined in *anatomy* coordinates (LPS mm at the baseline visit): a textured bright
sphere (femoral head marrow) with a dark rim (cortex), a neck cylinder, a dark acetabular cup
and a textured soft-tissue background. A follow-up visit is the same anatomy moved by a rigid
4x4 ``motion`` (baseline LPS point -> follow-up LPS point) and sampled on its own grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from bme_mri.types import Geometry, Label, Volume

HEAD_RADIUS_MM = 22.0
CORTEX_MM = 2.5


def coronal_geometry(center_lps: np.ndarray, shape=(96, 96, 24),
                     spacing=(1.25, 1.25, 3.5)) -> Geometry:
    """Coronal stack (i = +x, j = -z, k = +y) centred on ``center_lps``."""
    direction = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    half = (np.asarray(shape) - 1) / 2.0 * np.asarray(spacing)
    origin = np.asarray(center_lps, dtype=float) - direction @ half
    return Geometry(shape, spacing, tuple(origin), direction)


def axial_geometry(center_lps: np.ndarray, shape=(96, 96, 24),
                   spacing=(1.25, 1.25, 3.5)) -> Geometry:
    """Axial stack (i = +x, j = +y, k = +z) centred on ``center_lps``."""
    direction = np.eye(3)
    half = (np.asarray(shape) - 1) / 2.0 * np.asarray(spacing)
    origin = np.asarray(center_lps, dtype=float) - direction @ half
    return Geometry(shape, spacing, tuple(origin), direction)


def rigid_matrix(rotation_deg: tuple[float, float, float], translation_mm: tuple[float, float, float],
                 center_lps: np.ndarray) -> np.ndarray:
    """4x4 LPS matrix: rotate about ``center_lps`` (x, y, z Euler degrees), then translate."""
    ax, ay, az = np.radians(rotation_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    rot = rz @ ry @ rx
    c = np.asarray(center_lps, dtype=float)
    matrix = np.eye(4)
    matrix[:3, :3] = rot
    matrix[:3, 3] = c - rot @ c + np.asarray(translation_mm, dtype=float)
    return matrix


@dataclass
class HipScene:
    """Anatomy of one synthetic right hip in baseline LPS mm."""

    head_center: np.ndarray
    neck_axis: np.ndarray  # unit vector from head centre towards the shaft
    edema_center: np.ndarray | None
    edema_radius_mm: float
    necrosis_center: np.ndarray | None
    necrosis_radius_mm: float
    texture: np.ndarray  # smoothed noise on a 1 mm grid
    texture_origin: np.ndarray

    @classmethod
    def build(cls, seed: int, head_center=(-90.0, 10.0, -60.0), edema_radius_mm: float = 10.0,
              necrosis_radius_mm: float = 0.0) -> HipScene:
        rng = np.random.default_rng(seed)
        center = np.asarray(head_center, dtype=float)
        neck = np.array([-0.6, 0.15, -0.78])  # right hip: neck runs lateral (-x) and down
        neck /= np.linalg.norm(neck)
        size = 150
        texture = ndimage.gaussian_filter(rng.normal(size=(size, size, size)).astype(np.float32), 2.0)
        texture /= texture.std()
        origin = center - size / 2.0
        edema_center = center + np.array([-6.0, 0.0, 8.0]) if edema_radius_mm > 0 else None
        necrosis_center = center + np.array([-4.0, -4.0, 14.0]) if necrosis_radius_mm > 0 else None
        return cls(center, neck, edema_center, edema_radius_mm, necrosis_center,
                   necrosis_radius_mm, texture, origin)

    def _tex(self, points: np.ndarray) -> np.ndarray:
        coords = np.moveaxis(points - self.texture_origin, -1, 0)
        return ndimage.map_coordinates(self.texture, coords, order=1, mode="mirror")

    def intensity(self, points: np.ndarray) -> np.ndarray:
        """STIR-like intensity at anatomy points (..., 3)."""
        rel = points - self.head_center
        dist = np.linalg.norm(rel, axis=-1)
        along = rel @ self.neck_axis
        radial = np.linalg.norm(rel - along[..., None] * self.neck_axis, axis=-1)
        tex = self._tex(points)
        image = 220.0 + 25.0 * tex  # soft tissue
        neck = (along > 0) & (along < 70) & (radial < 14.0)
        neck_cortex = neck & (radial > 14.0 - CORTEX_MM)
        head = dist < HEAD_RADIUS_MM
        head_cortex = head & (dist > HEAD_RADIUS_MM - CORTEX_MM)
        bone = head | neck
        image = np.where(bone, 120.0 + 20.0 * tex, image)  # fatty marrow: darker on STIR
        image = np.where(head_cortex | (neck_cortex & ~head), 25.0 + 5 * tex, image)
        # acetabular cup: a dark shell above and medial to the head
        cup = (dist > HEAD_RADIUS_MM + 2.0) & (dist < HEAD_RADIUS_MM + 8.0) & ((rel @ -self.neck_axis) > 2.0)
        image = np.where(cup, 40.0 + 8 * tex, image)
        labels = self.labels(points)
        image = np.where(labels == Label.EDEMA, 380.0 + 25.0 * tex, image)
        image = np.where(labels == Label.NECROSIS, 80.0 + 10 * tex, image)
        return image.astype(np.float32)

    def labels(self, points: np.ndarray) -> np.ndarray:
        """Label map at anatomy points (..., 3): head 1, edema 2, necrosis 3."""
        dist = np.linalg.norm(points - self.head_center, axis=-1)
        labels = np.zeros(points.shape[:-1], dtype=np.uint8)
        head = dist < HEAD_RADIUS_MM
        labels[head] = Label.HEAD_MARROW
        if self.edema_center is not None:
            edema = head & (np.linalg.norm(points - self.edema_center, axis=-1) < self.edema_radius_mm)
            labels[edema] = Label.EDEMA
        if self.necrosis_center is not None:
            nec = head & (np.linalg.norm(points - self.necrosis_center, axis=-1)
                          < self.necrosis_radius_mm)
            labels[nec] = Label.NECROSIS
        return labels


def grid_points(geometry: Geometry) -> np.ndarray:
    """LPS mm of every voxel centre, shape (ni, nj, nk, 3)."""
    idx = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float64) for n in geometry.shape],
                               indexing="ij"), axis=-1)
    return geometry.index_to_lps(idx)


def render_visit(scene: HipScene, geometry: Geometry, motion: np.ndarray | None = None,
                 noise_sd: float = 8.0, seed: int = 0) -> tuple[Volume, np.ndarray]:
    """Image and labels of ``scene`` on ``geometry``, the patient moved by ``motion``.

    ``motion`` maps baseline LPS points to follow-up LPS points; the follow-up voxel at q
    shows the anatomy at ``motion^-1 q``.
    """
    points = grid_points(geometry)
    if motion is not None:
        inverse = np.linalg.inv(motion)
        points = points @ inverse[:3, :3].T + inverse[:3, 3]
    image = scene.intensity(points)
    rng = np.random.default_rng(seed)
    image = np.abs(image + rng.normal(0, noise_sd, image.shape)).astype(np.float32)
    return Volume(image, geometry), scene.labels(points)
