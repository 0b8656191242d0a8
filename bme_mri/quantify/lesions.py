"""Lesions (edema) inside a bone mask, judged against the normal-marrow reference.

The rules, each with its constant in ``configs/default.yaml`` (``quantify.roi``):

1. **Noise floor from a false-positive rate.** ``level(alpha)`` is the higher of
   ``median + z(1 - alpha) x robust_sd`` (normal model) and the ``1 - alpha`` quantile of the
   reference voxels themselves (real marrow has heavier tails than a normal model). Seeds are
   a family-wise test over the whole bone: the bone holds ``n`` resolution elements (its
   volume over the smoothed image's correlation volume, per axis the larger of the smoothing
   FWHM and the voxel size), and ``alpha_seed = seed_family_false_positive_rate / n``, so normal
   marrow as variable as the reference yields a false seed in that fraction of scans
   (Bonferroni). The grow level floor is ``grow_false_positive_rate`` per voxel. The constants
   are false-positive rates on normal marrow, not multiples tuned on lesions.
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
5. **Size.** Components under ``min_lesion_ml`` are speckle.
6. **Enclosed islands.** Readers outline lesions slice by slice; in-plane islands enclosed by
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
    seed_alpha : per-voxel false-positive rate of the seed level (family rate / resels).
    reference_false_positive_fraction : fraction of the reference voxels above the grow level.
    rejected : components dropped per rule (``vessel``, ``small``).
    """

    mask: np.ndarray
    seed_level: float
    grow_level: float
    plateau: float | None
    seed_alpha: float
    reference_false_positive_fraction: float
    rejected: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"seed_level": self.seed_level, "grow_level": self.grow_level, "plateau": self.plateau, "seed_alpha": self.seed_alpha,
                "reference_false_positive_fraction": self.reference_false_positive_fraction,
                "rejected_components": dict(self.rejected)}


def noise_level(reference_values: np.ndarray, median: float, sd: float, alpha: float) -> float:
    """The level that normal marrow exceeds with probability ``alpha`` (rule 1); below one
    reference voxel's worth of probability the empirical part is the sample's maximum."""
    gaussian = median + float(norm.isf(alpha)) * sd
    empirical = float(np.quantile(reference_values, max(0.0, 1.0 - alpha))) if reference_values.size else gaussian
    return max(gaussian, empirical)


def resolution_elements(n_voxels: int, spacing_mm: tuple[float, float, float], sigma_mm: float) -> float:
    """Independent resolution elements in ``n_voxels`` after Gaussian smoothing ``sigma_mm``:
    per axis the correlation length is the larger of the FWHM (2.355 sigma) and the voxel."""
    fwhm = 2.0 * np.sqrt(2.0 * np.log(2.0)) * sigma_mm
    resel_mm3 = float(np.prod([max(fwhm, s) for s in spacing_mm]))
    return max(1.0, n_voxels * float(np.prod(spacing_mm)) / resel_mm3)


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
                padded, sampling=spacing_mm[:2]).max()))
    if radius > settings.vessel_max_radius_mm:
        return False
    points = np.argwhere(component) * np.asarray(spacing_mm)
    if len(points) < 3:
        return False
    extent = points.max(axis=0) - points.min(axis=0) + np.asarray(spacing_mm)
    length = float(np.linalg.norm(extent))
    return length >= settings.vessel_min_elongation * 2.0 * radius


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
                 spacing_mm: tuple[float, float, float], settings: RoiSettings) -> LesionResult:
    """Lesions inside ``bone`` by rules 1-6 of the module docstring."""
    spacing_mm = tuple(float(s) for s in spacing_mm)
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    ref_values = smoothed[reference.mask].astype(np.float64)
    median, sd = reference.median, reference.robust_sd
    n_resels = resolution_elements(int(bone.sum()), spacing_mm, settings.smoothing_sigma_mm)
    seed_alpha = settings.seed_family_false_positive_rate / n_resels
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
        if component.sum() * voxel_ml < settings.min_lesion_ml:
            rejected["small"] += 1
        elif _is_tubular(component, spacing_mm, settings):
            rejected["vessel"] += 1
        else:
            continue
        lesion[slices][component] = False
    max_pixels = int(np.floor(settings.fill_hole_max_mm2 / (spacing_mm[0] * spacing_mm[1])))
    if max_pixels > 0:
        lesion = _fill_inplane_holes(lesion, bone, max_pixels)
    fp = float(np.mean(ref_values > grow_level)) if ref_values.size else 0.0
    return LesionResult(mask=lesion, seed_level=float(seed_level), grow_level=float(grow_level),
                        seed_alpha=float(seed_alpha),
                        plateau=plateau, reference_false_positive_fraction=fp, rejected=rejected)
