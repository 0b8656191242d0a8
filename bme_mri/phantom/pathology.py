"""Marrow edema and osteonecrosis of one femoral head, as continuous fields (LPS mm, body frame).

Edema (the BMES pattern): a smooth field ``e`` in [0, 1] over the femoral marrow, an
ellipsoid along the neck axis reaching from the head into the neck, with soft borders
(a sigmoid of the signed distance, width ``softness_mm``), a gentle low-frequency wobble of
its surface, and (usually) a spared medial head (DOMAIN.md: spared in ~90%). Truth: a marrow
point is edematous when ``e >= 0.5``; image intensity blends normal and edematous marrow by
``e`` (so the truth border is the half-intensity contour).

Necrosis: a focal subchondral cap, an ellipsoid centred on the antero-superior articular
surface (depth ``radii[0]`` along the surface normal, width ``radii[1:]``), bounded by a
``rim_mm`` dark sclerotic band and optionally a 1 mm bright inner line (double-line sign),
with marrow-like signal inside. Truth necrosis = the whole lesion (rim and line included)
inside the femoral-head marrow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from bme_mri.phantom.anatomy import HipModel, sd_ellipsoid


@dataclass(frozen=True)
class EdemaSpec:
    """An edema blob in the body frame (mm)."""

    center: tuple[float, float, float]
    axes: tuple[tuple[float, float, float], ...]  # 3 unit rows; first = along the neck axis
    radii: tuple[float, float, float]
    softness_mm: float
    spare_direction: tuple[float, float, float] | None  # medial direction; None: no sparing
    spare_offset_mm: float
    wobble: tuple[tuple[float, float, float, float, float], ...]  # (kx, ky, kz, phase, amp_mm)

    def scaled(self, factor: float) -> EdemaSpec:
        """The same blob with its radii multiplied by ``factor`` (shrinks / grows)."""
        return replace(self, radii=tuple(float(r * factor) for r in self.radii))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NecrosisSpec:
    """A subchondral necrotic cap in the body frame (mm)."""

    center: tuple[float, float, float]  # on the articular surface
    axes: tuple[tuple[float, float, float], ...]  # first = inward surface normal direction
    radii: tuple[float, float, float]  # depth, width, width
    rim_mm: float
    double_line: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SidePathology:
    """What one hip carries at one visit."""

    edema: EdemaSpec | None = None
    necrosis: NecrosisSpec | None = None
    effusion_mm: float = 0.0  # thickness of the joint fluid film; 0 = none

    def to_dict(self) -> dict:
        return {"edema": None if self.edema is None else self.edema.to_dict(),
                "necrosis": None if self.necrosis is None else self.necrosis.to_dict(),
                "effusion_mm": self.effusion_mm}


def _frame(first: np.ndarray, hint: np.ndarray) -> np.ndarray:
    first = first / np.linalg.norm(first)
    second = np.cross(first, hint)
    second /= np.linalg.norm(second)
    return np.stack([first, second, np.cross(first, second)])


def make_edema(rng: np.random.Generator, hip: HipModel, size: float = 1.0,
               focal: bool = False) -> EdemaSpec:
    """A BMES-like diffuse edema (``size`` ~0.5-1.1 scales it), or a small ``focal`` one
    (residual focal edema, ~2-5 ml) in the superolateral head."""
    center = np.asarray(hip.head_center)
    axis = np.asarray(hip.neck_axis)
    radius = hip.head_radius
    frame = _frame(axis, np.array([0.0, 1.0, 0.0]))
    if focal:
        superior = np.array([0.0, 0.0, 1.0]) - axis * axis[2]
        superior /= np.linalg.norm(superior)
        blob_center = center + 0.35 * radius * superior + 0.1 * radius * axis
        radii = np.full(3, rng.uniform(8.5, 10.5)) * size
        spare = None
    else:
        blob_center = center + rng.uniform(0.3, 0.45) * radius * axis + rng.normal(0, 1.5, 3)
        radii = np.array([rng.uniform(1.05, 1.3) * radius, rng.uniform(0.7, 0.85) * radius,
                          rng.uniform(0.7, 0.85) * radius]) * size
        spare = None if rng.uniform() < 0.15 else tuple(float(v) for v in -axis)
    wobble = []
    for _ in range(3):
        k = rng.normal(0, 1, 3)
        k = k / np.linalg.norm(k) * (2 * np.pi / rng.uniform(25.0, 45.0))
        wobble.append((*(float(v) for v in k), float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.8, 2.0))))
    return EdemaSpec(center=tuple(float(v) for v in blob_center),
                     axes=tuple(tuple(float(v) for v in row) for row in frame),
                     radii=tuple(float(r) for r in radii),
                     softness_mm=float(rng.uniform(1.2, 2.5)),
                     spare_direction=spare, spare_offset_mm=float(rng.uniform(0.4, 0.55) * radius),
                     wobble=tuple(wobble))


def make_necrosis(rng: np.random.Generator, hip: HipModel, small: bool = False) -> NecrosisSpec:
    """An antero-superior subchondral lesion; ``small``: ~0.3-1 ml, else ~2-6 ml."""
    center = np.asarray(hip.head_center)
    direction = np.array([0.0, -rng.uniform(0.3, 0.6), 1.0])  # superior, somewhat anterior
    direction -= 0.25 * np.asarray(hip.neck_axis) * np.sign(np.asarray(hip.neck_axis) @ direction)
    direction /= np.linalg.norm(direction)
    surface = center + hip.head_radius * direction
    frame = _frame(-direction, np.array([1.0, 0.0, 0.0]))
    if small:
        radii = (rng.uniform(6.0, 7.5), rng.uniform(7.5, 9.0), rng.uniform(7.5, 9.0))
    else:
        radii = (rng.uniform(9.0, 13.0), rng.uniform(12.0, 16.0), rng.uniform(11.0, 15.0))
    return NecrosisSpec(center=tuple(float(v) for v in surface),
                        axes=tuple(tuple(float(v) for v in row) for row in frame),
                        radii=tuple(float(r) for r in radii), rim_mm=2.0,
                        double_line=bool(rng.uniform() < 0.6))


def edema_fraction(p: np.ndarray, spec: EdemaSpec) -> np.ndarray:
    """Edema field in [0, 1] at points ``p`` (N, 3), body-frame mm (float32)."""
    sdf = sd_ellipsoid(p, spec.center, np.asarray(spec.axes), spec.radii)
    for kx, ky, kz, phase, amp in spec.wobble:
        sdf = sdf + amp * np.sin(p @ np.asarray([kx, ky, kz], np.float32) + phase)
    field = 1.0 / (1.0 + np.exp(np.clip(sdf / spec.softness_mm, -30, 30)))
    if spec.spare_direction is not None:
        # medial head spared: fade out beyond (spare_offset_mm + 0.4 x blob length) from the
        # blob centre towards the fovea (spare_direction = -neck axis)
        medial = (p - np.asarray(spec.center, np.float32)) @ np.asarray(spec.spare_direction, np.float32)
        limit = spec.spare_offset_mm + 0.4 * spec.radii[0]
        field = field / (1.0 + np.exp(np.clip((medial - limit) / spec.softness_mm, -30, 30)))
    return field.astype(np.float32)


def necrosis_sdf(p: np.ndarray, spec: NecrosisSpec) -> np.ndarray:
    """Signed distance (mm, approximate) to the lesion boundary; negative inside."""
    return sd_ellipsoid(p, spec.center, np.asarray(spec.axes), spec.radii)
