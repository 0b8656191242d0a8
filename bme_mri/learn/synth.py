"""Training data for the learned femoral-head finder, by domain randomisation (SynthSeg-style).

Only the phantom's *label maps* are used (its anatomy and geometry), never its tissue
intensities: every sample draws a fresh intensity (and spread) per tissue label, so no MR
contrast is learned. On top come a random pose (rotation, anisotropic scaling, a smooth elastic
displacement), random anatomy beyond the phantom's own draw (fat layer, bladder size and
position), joint effusion / edema / necrosis, distractors that look like heads (round cysts
with or without a dark rim, vessels), a random acquisition box (both hips, one hip, a head at
the edge or cut), slice thickness 1-7 mm (blur + resample along a random axis), blur, a smooth
multiplicative bias field and Rician noise.

Everything is on the working grid: LPS-aligned, isotropic ``spacing_mm`` (array ``[x, y, z]``).
A sample is a pure function of ``(seed, index, draw)``: ``index`` fixes the anatomy and pose,
``draw`` the intensities and artefacts (a new draw per epoch = new contrasts, same anatomy).

Target: 1 inside the femoral head (the phantom's truth definition: bone, cortex included,
inside the head sphere on the articular side of the head-neck junction), 0 elsewhere; voxels
outside the acquisition box are 0 in image and target alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy import ndimage

from bme_mri.phantom.anatomy import build_anatomy, sd_capsule, sd_ellipsoid, sd_sphere
from bme_mri.phantom.pathology import SidePathology, make_edema, make_necrosis
from bme_mri.phantom.scene import Scene, sample_body
from bme_mri.phantom.tissue import Tissue

# extra label codes of the generator (beyond the phantom's Tissue codes)
CYST = 13  # a round fluid-like blob (cyst, bowel loop, lymph node, ovary ...)
CYST_RIM = 14  # its wall: a dark (or bright) shell, which makes it look like a head
VESSEL = 15  # a tube through the soft tissue
ORGAN = 16  # prostate / uterus: a round midline organ between the heads
ORGAN_RIM = 17  # its capsule
BOWEL = 18  # rectum and bowel loops: content (fluid, stool or gas)
BOWEL_WALL = 19
N_CODES = 20


@dataclass(frozen=True)
class SynthRecipe:
    """The ranges every sample is drawn from (recorded in the model card)."""

    shape: tuple[int, int, int] = (48, 48, 48)  # training volume, voxels
    spacing_mm: float = 3.0  # isotropic working grid
    fov_offset_mm: tuple[float, float, float] = (110.0, 45.0, 60.0)  # box centre: +/- from the hips' midpoint
    rotation_deg: float = 20.0  # pose: +/- about each axis
    scale_range: tuple[float, float] = (0.85, 1.2)  # isotropic scaling of the anatomy
    anisotropy: float = 0.08  # extra per-axis scaling, +/-
    elastic_mm: float = 6.0  # max amplitude of the smooth displacement field
    fat_mm: tuple[float, float] = (4.0, 45.0)
    bladder_scale: tuple[float, float] = (0.6, 1.5)
    p_effusion: float = 0.4
    effusion_mm: tuple[float, float] = (1.0, 8.0)
    p_edema: float = 0.3
    p_necrosis: float = 0.1
    n_cysts: tuple[int, int] = (0, 4)
    cyst_radius_mm: tuple[float, float] = (6.0, 30.0)
    n_vessels: tuple[int, int] = (0, 3)
    p_pelvic_organs: float = 0.8  # prostate/uterus, rectum, femoral vessels, bowel loops: round things near the heads
    n_bowel_loops: tuple[int, int] = (0, 6)
    p_dark_cortex: float = 0.85  # cortex is dark on nearly every MR sequence; sometimes not
    p_marrow_like_fat: float = 0.5  # fatty marrow often shares fat's signal (T1, T2, PD)
    spread: tuple[float, float] = (0.0, 0.12)  # per-label texture SD, fraction of the range
    slice_thickness_mm: tuple[float, float] = (1.0, 7.0)
    blur_sigma_vox: tuple[float, float] = (0.3, 0.9)
    bias: tuple[float, float] = (0.0, 0.4)  # peak fractional bias
    noise: tuple[float, float] = (0.01, 0.12)  # Rician sigma, fraction of the 99th percentile
    p_full_fov: float = 0.3  # the acquisition covers the whole volume
    within_tissue: float = 0.15  # slow intensity variation inside a tissue, max +/- (0-1 scale)

    def to_dict(self) -> dict:
        return asdict(self)


def normalise(image: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Percentile normalisation shared by training and inference: the 1st-99th percentiles of
    the covered voxels map to 0-1 (float32); outside ``covered`` the value is 0."""
    values = image[covered]
    if values.size == 0:
        return np.zeros_like(image, dtype=np.float32)
    lo, hi = np.percentile(values, [1.0, 99.0])
    out = (image - lo) / max(float(hi - lo), 1e-6)
    return np.where(covered, np.clip(out, -0.5, 2.0), 0.0).astype(np.float32)


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    angles = np.radians(rng.uniform(-max_deg, max_deg, 3))
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _smooth_field(rng: np.random.Generator, shape: tuple[int, ...], coarse: int = 4) -> np.ndarray:
    """A smooth random field in about [-1, 1]: linear upsampling of a ``coarse``-point grid,
    rounded by a box filter of about a seventh of the grid (an order of magnitude faster
    than cubic upsampling, which made the generator, not the network, the training bottleneck)."""
    field = rng.uniform(-1.0, 1.0, (coarse,) * len(shape))
    zoom = [s / coarse for s in shape]
    up = ndimage.zoom(field, zoom, order=1, mode="nearest", grid_mode=True)[tuple(slice(0, s) for s in shape)]
    return ndimage.uniform_filter(up, max(3, min(shape) // 7))


def _labels(seed: int, index: int, recipe: SynthRecipe):
    """Tissue codes, edema fraction and head target on the grid, plus the grid's pose data."""
    rng = np.random.default_rng([seed, index, 0])
    anatomy = build_anatomy(rng)
    body = anatomy.body
    k = rng.uniform(*recipe.bladder_scale)
    body = replace(body, fat_mm=float(rng.uniform(*recipe.fat_mm)),
                   bladder_radii=tuple(float(r * k) for r in body.bladder_radii),
                   bladder_center=(float(rng.normal(0, 8)), float(body.bladder_center[1] + rng.normal(0, 10)),
                                   float(body.bladder_center[2] + rng.normal(0, 15))))
    anatomy = replace(anatomy, body=body)
    pathology = {}
    for side, hip in anatomy.hips.items():
        path = SidePathology()
        if rng.random() < recipe.p_effusion:
            path = replace(path, effusion_mm=float(rng.uniform(*recipe.effusion_mm)))
        if rng.random() < recipe.p_edema:
            path = replace(path, edema=make_edema(rng, hip, size=float(rng.uniform(0.5, 1.1))))
        if rng.random() < recipe.p_necrosis:
            path = replace(path, necrosis=make_necrosis(rng, hip))
        pathology[side] = path
    scene = Scene(anatomy=anatomy, pathology=pathology)
    # the grid (patient frame of this "acquisition") and the map to the body frame
    shape = np.array(recipe.shape)
    mid = 0.5 * (np.asarray(anatomy.hips["left"].head_center) + np.asarray(anatomy.hips["right"].head_center))
    offset = rng.uniform(-1, 1, 3) * np.asarray(recipe.fov_offset_mm)
    centre = mid + offset
    idx = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1).reshape(-1, 3)
    grid_mm = (idx - (shape - 1) / 2.0) * recipe.spacing_mm
    scale = rng.uniform(*recipe.scale_range) * (1 + rng.uniform(-recipe.anisotropy, recipe.anisotropy, 3))
    rot = _rotation(rng, recipe.rotation_deg)
    # grid point g (relative to the box centre) sits at body point centre + R (g / scale)
    body_pts = centre + (grid_mm / scale) @ rot.T
    amp = rng.uniform(0, recipe.elastic_mm)
    if amp > 0:
        disp = np.stack([_smooth_field(rng, tuple(shape)).ravel() for _ in range(3)], 1)
        body_pts = body_pts + amp * disp
    sample = sample_body(scene, body_pts.astype(np.float32))
    tissue = sample.tissue.reshape(tuple(shape)).copy()
    edema = sample.edema.reshape(tuple(shape))
    head = (sample.label > 0).reshape(tuple(shape))
    # distractors in the soft tissue (never over bone): round cysts with a wall, vessels
    soft = np.isin(tissue, [Tissue.FAT, Tissue.MUSCLE, Tissue.URINE])
    pts = body_pts.astype(np.float32)
    if rng.random() < recipe.p_pelvic_organs:
        _pelvic_organs(rng, pts, tissue, soft, anatomy, recipe)
    for _ in range(int(rng.integers(recipe.n_cysts[0], recipe.n_cysts[1] + 1))):
        c = pts[rng.integers(len(pts))]
        radius = rng.uniform(*recipe.cyst_radius_mm)
        d = sd_sphere(pts, c, radius).reshape(tuple(shape))
        wall = rng.uniform(0.0, 4.0)
        tissue[soft & (d <= 0)] = CYST
        tissue[soft & (d <= 0) & (d > -wall)] = CYST_RIM
    for _ in range(int(rng.integers(recipe.n_vessels[0], recipe.n_vessels[1] + 1))):
        a = pts[rng.integers(len(pts))]
        b = a + rng.normal(0, 1, 3) * 150.0
        d = sd_capsule(pts, a, b, rng.uniform(3.0, 8.0)).reshape(tuple(shape))
        tissue[soft & (d <= 0)] = VESSEL
    return tissue, edema, head, rot


def _walled(tissue: np.ndarray, soft: np.ndarray, d: np.ndarray, wall_mm: float, inner: int, rim: int) -> None:
    """Paint a walled structure (signed distance ``d``, mm) into the soft tissue, in place."""
    inside = soft & (d <= 0)
    tissue[inside] = inner
    tissue[inside & (d > -wall_mm)] = rim


def _pelvic_organs(rng: np.random.Generator, pts: np.ndarray, tissue: np.ndarray, soft: np.ndarray,
                   anatomy, recipe: SynthRecipe) -> None:
    """The round structures of a real pelvis that a head finder confuses with heads (seen on
    real prostate exams): a midline prostate / uterus with a capsule, the rectum with its
    wall, the femoral artery and vein in front of each head, bowel loops above. Positions
    relative to the heads (body frame, LPS mm: heads at z ~ 0, x ~ +/-90)."""
    shape = tissue.shape
    heads = {side: np.asarray(h.head_center) for side, h in anatomy.hips.items()}
    z0 = float(np.mean([c[2] for c in heads.values()]))

    def d_of(values):
        return values.reshape(shape)

    centre = (rng.normal(0, 5), rng.uniform(-5, 20), z0 + rng.uniform(-40, 5))
    radii = (rng.uniform(15, 30), rng.uniform(12, 24), rng.uniform(12, 26))
    _walled(tissue, soft, d_of(sd_ellipsoid(pts, centre, np.eye(3), radii)), rng.uniform(0, 3.5), ORGAN, ORGAN_RIM)
    top = (rng.normal(0, 8), rng.uniform(30, 55), z0 + rng.uniform(10, 50))
    bottom = (rng.normal(0, 5), rng.uniform(20, 45), z0 - rng.uniform(40, 80))
    _walled(tissue, soft, d_of(sd_capsule(pts, bottom, top, rng.uniform(9, 20))), rng.uniform(1.5, 5), BOWEL, BOWEL_WALL)
    for side, c in heads.items():
        sign = 1.0 if side == "left" else -1.0
        for medial in (rng.uniform(0, 12), rng.uniform(12, 25)):  # artery, vein
            a = c + np.array([-sign * medial, -rng.uniform(25, 40), 70.0])
            b = c + np.array([-sign * medial * rng.uniform(0.5, 1.0), -rng.uniform(20, 35), -90.0])
            d = d_of(sd_capsule(pts, a, b, rng.uniform(3.0, 7.5)))
            tissue[soft & (d <= 0)] = VESSEL
    for _ in range(int(rng.integers(recipe.n_bowel_loops[0], recipe.n_bowel_loops[1] + 1))):
        centre = (rng.uniform(-80, 80), rng.uniform(-60, 25), z0 + rng.uniform(20, 100))
        d = d_of(sd_sphere(pts, centre, rng.uniform(8, 24)))
        _walled(tissue, soft, d, rng.uniform(1, 4), BOWEL, BOWEL_WALL)


def _intensities(rng: np.random.Generator, recipe: SynthRecipe) -> tuple[np.ndarray, np.ndarray]:
    """A random mean and texture SD per label code (0-1 scale)."""
    mean = rng.uniform(0.0, 1.0, N_CODES + 1)  # last entry: fully edematous marrow
    mean[Tissue.AIR] = rng.uniform(0.0, 0.08)
    if rng.random() < recipe.p_dark_cortex:
        mean[Tissue.CORTEX] = rng.uniform(0.0, 0.2)
        mean[Tissue.SCLEROTIC_RIM] = mean[Tissue.CORTEX]
    if rng.random() < recipe.p_marrow_like_fat:
        mean[Tissue.MARROW] = np.clip(mean[Tissue.FAT] + rng.normal(0, 0.08), 0, 1)
    # pelvic marrow and the necrotic core are marrow too: near the femoral marrow's signal
    mean[Tissue.PELVIC_MARROW] = np.clip(mean[Tissue.MARROW] + rng.normal(0, 0.1), 0, 1)
    mean[Tissue.NECROTIC_CORE] = np.clip(mean[Tissue.MARROW] + rng.normal(0, 0.1), 0, 1)
    if rng.random() < 0.7:  # effusion, urine and cysts are water: usually alike
        for code in (Tissue.URINE, CYST):
            mean[code] = np.clip(mean[Tissue.FLUID] + rng.normal(0, 0.08), 0, 1)
    if rng.random() < 0.7:  # a cyst's wall often looks like cortex: the hardest distractor
        mean[CYST_RIM] = np.clip(mean[Tissue.CORTEX] + rng.normal(0, 0.05), 0, 1)
    spread = rng.uniform(*recipe.spread, N_CODES + 1)
    return mean, spread


def _slice_profile(image: np.ndarray, axis: int, thickness_mm: float, spacing_mm: float) -> np.ndarray:
    """Thick slices along ``axis``: boxcar-equivalent blur, then sampling at the slice pitch
    and linear interpolation back to the grid (partial volume and staircase)."""
    extra = max(thickness_mm ** 2 - spacing_mm ** 2, 0.0) / 12.0
    if extra <= 0:
        return image
    sigma = [0.0, 0.0, 0.0]
    sigma[axis] = np.sqrt(extra) / spacing_mm
    out = ndimage.gaussian_filter(image, sigma)
    factor = spacing_mm / thickness_mm
    if factor < 0.95:
        zoom_down = [1.0, 1.0, 1.0]
        zoom_down[axis] = factor
        small = ndimage.zoom(out, zoom_down, order=1)
        zoom_up = [1.0, 1.0, 1.0]
        zoom_up[axis] = image.shape[axis] / small.shape[axis]
        out = ndimage.zoom(small, zoom_up, order=1)
        out = out[tuple(slice(0, s) for s in image.shape)]
        if out.shape != image.shape:  # rounding: pad with the edge
            pad = [(0, s - o) for s, o in zip(image.shape, out.shape)]
            out = np.pad(out, pad, mode="edge")
    return out


def _acquisition_box(rng: np.random.Generator, shape: tuple[int, ...], spacing: float,
                     recipe: SynthRecipe) -> tuple[np.ndarray, int]:
    """Covered voxels (bool) of a random, possibly oblique, acquisition slab and the grid axis
    closest to its slice direction."""
    if rng.random() < recipe.p_full_fov:
        return np.ones(shape, bool), int(rng.integers(3))
    rot = _rotation(rng, 25.0) if rng.random() < 0.4 else np.eye(3)
    slice_axis = int(rng.integers(3))
    half = rng.uniform(0.3, 0.7, 3) * np.array(shape) * spacing
    half[slice_axis] = rng.uniform(0.2, 0.6) * shape[slice_axis] * spacing
    centre = rng.uniform(-0.3, 0.3, 3) * np.array(shape) * spacing
    idx = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1).reshape(-1, 3)
    local = ((idx - (np.array(shape) - 1) / 2.0) * spacing - centre) @ rot
    covered = np.all(np.abs(local) <= half, axis=1).reshape(shape)
    normal = rot[:, slice_axis]
    return covered, int(np.argmax(np.abs(normal)))


@dataclass(frozen=True)
class SynthLabels:
    """The anatomy part of a sample (fixed by ``(seed, index)``): tissue codes (uint8),
    edema fraction (uint8, 0-255 = 0-1) and the head target (bool), array ``[x, y, z]``."""

    tissue: np.ndarray
    edema: np.ndarray
    head: np.ndarray


def synth_labels(seed: int, index: int, recipe: SynthRecipe | None = None) -> SynthLabels:
    """The label maps of sample ``index`` (anatomy, pose, distractors); cache them to render
    many contrasts of one anatomy cheaply (:func:`render_sample`)."""
    recipe = recipe or SynthRecipe()
    tissue, edema, head, _rot = _labels(seed, index, recipe)
    return SynthLabels(tissue=tissue.astype(np.uint8),
                       edema=np.round(np.clip(edema, 0, 1) * 255).astype(np.uint8), head=head.astype(bool))


def render_sample(labels: SynthLabels, seed: int, index: int, draw: int = 0,
                  recipe: SynthRecipe | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One contrast draw of ``labels``: the normalised image (float32) and the head target
    (uint8 0/1), array ``[x, y, z]``."""
    recipe = recipe or SynthRecipe()
    tissue = labels.tissue
    edema = labels.edema.astype(np.float32) / 255.0
    rng = np.random.default_rng([seed, index, 1, draw])
    mean, spread = _intensities(rng, recipe)
    shape = tissue.shape
    texture = ndimage.gaussian_filter(rng.normal(0, 1, shape), rng.uniform(0.5, 1.5))
    texture /= max(float(texture.std()), 1e-6)
    image = mean[tissue] + spread[tissue] * texture
    # slow variation inside a tissue (muscle groups, fat lobules, red/yellow marrow): two
    # smooth fields mixed with random weights per label, up to +/- recipe.within_tissue
    fields = [_smooth_field(rng, shape, coarse=int(rng.integers(4, 8))) for _ in range(2)]
    weights = rng.uniform(-1, 1, (N_CODES + 1, 2)) * rng.uniform(0, recipe.within_tissue)
    image = image + weights[tissue, 0] * fields[0] + weights[tissue, 1] * fields[1]
    e = np.where(tissue == Tissue.MARROW, edema, 0.0)
    image = (1 - e) * image + e * mean[N_CODES]
    image = ndimage.gaussian_filter(image, rng.uniform(*recipe.blur_sigma_vox))
    covered, slice_axis = _acquisition_box(rng, shape, recipe.spacing_mm, recipe)
    image = _slice_profile(image, slice_axis, rng.uniform(*recipe.slice_thickness_mm), recipe.spacing_mm)
    bias = 1.0 + rng.uniform(*recipe.bias) * _smooth_field(rng, shape, coarse=3)
    image = np.clip(image * bias, 0, None)
    scale = float(np.percentile(image, 99)) or 1.0
    sigma = rng.uniform(*recipe.noise) * scale
    image = np.sqrt((image + rng.normal(0, sigma, shape)) ** 2 + rng.normal(0, sigma, shape) ** 2)
    image = np.where(covered, image, 0.0)
    target = (labels.head & covered).astype(np.uint8)
    return normalise(image, covered), target


def synth_sample(seed: int, index: int, draw: int = 0,
                 recipe: SynthRecipe | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One training pair on the working grid: the normalised image (float32) and the
    femoral-head target (uint8, 0/1), both ``recipe.shape``, array ``[x, y, z]`` LPS-aligned."""
    recipe = recipe or SynthRecipe()
    return render_sample(synth_labels(seed, index, recipe), seed, index, draw, recipe)
