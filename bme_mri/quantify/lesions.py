"""Lesions (edema) inside a bone mask, judged against the normal-marrow reference.

The rules, each with its constant in ``configs/default.yaml`` (``quantify.roi``):

1. **Noise floor from a false-positive rate.** ``level(alpha)`` is the higher of
   ``median + z(1 - alpha) x robust_sd`` (normal model) and the ``1 - alpha`` quantile of the
   reference voxels themselves (real marrow has heavier tails than a normal model). Seeds are
   a family-wise test over the whole bone: the seed level ``u`` (in sd) is where the expected
   Euler characteristic of the smoothed normal field above ``u`` inside the bone (Gaussian
   random field theory, Worsley et al. 1996) equals ``seed_family_false_positive_rate``, so
   marrow as variable as the reference yields a false seed in about that fraction of scans.
   Slices thicker than the smoothing FWHM are independent 2-D fields (resels = bone area per
   slice over FWHM^2); otherwise the field is 3-D. The grow level floor is
   ``grow_false_positive_rate`` per voxel. The constants are false-positive rates on normal
   marrow, not multiples tuned on lesions.
2. **Half-contrast border.** A soft lesion border is cut halfway between normal marrow and the
   lesion's plateau: ``median + contrast_fraction x (plateau - median)``, where the plateau is
   the median of the lesion deeper than ``plateau_depth_mm`` inside it (its own border holds
   partial volume). Border and lesion depend on each other: starting from the seed core (every
   voxel above the seed level, soft border included, so its plateau is an underestimate when
   the border is wide), the midpoint is recomputed on the lesion it cuts, as in Ridler and
   Calvard's two-class midpoint, for at most ``border_max_iterations`` rounds while it rises by
   more than ``border_tolerance_fraction``. It is never lowered below the first midpoint: where
   marrow shows no lesion plateau (heterogeneous marrow, a few bright vessels), a falling
   midpoint would let the "lesion" spread through normal marrow. The grow level is the higher
   of this and rule 1.
3. **Hysteresis.** Seeds are voxels above the seed level at least ``seed_min_depth_mm`` under
   the bone surface; a lesion is a connected region above the grow level that holds a seed.
   A bright sheet at the bone surface with no deeper seed (joint fluid, partial volume with
   the joint space) is therefore not a lesion, while edema reaching the subchondral plate from
   inside is kept whole.
4. **Vessels.** A component thinner than ``vessel_max_radius_mm`` in-plane (largest inscribed
   radius) and longer than ``vessel_min_elongation`` x its diameter is tubular: a vessel.
5. **Size.** Components holding less than ``min_lesion_ml`` of voxels above the grow level in
   the *unsmoothed* image are speckle (smoothing spreads a bright speck into a bigger halo).
6. **Edge pixels, as readers outline them** (``outline_edge_pixels``). The half-contrast
   border is the 50% partial-volume contour: it measures a physical volume without bias. A
   reader outlining a lesion slice by slice draws around the pixels that look brighter than
   normal marrow, edge pixels included. So the in-plane ring of pixels that share an edge with
   a lesion is added where the raw signal is above the normal-marrow noise floor (rule 1's
   grow floor, ``grow_false_positive_rate``) and the pixel is not one of the reference's own
   normal-marrow voxels; the ring is one pixel, never grown further. This is a reader's
   convention, not a physical volume: on a soft-bordered phantom lesion of 14 mm radius on
   1 mm pixels it adds about a fifth to the half-contrast volume; ``false`` turns it off.
   Found on ``sij_stir/1013`` (a development scan): all four reader masks lie about one pixel
   outside the half-contrast border (their edge pixels at 0.31-0.44 of the lesion contrast,
   ours at 0.55).
7. **Enclosed islands.** Readers outline lesions slice by slice; in-plane islands enclosed by
   lesion and up to ``fill_hole_max_mm2`` are counted as lesion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.stats import norm

from bme_mri.quantify.reference import ReferenceEstimate, depth_below_surface_mm
from bme_mri.quantify.settings import RoiSettings


@dataclass
class LesionResult:
    """Lesion mask and the levels and rules that made it.

    Attributes
    ----------
    mask : bool ``[i, j, k]``.
    seed_level, grow_level : image units (of the smoothed image).
    plateau : lesion plateau (image units; None without a seed core).
    seed_alpha : per-voxel false-positive rate of the seed level (from the family rate).
    reference_false_positive_fraction : fraction of the reference voxels above the grow level.
    rejected : components dropped per rule (``vessel``, ``small``).
    edge_pixels : voxels added by rule 6 (the readers' edge pixels; 0 when off).
    """

    mask: np.ndarray
    seed_level: float
    grow_level: float
    plateau: float | None
    seed_alpha: float
    reference_false_positive_fraction: float
    rejected: dict[str, int] = field(default_factory=dict)
    edge_pixels: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"seed_level": self.seed_level, "grow_level": self.grow_level, "plateau": self.plateau, "seed_alpha": self.seed_alpha,
                "reference_false_positive_fraction": self.reference_false_positive_fraction,
                "rejected_components": dict(self.rejected), "edge_pixels": self.edge_pixels}


def noise_level(reference_values: np.ndarray, median: float, sd: float, alpha: float) -> float:
    """The level that normal marrow exceeds with probability ``alpha`` (rule 1); below one
    reference voxel's worth of probability the empirical part is the sample's maximum."""
    gaussian = median + float(norm.isf(alpha)) * sd
    empirical = float(np.quantile(reference_values, max(0.0, 1.0 - alpha))) if reference_values.size else gaussian
    return max(gaussian, empirical)


def _ec_density(u: float, dimension: int) -> float:
    """Euler characteristic density per resel of a unit Gaussian field above ``u`` (Worsley 1996)."""
    four_ln2 = 4.0 * np.log(2.0)
    tail = np.exp(-u * u / 2.0)
    if dimension == 3:
        return float(four_ln2 ** 1.5 / (2.0 * np.pi) ** 2 * (u * u - 1.0) * tail)
    return float(four_ln2 / (2.0 * np.pi) ** 1.5 * u * tail)


def seed_threshold_sd(bone: np.ndarray, spacing_mm: tuple[float, float, float], sigma_mm: float,
                      family_rate: float) -> tuple[float, float]:
    """(u, resels): the level in sd above which a smoothed normal field inside ``bone`` has an
    expected Euler characteristic (number of blobs) of ``family_rate`` (rule 1)."""
    fwhm = [max(2.0 * np.sqrt(2.0 * np.log(2.0)) * sigma_mm, s) for s in spacing_mm]
    voxel_mm3 = float(np.prod(spacing_mm))
    if 2.0 * np.sqrt(2.0 * np.log(2.0)) * sigma_mm < spacing_mm[2]:
        dimension = 2  # a stack of independent slices
        resels = float(bone.sum()) * voxel_mm3 / spacing_mm[2] / (fwhm[0] * fwhm[1])
    else:
        dimension = 3
        resels = float(bone.sum()) * voxel_mm3 / float(np.prod(fwhm))
    slices = float(np.count_nonzero(bone.any(axis=(0, 1))))
    low, high = 1.0, 12.0
    for _ in range(60):  # expected EC decreases with u above 1 sd: bisection
        u = 0.5 * (low + high)
        expected = resels * _ec_density(u, dimension) + slices * float(norm.sf(u))
        low, high = (u, high) if expected > family_rate else (low, u)
    return 0.5 * (low + high), resels


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    return ndimage.label(mask, structure=ndimage.generate_binary_structure(3, 2))


def _is_tubular(component: np.ndarray, spacing_mm: tuple[float, float, float],
                settings: RoiSettings) -> bool:
    """Rule 4 on one component's (cropped) mask."""
    radius = 0.0
    for k in range(component.shape[2]):
        plane = component[:, :, k]
        if plane.any():
            padded = np.pad(plane, 1, constant_values=False)
            radius = max(radius, float(ndimage.distance_transform_edt(
                padded, sampling=spacing_mm[:2]).max()) - 0.5 * min(spacing_mm[:2]))
    if radius > settings.vessel_max_radius_mm:
        return False
    points = np.argwhere(component) * np.asarray(spacing_mm)
    if len(points) < 3:
        return False
    extent = points.max(axis=0) - points.min(axis=0) + np.asarray(spacing_mm)
    length = float(np.linalg.norm(extent))
    return length >= settings.vessel_min_elongation * 2.0 * radius


def _with_edge_pixels(lesion: np.ndarray, bright: np.ndarray) -> tuple[np.ndarray, int]:
    """Rule 6: ``lesion`` plus the pixels of ``bright`` that share an in-plane edge with it
    (one ring, slice by slice; the third array axis is the slice axis), and their count."""
    inplane = ndimage.generate_binary_structure(3, 1)
    inplane[:, :, 0] = inplane[:, :, 2] = False
    ring = ndimage.binary_dilation(lesion, structure=inplane) & ~lesion & bright
    return lesion | ring, int(ring.sum())


def _fill_inplane_holes(mask: np.ndarray, allowed: np.ndarray, max_pixels: int) -> np.ndarray:
    out = mask.copy()
    for k in range(mask.shape[2]):
        plane = mask[:, :, k]
        if not plane.any():
            continue
        holes = ndimage.binary_fill_holes(plane) & ~plane & allowed[:, :, k]
        labels, n = ndimage.label(holes)
        if n:
            sizes = np.bincount(labels.ravel())[1:]
            out[:, :, k] |= np.r_[False, sizes <= max_pixels][labels]
    return out


def find_lesions(smoothed: np.ndarray, bone: np.ndarray, reference: ReferenceEstimate,
                 spacing_mm: tuple[float, float, float], settings: RoiSettings,
                 raw: np.ndarray | None = None) -> LesionResult:
    """Lesions inside ``bone`` by rules 1-7 of the module docstring (``raw``: the unsmoothed
    image, for the size floor; None = ``smoothed``)."""
    raw = smoothed if raw is None else raw
    spacing_mm = tuple(float(s) for s in spacing_mm)
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    ref_values = smoothed[reference.mask].astype(np.float64)
    median, sd = reference.median, reference.robust_sd
    seed_sd, _ = seed_threshold_sd(bone, spacing_mm, settings.smoothing_sigma_mm,
                                   settings.seed_family_false_positive_rate)
    seed_alpha = float(norm.sf(seed_sd))
    seed_level = noise_level(ref_values, median, sd, seed_alpha)
    grow_noise = noise_level(ref_values, median, sd, settings.grow_false_positive_rate)
    depth = depth_below_surface_mm(bone, spacing_mm)
    seeds = bone & (smoothed > seed_level) & (depth > settings.seed_min_depth_mm)

    def grown(level: float) -> np.ndarray:
        labels, n = _components(bone & (smoothed > level))
        keep = np.zeros(n + 1, dtype=bool)
        keep[np.unique(labels[seeds])] = True
        keep[0] = False
        return keep[labels]

    level = seed_level
    lesion = grown(level)
    plateau = None
    first_level = None
    for _ in range(settings.border_max_iterations):
        if not lesion.any():
            break
        interior = lesion & (depth_below_surface_mm(lesion, spacing_mm) > settings.plateau_depth_mm)
        plateau = float(np.median(smoothed[interior if interior.any() else lesion]))
        new_level = max(grow_noise, median + settings.contrast_fraction * (plateau - median))
        if first_level is None:
            first_level = new_level
        elif new_level <= level * (1.0 + settings.border_tolerance_fraction):
            break  # converged, or falling: the level only rises from the first midpoint
        level = new_level
        lesion = grown(level)
    grow_level = level
    rejected = {"vessel": 0, "small": 0}
    labels, n = _components(lesion)
    for index, slices in enumerate(ndimage.find_objects(labels), start=1):
        component = labels[slices] == index
        own = raw[slices][component] > grow_level
        if own.sum() * voxel_ml < settings.min_lesion_ml:
            rejected["small"] += 1
        elif _is_tubular(component, spacing_mm, settings):
            rejected["vessel"] += 1
        else:
            continue
        lesion[slices][component] = False
    edge_pixels = 0
    if settings.outline_edge_pixels:
        lesion, edge_pixels = _with_edge_pixels(lesion, bone & (raw > grow_noise) & ~reference.mask)
    max_pixels = int(np.floor(settings.fill_hole_max_mm2 / (spacing_mm[0] * spacing_mm[1])))
    if max_pixels > 0:
        lesion = _fill_inplane_holes(lesion, bone, max_pixels)
    fp = float(np.mean(ref_values > grow_level)) if ref_values.size else 0.0
    return LesionResult(mask=lesion, seed_level=float(seed_level), grow_level=float(grow_level),
                        seed_alpha=float(seed_alpha),
                        plateau=plateau, reference_false_positive_fraction=fp, rejected=rejected,
                        edge_pixels=edge_pixels)
