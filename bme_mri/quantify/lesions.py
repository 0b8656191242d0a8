"""Lesions (edema) inside a bone mask, judged against the scan's own normal marrow.

Every level is in sd of the scan's own normal marrow around its *local* level
(:mod:`bme_mri.quantify.normal_field`: ``z = (image - level) / scale``). The rules, each with its
constant in ``configs/default.yaml`` (``quantify.roi``):

1. **Normal marrow and lesions, estimated together.** The normal level is fitted to the voxels
   taken as normal; lesions are found against it; the lesions and a ``lesion_halo_mm`` margin
   around them (their partial-volume border) are then left out of the normal voxels, and the
   level is fitted again, until the lesion volume changes by less than
   ``background_tolerance_fraction`` (at most ``background_max_iterations`` rounds). Normal
   voxels are deeper than ``background_min_depth_mm`` under the bone surface (clear of cortex and
   of fluid at the surface) and within ``background_outlier_sd`` of the level on either side.
   The scale is measured once, on the first normal voxels (those within
   ``reference_window_sd`` of the bone's normal centre), so it cannot shrink with its own
   exclusions.
2. **Seeds from the dark side (empirical null).** Normal marrow's texture makes blobs both
   brighter and darker than its level; edema only makes bright ones. The texture level ``u`` is
   the lowest level (searched on a 0.25 sd grid within ``seed_search_sd``) at which the blobs
   darker than ``-u`` number at most ``seed_false_discovery_rate`` x the blobs brighter than ``+u``
   (blobs deeper than ``seed_min_depth_mm``, of at least ``seed_count_min_ml``): the dark blobs
   estimate how many bright ones normal marrow makes by itself. With the default rate 0 the seeds
   stand above the deepest dark blob of the scan: its texture's own extreme, mirrored (a
   family-wise rule, with no constant). A near-normal scan with heavy texture gets a high level
   and few seeds; a scan whose marrow is smooth, a low one.
   The seed level is never below the noise level of a smooth Gaussian field inside the bone:
   the level at which its expected Euler characteristic (the number of blobs; Gaussian random
   field theory, Worsley et al. 1996) is ``seed_family_false_positive_rate``, so that a scan of
   pure noise, whose few extreme blobs the dark side cannot vouch for, shows a false seed in
   about that fraction of scans. Slices thicker than the smoothing FWHM are independent 2-D
   fields (resels = bone area per slice / FWHM^2); otherwise the field is 3-D.
3. **Growth.** A lesion is a connected region above ``grow_sd`` that holds a seed (hysteresis),
   and above ``border_contrast_fraction`` x the brightest lesion signal within
   ``border_plateau_radius_mm`` (partial volume: a sharp, bright lesion blurred by the smoothing
   stands above ``grow_sd`` well outside its edge; its border is where the blur falls to that
   fraction of its contrast, 0.5 being the half-contrast edge of a symmetric blur).
   Seeds lie deeper than ``seed_min_depth_mm``: a bright sheet at the bone surface with no
   deeper seed (joint fluid, partial volume with the joint space) is not a lesion, while edema
   reaching the subchondral plate from inside is kept whole. The border at ``grow_sd`` is where
   marrow stops looking brighter than its surroundings, as readers outline (on the development
   scans readers outline about one pixel outside the half-contrast border).
4. **Vessels.** A component thinner than ``vessel_max_radius_mm`` in-plane (largest inscribed
   radius) and longer than ``vessel_min_elongation`` x its diameter is tubular: a vessel. (Its
   border lies where it fades into the texture of normal marrow, so a vessel standing far above
   a smooth, noise-free marrow keeps a wide halo and is not recognised by its shape.)
5. **Size.** Components holding less than ``min_lesion_ml`` of voxels above the grow level in
   the *unsmoothed* image are speckle (smoothing spreads a bright speck into a bigger halo).
6. **Enclosed islands.** Readers outline lesions slice by slice; in-plane islands enclosed by
   lesion and up to ``fill_hole_max_mm2`` are counted as lesion.
7. **Range.** The volume is reported with the volumes at seed and grow levels ``range_sd``
   lower and higher (the same normal marrow): what a reader drawing a shade more or less
   generously, or a slightly noisier scan, would give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.stats import norm

from bme_mri.quantify.normal_field import NormalMarrowField, fit_field
from bme_mri.morphology import depth_below_surface_mm, dilate_mm
from bme_mri.quantify.reference import lowest_peak
from bme_mri.quantify.settings import RoiSettings


@dataclass
class LesionResult:
    """Lesion mask, the normal marrow it was judged against, and the levels and rules used.

    Attributes
    ----------
    mask : bool ``[i, j, k]``.
    field : the normal marrow (level per voxel, scale, the voxels it was fitted to).
    seed_sd, grow_sd : seed and grow levels (sd of normal marrow above its local level).
    noise_seed_sd : rule 2's floor under the seed level (a smooth Gaussian field's).
    bright_blobs, dark_blobs : blobs above ``+seed_sd`` and below ``-seed_sd`` (rule 2).
    volume_range_ml : (low, high) volumes at levels ``range_sd`` higher and lower (ml).
    iterations : rounds of rule 1.
    rejected : components dropped per rule (``vessel``, ``small``).
    """

    mask: np.ndarray
    field: NormalMarrowField
    seed_sd: float
    grow_sd: float
    noise_seed_sd: float
    bright_blobs: int
    dark_blobs: int
    volume_range_ml: tuple[float, float]
    iterations: int
    rejected: dict[str, int] = field(default_factory=dict)

    def grow_level(self, inside: np.ndarray) -> float:
        """Median over ``inside`` of the grow level in image units (level + grow_sd x scale)."""
        values = self.field.level[inside]
        centre = float(np.median(values)) if values.size else self.field.centre
        return centre + self.grow_sd * self.field.scale

    def to_dict(self) -> dict[str, Any]:
        return {"seed_sd": self.seed_sd, "noise_seed_sd": self.noise_seed_sd, "grow_sd": self.grow_sd,
                "scale": self.field.scale,
                "normal_centre": self.field.centre, "normal_spread": self.field.spread,
                "normal_voxels": int(self.field.mask.sum()), "bright_blobs": self.bright_blobs,
                "dark_blobs": self.dark_blobs, "iterations": self.iterations,
                "volume_range_ml": list(self.volume_range_ml),
                "rejected_components": dict(self.rejected)}


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    return ndimage.label(mask, structure=ndimage.generate_binary_structure(3, 2))


def _count_blobs(mask: np.ndarray, voxel_ml: float, min_ml: float) -> int:
    labels, n = _components(mask)
    if n == 0:
        return 0
    return int(np.count_nonzero(np.bincount(labels.ravel())[1:] * voxel_ml >= min_ml))


def _ec_density(u: float, dimension: int) -> float:
    """Euler characteristic density per resel of a unit Gaussian field above ``u`` (Worsley 1996)."""
    four_ln2 = 4.0 * np.log(2.0)
    tail = np.exp(-u * u / 2.0)
    if dimension == 3:
        return float(four_ln2 ** 1.5 / (2.0 * np.pi) ** 2 * (u * u - 1.0) * tail)
    return float(four_ln2 / (2.0 * np.pi) ** 1.5 * u * tail)


def noise_seed_sd(bone: np.ndarray, spacing_mm: tuple[float, float, float], sigma_mm: float,
                  family_rate: float) -> tuple[float, float]:
    """(u, resels): the level in sd above which a smoothed Gaussian field inside ``bone`` has an
    expected Euler characteristic (number of blobs) of ``family_rate`` (rule 2's floor)."""
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


def seed_level(z: np.ndarray, deep: np.ndarray, voxel_ml: float, settings: RoiSettings) -> tuple[float, int, int]:
    """Rule 2: (u, bright blobs, dark blobs) with u the lowest level on a 0.25 sd grid at which
    the dark blobs are at most ``seed_false_discovery_rate`` x the bright ones; searched in 1 sd
    steps, then refined below the first step that holds."""
    low, high = settings.seed_search_sd
    boxes = ndimage.find_objects(deep.astype(np.int8))
    if not boxes:
        return float(high), 0, 0
    zb, db = z[boxes[0]], deep[boxes[0]]

    def dark_blobs(u: float) -> int:
        return _count_blobs(db & (zb < -u), voxel_ml, settings.seed_count_min_ml)

    def bright_blobs(u: float) -> int:
        return _count_blobs(db & (zb > u), voxel_ml, settings.seed_count_min_ml)

    def holds(u: float) -> tuple[bool, int]:
        dark = dark_blobs(u)
        return (dark == 0 or dark <= settings.seed_false_discovery_rate * bright_blobs(u)), dark

    coarse = np.arange(low, high + 1e-9, 1.0)
    for i, u in enumerate(coarse):
        ok, dark = holds(float(u))
        if not ok:
            continue
        found = float(u)
        if i:  # refine below the first coarse level that holds
            for fine in np.arange(float(coarse[i - 1]) + 0.25, float(u) - 1e-9, 0.25):
                ok_fine, dark_fine = holds(float(fine))
                if ok_fine:
                    found, dark = float(fine), dark_fine
                    break
        return found, bright_blobs(found), dark
    return float(high), 0, 0


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


def _grown(z: np.ndarray, bone: np.ndarray, seeds: np.ndarray, grow_sd: float | np.ndarray) -> np.ndarray:
    """Rule 3: connected regions of ``bone`` above ``grow_sd`` (sd, or a level per voxel) holding
    a seed."""
    labels, n = _components(bone & (z > grow_sd))
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(labels[seeds & (labels > 0)])] = True
    keep[0] = False
    return keep[labels]


def _border_level(z: np.ndarray, lesion: np.ndarray, grow_sd: float, spacing_mm: tuple[float, float, float],
                  settings: RoiSettings) -> np.ndarray:
    """Rule 3's partial-volume floor: per voxel, ``border_contrast_fraction`` x the brightest
    lesion signal within ``border_plateau_radius_mm`` (a box of that half-width; sd), never below
    ``grow_sd``."""
    half = [max(1, int(round(settings.border_plateau_radius_mm / s))) for s in spacing_mm]
    peak = ndimage.maximum_filter(np.where(lesion, z, -np.inf).astype(np.float32),
                                  size=tuple(2 * h + 1 for h in half), mode="constant", cval=-np.inf)
    return np.maximum(np.float32(grow_sd), np.float32(settings.border_contrast_fraction) * peak)


def lesions_at(seed_z: np.ndarray, border_z: np.ndarray, raw_z: np.ndarray, bone: np.ndarray,
               deep_seed: np.ndarray, seed_sd: float, grow_sd: float,
               spacing_mm: tuple[float, float, float], settings: RoiSettings,
               chance: float = 0.0) -> tuple[np.ndarray, dict[str, int]]:
    """Rules 3-6 at the given levels: the lesion mask and the components rejected per rule.
    ``seed_z``, ``border_z``: the smoothed image in sd of normal marrow (seeds, border);
    ``raw_z``: the unsmoothed image in the same units, for the size floor, which counts a
    component's voxels above the grow level in the image as acquired beyond the ``chance``
    fraction that normal marrow's own unsmoothed voxels reach (noise inside a bright speck's
    smoothed halo is not lesion)."""
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    seeds = deep_seed & (seed_z > seed_sd)
    lesion = _grown(border_z, bone, seeds, grow_sd)
    if settings.border_contrast_fraction > 0 and lesion.any():
        lesion = _grown(border_z, bone, seeds, _border_level(border_z, lesion, grow_sd, spacing_mm, settings))
    rejected = {"vessel": 0, "small": 0}
    labels, _ = _components(lesion)
    for index, slices in enumerate(ndimage.find_objects(labels), start=1):
        if slices is None:
            continue
        component = labels[slices] == index
        above = np.count_nonzero(raw_z[slices][component] > grow_sd)
        if (above - chance * component.sum()) * voxel_ml < settings.min_lesion_ml:
            rejected["small"] += 1
        elif _is_tubular(component, spacing_mm, settings):
            rejected["vessel"] += 1
        else:
            continue
        lesion[slices][component] = False
    max_pixels = int(np.floor(settings.fill_hole_max_mm2 / (spacing_mm[0] * spacing_mm[1])))
    if max_pixels > 0:
        lesion = _fill_inplane_holes(lesion, bone, max_pixels)
    return lesion, rejected


def find_lesions(smoothed: np.ndarray, bone: np.ndarray, spacing_mm: tuple[float, float, float],
                 settings: RoiSettings, raw: np.ndarray | None = None,
                 given: np.ndarray | None = None) -> LesionResult:
    """Lesions inside ``bone`` by rules 1-7 of the module docstring.

    ``smoothed``: the image smoothed inside the bone (image units); ``raw``: the unsmoothed
    image, for the size floor (None = ``smoothed``); ``given``: a normal-marrow sample drawn by
    the user (bool), which anchors the normal centre and always counts as normal marrow.
    Raises ``ValueError`` when the bone holds too few voxels to fit normal marrow to.
    """
    raw = smoothed if raw is None else raw
    spacing_mm = tuple(float(s) for s in spacing_mm)
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    depth = depth_below_surface_mm(bone, spacing_mm)
    deep = bone & (depth > settings.background_min_depth_mm)
    if deep.sum() < settings.reference_source_min_voxels:
        deep = bone  # a thin bone: every voxel may serve
    deep_seed = bone & (depth > settings.seed_min_depth_mm)
    lesion_bone = bone if given is None else bone & ~given  # the user's normal sample is never lesion
    values = smoothed[deep].astype(np.float64)
    if values.size < settings.reference_source_min_voxels:
        raise ValueError(f"only {values.size} marrow voxels in the bone mask")
    mode, spread = lowest_peak(values, settings.reference_histogram_bins,
                               settings.reference_histogram_smooth_bins, settings.reference_peak_min_fraction)
    centre = float(np.median(smoothed[given])) if given is not None and given.any() else mode
    window = settings.reference_window_sd * spread
    normal = deep & (np.abs(smoothed - centre) <= window)
    if given is not None:
        normal |= given
    if normal.sum() < settings.reference_source_min_voxels:
        normal = deep
    field_ = fit_field(smoothed, normal, spacing_mm, settings.background_sigma_mm, centre, spread,
                       settings.reference_window_sd)
    scale = field_.scale
    noise_floor, _ = noise_seed_sd(bone, spacing_mm, settings.smoothing_sigma_mm,
                                   settings.seed_family_false_positive_rate)
    previous = None
    for iteration in range(1, settings.background_max_iterations + 1):
        z = field_.z(smoothed)
        u, bright, dark = seed_level(z, deep_seed, voxel_ml, settings)
        u = max(u, noise_floor)
        raw_z = field_.z(raw)
        chance = float(np.mean(raw_z[field_.mask] > settings.grow_sd))
        lesion, rejected = lesions_at(z, z, raw_z, lesion_bone, deep_seed, u, settings.grow_sd, spacing_mm,
                                      settings, chance)
        volume = float(lesion.sum()) * voxel_ml
        converged = previous is not None and abs(volume - previous) <= (
            settings.background_tolerance_fraction * max(previous, settings.min_lesion_ml))
        if converged or iteration == settings.background_max_iterations:
            break
        previous = volume
        normal = deep & ~dilate_mm(lesion, settings.lesion_halo_mm, spacing_mm) & (
            np.abs(z) < settings.background_outlier_sd)
        if given is not None:
            normal |= given
        if normal.sum() < settings.reference_source_min_voxels:
            break
        field_ = fit_field(smoothed, normal, spacing_mm, settings.background_sigma_mm, centre, spread,
                           settings.reference_window_sd, scale=scale)
    delta = settings.range_sd
    low, _ = lesions_at(z, z, raw_z, lesion_bone, deep_seed, u + delta, settings.grow_sd + delta, spacing_mm,
                        settings, chance)
    high, _ = lesions_at(z, z, raw_z, lesion_bone, deep_seed, max(u - delta, settings.grow_sd),
                         max(settings.grow_sd - delta, 0.0), spacing_mm, settings, chance)
    volume_range = (float(low.sum()) * voxel_ml, float(high.sum()) * voxel_ml)
    volume = float(lesion.sum()) * voxel_ml
    volume_range = (min(volume_range[0], volume), max(volume_range[1], volume))
    return LesionResult(mask=lesion, field=field_, seed_sd=float(u), grow_sd=float(settings.grow_sd),
                        noise_seed_sd=float(noise_floor),
                        bright_blobs=bright, dark_blobs=dark, volume_range_ml=volume_range,
                        iterations=iteration, rejected=rejected)
