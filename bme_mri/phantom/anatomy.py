"""Continuous anatomy of both hips in the patient's own ("body") frame, LPS mm.

The model is a set of signed distance functions (negative inside), evaluated on any points:
femur = smooth union of the head sphere, a cone-shaped neck, the greater trochanter and the
shaft; a ~2 mm cortex shell; acetabular cup (cartilage + bone) around the head; pelvic bones
(ilium, superior ramus, ischium) as capsules; bladder between the hips; muscle inside a
subcutaneous fat layer. The patient's LEFT hip is at larger LPS x (+x).

"Femoral head" (the truth definition, identical to issue 3): the bone, cortex included,
inside the head sphere (centre ``head_center``, radius ``head_radius``) and on the
articular side of the head-neck junction plane. The plane is perpendicular to the neck axis
``neck_axis`` (unit vector from the head centre towards the neck base) at the distance
``junction_offset_mm = sqrt(R^2 - r_neck^2)`` from the centre, where the sphere meets the neck
(``r_neck`` = neck radius at the head). Points ``p`` with ``|p - c| <= R`` and
``(p - c) . neck_axis <= junction_offset_mm`` are the head; the sphere lies entirely inside the
femur, so all of that region is bone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CORTEX_MM = 2.0  # cortical shell thickness of the femur and pelvis
CARTILAGE_MM = 3.0  # femoral + acetabular cartilage between head and acetabular bone


@dataclass(frozen=True)
class HipModel:
    """One proximal femur and its acetabulum, LPS mm in the body frame."""

    side: str  # 'left' | 'right'
    head_center: tuple[float, float, float]
    head_radius: float
    neck_axis: tuple[float, float, float]  # unit, head centre -> neck base
    neck_length: float
    neck_radius_head: float
    neck_radius_base: float
    trochanter_center: tuple[float, float, float]
    trochanter_radius: float
    shaft_top: tuple[float, float, float]
    shaft_axis: tuple[float, float, float]  # unit, pointing down the shaft
    shaft_radius: float
    acetabulum_axis: tuple[float, float, float]  # unit, head centre -> acetabular dome

    @property
    def junction_offset_mm(self) -> float:
        """Distance from the head centre to the head-neck junction plane along the neck axis."""
        return float(np.sqrt(self.head_radius**2 - self.neck_radius_head**2))

    @property
    def head_volume_ml(self) -> float:
        """Exact volume of the femoral head region (sphere minus the cap beyond the plane)."""
        radius, cap = self.head_radius, self.head_radius - self.junction_offset_mm
        sphere = 4.0 / 3.0 * np.pi * radius**3
        cap_volume = np.pi * cap**2 * (3 * radius - cap) / 3.0
        return float((sphere - cap_volume) / 1000.0)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BodyModel:
    """Soft tissues: pelvis/abdomen ellipse, thighs, fat layer, bladder (LPS mm)."""

    center_xy: tuple[float, float]
    semi_axes_xy: tuple[float, float]
    fat_mm: float
    thigh_split_z: float  # below this, the body is two thighs
    thigh_radius_xy: tuple[float, float]
    bladder_center: tuple[float, float, float]
    bladder_radii: tuple[float, float, float]
    pelvis_bones: tuple[tuple[tuple[float, float, float], tuple[float, float, float], float], ...]


@dataclass(frozen=True)
class Anatomy:
    """Both hips (always modelled; a unilateral field of view just images one)."""

    body: BodyModel
    hips: dict[str, HipModel]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def build_anatomy(rng: np.random.Generator) -> Anatomy:
    """Draw one adult pelvis: head radius 21-26 mm, neck-shaft angle 125-135 deg,
    anteversion 10-15 deg, inter-head distance 165-195 mm."""
    half_distance = rng.uniform(82.5, 97.5)
    head_radius = rng.uniform(21.5, 25.5)
    center_z = 0.0
    hips: dict[str, HipModel] = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        radius = float(np.clip(head_radius + rng.normal(0, 0.3), 21.0, 26.0))
        neck_shaft = np.radians(rng.uniform(125.0, 135.0))
        anteversion = np.radians(rng.uniform(10.0, 15.0))
        inclination = neck_shaft - np.pi / 2  # neck below horizontal, going laterally
        neck_axis = np.array([sign * np.cos(inclination) * np.cos(anteversion),
                              np.cos(inclination) * np.sin(anteversion),  # base is posterior
                              -np.sin(inclination)])
        center = np.array([sign * (half_distance + rng.normal(0, 1.0)), rng.normal(0, 2.0), center_z])
        neck_length = rng.uniform(1.9, 2.2) * radius
        base = center + neck_length * neck_axis
        shaft_axis = _unit(np.array([-sign * np.sin(np.radians(7.0)), 0.0, -1.0]))
        acetabulum_axis = _unit(np.array([-sign * np.cos(np.radians(50)), 0.15, np.sin(np.radians(50))]))
        neck_radius_head = 0.66 * radius
        hips[side] = HipModel(
            side=side,
            head_center=tuple(float(v) for v in center),
            head_radius=radius,
            neck_axis=tuple(float(v) for v in neck_axis),
            neck_length=float(neck_length),
            neck_radius_head=float(neck_radius_head),
            neck_radius_base=float(0.85 * radius),
            trochanter_center=tuple(float(v) for v in base + np.array([sign * 14.0, 8.0, 16.0])),
            trochanter_radius=float(0.8 * radius),
            shaft_top=tuple(float(v) for v in base + np.array([sign * 4.0, 2.0, -4.0])),
            shaft_axis=tuple(float(v) for v in shaft_axis),
            shaft_radius=float(0.62 * radius),
            acetabulum_axis=tuple(float(v) for v in acetabulum_axis),
        )
    width = rng.uniform(165.0, 185.0)
    depth = rng.uniform(105.0, 130.0)
    bones = []
    for sign, hip in ((1.0, hips["left"]), (-1.0, hips["right"])):
        c = np.array(hip.head_center)
        r = hip.head_radius
        bones.append((tuple(c + [-sign * 10, 5, r + 15]), tuple(c + [-sign * 25, 25, r + 95]), 17.0))  # ilium
        bones.append((tuple(c + [-sign * 20, -15, -10]), (sign * 12.0, c[1] - 40.0, c[2] - 25.0), 8.0))  # ramus
        bones.append((tuple(c + [-sign * 12, 22, -r]), tuple(c + [-sign * 18, 30, -r - 40]), 11.0))  # ischium
    bladder_center = (0.0, float(rng.uniform(-25, -10)), float(center_z + rng.uniform(5, 25)))
    body = BodyModel(
        center_xy=(0.0, float(rng.uniform(5.0, 15.0))),
        semi_axes_xy=(float(width), float(depth)),
        fat_mm=float(rng.uniform(12.0, 30.0)),
        thigh_split_z=float(center_z - rng.uniform(55.0, 70.0)),
        thigh_radius_xy=(float(rng.uniform(80.0, 92.0)), float(rng.uniform(85.0, 100.0))),
        bladder_center=bladder_center,
        bladder_radii=(float(rng.uniform(30, 45)), float(rng.uniform(22, 32)), float(rng.uniform(25, 38))),
        pelvis_bones=tuple(bones),
    )
    return Anatomy(body=body, hips=hips)


# ---- signed distance helpers --------------------------------------------------------
# Points are (N, 3) float32 arrays; the helpers work on the three coordinate columns with
# plain element-wise arithmetic (much faster than reductions over the last axis).
def _cols(p: np.ndarray, origin) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o = np.asarray(origin, np.float32)
    return p[:, 0] - o[0], p[:, 1] - o[1], p[:, 2] - o[2]


def _norm(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.sqrt(x * x + y * y + z * z)


def _dot(x, y, z, v) -> np.ndarray:
    return x * np.float32(v[0]) + y * np.float32(v[1]) + z * np.float32(v[2])


def sd_sphere(p: np.ndarray, center, radius: float) -> np.ndarray:
    return _norm(*_cols(p, center)) - np.float32(radius)


def sd_capsule(p: np.ndarray, a, b, r_a: float, r_b: float | None = None) -> np.ndarray:
    """Capsule / truncated cone from a (radius r_a) to b (radius r_b), approximate SDF."""
    ab = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    length2 = float(ab @ ab)
    x, y, z = _cols(p, a)
    t = np.clip(_dot(x, y, z, ab / length2), 0.0, 1.0)
    abf = ab.astype(np.float32)
    d = _norm(x - t * abf[0], y - t * abf[1], z - t * abf[2])
    radius = np.float32(r_a) if r_b is None else np.float32(r_a) + np.float32(r_b - r_a) * t
    return d - radius


def sd_ellipsoid(p: np.ndarray, center, axes: np.ndarray, radii) -> np.ndarray:
    """Approximate SDF of an ellipsoid; ``axes`` rows are its unit axes (3x3)."""
    x, y, z = _cols(p, center)
    axes = np.asarray(axes, np.float64)
    radii = np.asarray(radii, np.float64)
    q = [_dot(x, y, z, axes[m]) for m in range(3)]
    k0 = np.sqrt(sum((q[m] * np.float32(1 / radii[m])) ** 2 for m in range(3)))
    k1 = np.sqrt(sum((q[m] * np.float32(1 / radii[m] ** 2)) ** 2 for m in range(3)))
    return k0 * (k0 - 1.0) / np.maximum(k1, np.float32(1e-6))


def smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    h = np.clip(0.5 + (0.5 / k) * (b - a), 0.0, 1.0)
    return b + (a - b) * h - np.float32(k) * h * (1.0 - h)


def femur_sdf(p: np.ndarray, hip: HipModel) -> np.ndarray:
    """Signed distance (mm) to the proximal femur surface (head, neck, trochanter, shaft)."""
    center = np.asarray(hip.head_center)
    base = center + hip.neck_length * np.asarray(hip.neck_axis)
    head = sd_sphere(p, center, hip.head_radius)
    neck = sd_capsule(p, center, base, hip.neck_radius_head, hip.neck_radius_base)
    troch = sd_sphere(p, hip.trochanter_center, hip.trochanter_radius)
    shaft_end = np.asarray(hip.shaft_top) + 400.0 * np.asarray(hip.shaft_axis)
    shaft = sd_capsule(p, hip.shaft_top, shaft_end, hip.shaft_radius)
    proximal = smooth_min(smooth_min(neck, troch, 8.0), shaft, 10.0)
    return np.minimum(head, proximal)


def head_region(p: np.ndarray, hip: HipModel) -> np.ndarray:
    """Boolean: inside the femoral head as defined in the module docstring."""
    x, y, z = _cols(p, hip.head_center)
    inside = x * x + y * y + z * z <= np.float32(hip.head_radius**2)
    return inside & (_dot(x, y, z, hip.neck_axis) <= np.float32(hip.junction_offset_mm))


def _shell_and_cos(p: np.ndarray, hip: HipModel) -> tuple[np.ndarray, np.ndarray]:
    x, y, z = _cols(p, hip.head_center)
    dist = _norm(x, y, z)
    cos_angle = _dot(x, y, z, hip.acetabulum_axis) / np.maximum(dist, np.float32(1e-3))
    return dist, cos_angle


def acetabulum_sdf(p: np.ndarray, hip: HipModel, thickness: float = 14.0) -> np.ndarray:
    """SDF of the acetabular bone: a spherical shell over the head, ~165 deg coverage."""
    dist, cos_angle = _shell_and_cos(p, hip)
    inner = hip.head_radius + CARTILAGE_MM
    shell = np.abs(dist - np.float32(inner + thickness / 2)) - np.float32(thickness / 2)
    cone = (np.float32(np.cos(np.radians(82.0))) - cos_angle) * dist  # > 0 outside the cone
    return np.maximum(shell, cone)


def cartilage_mask(p: np.ndarray, hip: HipModel) -> np.ndarray:
    """Cartilage: a 3 mm layer over the head under the acetabular coverage (wider cone)."""
    dist, cos_angle = _shell_and_cos(p, hip)
    layer = (dist > hip.head_radius) & (dist <= hip.head_radius + CARTILAGE_MM)
    return layer & (cos_angle > np.float32(np.cos(np.radians(95.0))))


def body_sdf(p: np.ndarray, body: BodyModel) -> np.ndarray:
    """Approximate SDF of the skin surface: pelvis ellipse above, two thighs below."""
    cx, cy = body.center_xy
    ax, ay = body.semi_axes_xy
    x = p[:, 0] - np.float32(cx)
    y = p[:, 1] - np.float32(cy)
    z = p[:, 2]
    pelvis = (np.sqrt((x * np.float32(1 / ax)) ** 2 + (y * np.float32(1 / ay)) ** 2) - 1.0) * np.float32(min(ax, ay))
    pelvis = np.maximum(pelvis, np.float32(body.thigh_split_z - 15.0) - z)
    tx, ty = body.thigh_radius_xy
    thighs = []
    for sign in (1.0, -1.0):
        dx = x - np.float32(sign * (ax - tx * 0.95))
        thighs.append((np.sqrt((dx * np.float32(1 / tx)) ** 2 + (y * np.float32(1 / ty)) ** 2) - 1.0)
                      * np.float32(min(tx, ty)))
    thigh = np.minimum(thighs[0], thighs[1])
    thigh = np.maximum(thigh, z - np.float32(body.thigh_split_z + 40.0))
    return smooth_min(pelvis, thigh, 20.0)
