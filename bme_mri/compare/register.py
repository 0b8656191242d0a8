"""Rigid registration of a follow-up onto its baseline, one hip at a time (SimpleITK).

Convention
----------
:attr:`Registration.matrix_lps` is a 4x4 matrix in DICOM patient coordinates (LPS mm) that maps
a point of the **baseline** to the same anatomical point in the **follow-up**:
``p_followup = matrix_lps @ [p_baseline, 1]``. This is ITK's fixed -> moving convention
(baseline = fixed, follow-up = moving), the direction needed to resample follow-up images and
labels onto the baseline grid (:func:`bme_mri.compare.change.resample_labels`).

Method
------
Both studies are resampled (linear) onto LPS-aligned isotropic cubes around the baseline femoral
head centre (``cube_mm``; the follow-up cube is larger by ``search_margin_mm`` on every side), so
coronal, axial and oblique stacks are registered alike and the bone around one hip drives the
result, not the other hip or the pelvis. The metric (Mattes mutual information) is restricted to
a bone mask on the baseline side (by default a sphere of ``mask_radius_mm`` around the head
centre: head, cortex, acetabular rim, neck base; or a caller-given mask) and to the follow-up's
field of view on the moving side (a rotated or truncated follow-up stack leaves zero padding in
its cube, which must not pose as dark tissue). Edema and necrosis of either visit, grown by
``lesion_margin_mm``, are left out on both sides when the caller gives them: their signal changes
on purpose, so bone drives the fit. The Euler transform is centred on the head centre and starts
from the translation between baseline and follow-up head centres when the latter is known; when
that start fails its checks, the identity is tried too and the better result (ok first, then
quality) is kept. Optimisation: regular-step gradient descent, scales from physical shift,
multi-resolution pyramid.

Quality: normalised cross-correlation (NCC, in [-1, 1]) between the baseline cube and the
registered follow-up over the same lesion-free mask, inside both fields of view. A registration
is ``ok`` only when NCC >= ``min_quality_ncc``, the recovered motion is plausible (rotation
<= ``max_rotation_deg``, head-centre displacement <= ``max_translation_mm``) and, when the
follow-up's own head centre is known, the registration carries the baseline head centre to
within ``max_center_mismatch_mm`` of it (an independent geometric check: two sphere fits agree
to about a millimetre, a registration caught in a wrong optimum misses by many); otherwise
``ok`` is False and ``message`` says why. Callers must not use a failed registration's change map silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk

from bme_mri.compare.settings import RegistrationSettings
from bme_mri.morphology import dilate_mm
from bme_mri.types import Geometry, Volume


@dataclass(frozen=True)
class Registration:
    """Result of :func:`register_hip`.

    Attributes
    ----------
    matrix_lps : 4x4, baseline LPS mm -> follow-up LPS mm (ITK fixed -> moving).
    metric_value : final Mattes mutual information (negative; lower is better).
    quality_ncc : normalised correlation in the bone mask after registration, [-1, 1].
    quality_ncc_before : the same with the initial transform (for the record).
    ok : quality and plausibility checks passed.
    message : why it failed, or a one-line summary when it passed.
    rotation_deg : total rotation angle of the recovered transform (degrees).
    center_shift_mm : displacement of the baseline head centre by the transform (mm).
    center_mismatch_mm : distance (mm) between the mapped baseline head centre and the
        follow-up's own fitted head centre; nan when that centre was not given.
    """

    matrix_lps: np.ndarray = field(repr=False)
    metric_value: float
    quality_ncc: float
    quality_ncc_before: float
    ok: bool
    message: str
    rotation_deg: float
    center_shift_mm: float
    center_mismatch_mm: float = float("nan")

    def map_points(self, points_lps: np.ndarray) -> np.ndarray:
        """Baseline LPS points (..., 3) -> follow-up LPS points."""
        points = np.asarray(points_lps, dtype=np.float64)
        return points @ self.matrix_lps[:3, :3].T + self.matrix_lps[:3, 3]

    def to_dict(self) -> dict:
        """JSON-friendly summary."""
        return {
            "matrix_lps": np.asarray(self.matrix_lps).tolist(),
            "metric_value": self.metric_value,
            "quality_ncc": self.quality_ncc,
            "quality_ncc_before": self.quality_ncc_before,
            "ok": self.ok,
            "message": self.message,
            "rotation_deg": self.rotation_deg,
            "center_shift_mm": self.center_shift_mm,
            "center_mismatch_mm": self.center_mismatch_mm,
        }


def identity_registration(message: str = "identity (same frame)") -> Registration:
    """An identity 'registration' for callers that skip registering (flagged not ok)."""
    return Registration(np.eye(4), float("nan"), float("nan"), float("nan"), False, message,
                        0.0, 0.0)


# ---- SimpleITK conversions ----------------------------------------------------------------

def to_sitk(array: np.ndarray, geometry: Geometry) -> sitk.Image:
    """An ``array[i, j, k]`` on ``geometry`` as a SimpleITK image (LPS physical space)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(np.transpose(array, (2, 1, 0))))
    image.SetOrigin(tuple(float(v) for v in geometry.origin_lps_mm))
    image.SetSpacing(tuple(float(v) for v in geometry.spacing_mm))
    image.SetDirection(tuple(float(v) for v in np.asarray(geometry.direction_lps).ravel()))
    return image


def from_sitk(image: sitk.Image) -> np.ndarray:
    """SimpleITK image -> ``array[i, j, k]``."""
    return np.transpose(sitk.GetArrayFromImage(image), (2, 1, 0))


def cube_geometry(center_lps_mm: np.ndarray, side_mm: float, spacing_mm: float) -> Geometry:
    """An LPS-aligned isotropic cube grid centred on ``center_lps_mm``."""
    n = max(2, int(round(side_mm / spacing_mm)) + 1)
    half = (n - 1) / 2.0 * spacing_mm
    origin = np.asarray(center_lps_mm, dtype=np.float64) - half
    return Geometry((n, n, n), (spacing_mm,) * 3, tuple(origin), np.eye(3))


def _resample(image: sitk.Image, grid: Geometry, interpolator: int,
              transform: sitk.Transform | None = None) -> sitk.Image:
    reference = sitk.Image([int(s) for s in grid.shape], sitk.sitkUInt8)
    reference.SetOrigin(grid.origin_lps_mm)
    reference.SetSpacing(grid.spacing_mm)
    reference.SetDirection(tuple(np.asarray(grid.direction_lps).ravel()))
    return sitk.Resample(image, reference, transform or sitk.Transform(), interpolator, 0.0,
                         image.GetPixelID())


def euler_matrix(transform: sitk.Euler3DTransform) -> np.ndarray:
    """4x4 LPS matrix of an ITK Euler transform: x -> R (x - c) + c + t."""
    rotation = np.asarray(transform.GetMatrix(), dtype=np.float64).reshape(3, 3)
    center = np.asarray(transform.GetCenter(), dtype=np.float64)
    translation = np.asarray(transform.GetTranslation(), dtype=np.float64)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = translation + center - rotation @ center
    return matrix


def normalized_correlation(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Pearson correlation of two arrays (inside ``mask``), in [-1, 1]; nan when undefined."""
    if mask is not None:
        a, b = a[mask], b[mask]
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size < 2:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / denom) if denom > 0 else float("nan")


def _mask_on_grid(mask: np.ndarray, geometry: Geometry, grid: Geometry,
                  transform: sitk.Transform | None = None) -> np.ndarray:
    """Boolean ``mask`` on ``geometry`` resampled (nearest neighbour) onto ``grid``.

    With ``transform`` (grid point -> mask point, ITK convention) the mask is pulled through it.
    Points of ``grid`` outside ``geometry`` are False.
    """
    return from_sitk(_resample(to_sitk(np.asarray(mask, np.uint8), geometry), grid,
                               sitk.sitkNearestNeighbor, transform)) > 0


def _grown_on_grid(lesion: np.ndarray | None, geometry: Geometry, grid: Geometry,
                   settings: RegistrationSettings) -> np.ndarray:
    """``lesion`` (on ``geometry``) on ``grid``, grown by ``lesion_margin_mm``; empty if None."""
    if lesion is None or not np.any(lesion):
        return np.zeros(grid.shape, bool)
    return dilate_mm(_mask_on_grid(lesion, geometry, grid), settings.lesion_margin_mm,
                  float(grid.spacing_mm[0]))


def _unless_too_small(part: np.ndarray, whole: np.ndarray, min_fraction: float) -> np.ndarray:
    """``part`` of a mask, or all of ``whole`` when ``part`` keeps < ``min_fraction`` of it."""
    return part if part.sum() >= min_fraction * whole.sum() else whole


def _rotation_angle_deg(rotation: np.ndarray) -> float:
    cos = (np.trace(rotation) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


# ---- registration -------------------------------------------------------------------------

def register_hip(baseline: Volume, followup: Volume, center_lps_mm: np.ndarray,
                 settings: RegistrationSettings, fixed_mask: np.ndarray | None = None,
                 followup_center_lps_mm: np.ndarray | None = None,
                 baseline_lesion: np.ndarray | None = None,
                 followup_lesion: np.ndarray | None = None) -> Registration:
    """Rigidly register ``followup`` onto ``baseline`` around one femoral head.

    Parameters
    ----------
    baseline, followup : the analysed series of both visits (any orientation, LPS geometry).
    center_lps_mm : baseline femoral head centre (LPS mm): the cube, the mask and the
        transform's centre of rotation.
    settings : ``compare.registration`` from the config.
    fixed_mask : optional boolean mask on the baseline grid restricting the metric (e.g. the
        dilated femoral head and acetabulum); default a sphere of ``mask_radius_mm``.
    followup_center_lps_mm : the follow-up's own fitted head centre when known (LPS mm): the
        first start (translation) and the centre-consistency check.
    baseline_lesion, followup_lesion : optional boolean masks on each visit's own grid of voxels
        whose signal is expected to change between visits (edema, necrosis). They are left out
        of the metric and of the quality NCC (dilated by ``lesion_margin_mm``): a resolved
        edema changes the marrow signal without any misalignment, and must neither pull the
        fit nor flag a good registration.

    Returns
    -------
    Registration with ``matrix_lps`` mapping baseline LPS -> follow-up LPS; ``ok`` False and a
    message when the quality or plausibility checks fail (never raises for a poor fit).
    """
    center = np.asarray(center_lps_mm, dtype=np.float64).reshape(3)
    spacing = float(settings.resample_spacing_mm)
    fixed_grid = cube_geometry(center, settings.cube_mm, spacing)
    moving_grid = cube_geometry(center, settings.cube_mm + 2 * settings.search_margin_mm, spacing)
    fixed = _resample(to_sitk(baseline.array.astype(np.float32), baseline.geometry), fixed_grid,
                      sitk.sitkLinear)
    moving = _resample(to_sitk(followup.array.astype(np.float32), followup.geometry), moving_grid,
                       sitk.sitkLinear)
    if fixed_mask is not None:
        if tuple(fixed_mask.shape) != tuple(baseline.geometry.shape):
            raise ValueError(f"fixed_mask {fixed_mask.shape} is not on the baseline grid "
                             f"{baseline.geometry.shape}")
        mask = _mask_on_grid(fixed_mask, baseline.geometry, fixed_grid)
    else:
        idx = np.stack(np.meshgrid(*[np.arange(n) for n in fixed_grid.shape], indexing="ij"), -1)
        mask = np.linalg.norm(fixed_grid.index_to_lps(idx) - center, axis=-1) <= settings.mask_radius_mm
    # only voxels inside the baseline field of view: outside it the cube holds padding, not anatomy
    mask &= _mask_on_grid(np.ones(baseline.geometry.shape, bool), baseline.geometry, fixed_grid)
    if mask.sum() < 100:
        return Registration(np.eye(4), float("nan"), float("nan"), float("nan"), False,
                            f"registration mask around {np.round(center, 1).tolist()} mm has "
                            f"{int(mask.sum())} voxels inside the baseline volume; the head centre "
                            "is outside the scan", 0.0, 0.0)
    # Tissue whose signal changes on purpose (edema, necrosis of either visit, grown by
    # lesion_margin_mm) is left out of the metric and of the quality NCC, so bone drives the fit.
    # When lesions fill most of the mask, the whole mask is used (and the fit is judged on it).
    stable = mask & ~_grown_on_grid(baseline_lesion, baseline.geometry, fixed_grid, settings)
    metric_mask = _unless_too_small(stable, mask, settings.min_stable_fraction)
    # follow-up voxels that are inside its field of view and not lesion: a rotated or truncated
    # follow-up stack leaves zero padding in the moving cube, which must not pose as dark tissue
    moving_valid = _mask_on_grid(np.ones(followup.geometry.shape, bool), followup.geometry,
                                 moving_grid)
    moving_stable = _unless_too_small(
        moving_valid & ~_grown_on_grid(followup_lesion, followup.geometry, moving_grid, settings),
        moving_valid, settings.min_stable_fraction)

    fixed_array = from_sitk(fixed)
    followup_center = (None if followup_center_lps_mm is None
                       else np.asarray(followup_center_lps_mm, dtype=np.float64).reshape(3))

    def quality(candidate: sitk.Transform) -> float:
        registered = from_sitk(_resample(moving, fixed_grid, sitk.sitkLinear, candidate))
        region = stable & _mask_on_grid(moving_stable, moving_grid, fixed_grid, candidate)
        if region.sum() < settings.min_stable_fraction * mask.sum():
            region = mask & _mask_on_grid(moving_valid, moving_grid, fixed_grid, candidate)
        return normalized_correlation(fixed_array, registered, region)

    def attempt(translation: np.ndarray, start: str) -> Registration:
        transform = sitk.Euler3DTransform()
        transform.SetCenter(tuple(center))
        transform.SetTranslation(tuple(float(v) for v in translation))
        ncc_before = quality(transform)
        method = _registration_method(settings, fixed_grid, metric_mask, moving_grid, moving_stable)
        method.SetInitialTransform(transform, inPlace=True)
        try:
            method.Execute(fixed, moving)
        except RuntimeError as exc:  # ITK raises e.g. "too many samples map outside moving image"
            text = str(exc).strip()
            first_line = text.splitlines()[-1] if text else type(exc).__name__
            return Registration(np.eye(4), float("nan"), float("nan"), ncc_before, False,
                                f"registration did not run to completion ({start}): {first_line}",
                                0.0, 0.0)
        matrix = euler_matrix(transform)
        ncc = quality(transform)
        rotation_deg = _rotation_angle_deg(matrix[:3, :3])
        shift_mm = float(np.linalg.norm(matrix[:3, :3] @ center + matrix[:3, 3] - center))
        problems = []
        if not np.isfinite(ncc) or ncc < settings.min_quality_ncc:
            problems.append(f"normalised correlation {ncc:.2f} < {settings.min_quality_ncc}")
        if rotation_deg > settings.max_rotation_deg:
            problems.append(f"rotation {rotation_deg:.1f} deg > {settings.max_rotation_deg}")
        if shift_mm > settings.max_translation_mm:
            problems.append(f"head-centre shift {shift_mm:.1f} mm > {settings.max_translation_mm}")
        mismatch = float("nan")
        if followup_center is not None:
            mismatch = float(np.linalg.norm(matrix[:3, :3] @ center + matrix[:3, 3] - followup_center))
            if mismatch > settings.max_center_mismatch_mm:
                problems.append(f"the baseline head centre lands {mismatch:.1f} mm from the "
                                f"follow-up's own head centre (> {settings.max_center_mismatch_mm})")
        summary = (f"rigid registration from {start}: NCC {ncc_before:.2f} -> {ncc:.2f}, rotation "
                   f"{rotation_deg:.1f} deg, head-centre shift {shift_mm:.1f} mm")
        if np.isfinite(mismatch):
            summary += f", {mismatch:.1f} mm from the follow-up's own head centre"
        message = summary if not problems else ("registration failed: " + "; ".join(problems)
                                                + f" ({summary})")
        return Registration(matrix, float(method.GetMetricValue()), ncc, ncc_before,
                            not problems, message, rotation_deg, shift_mm, mismatch)

    # Start from the head-centre translation when the follow-up centre is known, else (or when
    # that start fails its checks) from the identity; keep the best by (ok, quality NCC).
    starts = [(np.zeros(3), "identity")]
    if followup_center is not None:
        starts.insert(0, (followup_center - center, "head-centre translation"))
    best: Registration | None = None
    for translation, start in starts:
        result = attempt(translation, start)
        if best is None or _rank(result) > _rank(best):
            best = result
        if best.ok:
            break
    return best


def _rank(registration: Registration) -> tuple[bool, float]:
    ncc = registration.quality_ncc
    return registration.ok, ncc if np.isfinite(ncc) else -np.inf


def _registration_method(settings: RegistrationSettings, fixed_grid: Geometry,
                         fixed_mask: np.ndarray, moving_grid: Geometry,
                         moving_mask: np.ndarray) -> sitk.ImageRegistrationMethod:
    """Mattes MI, masked on both sides, regular-step gradient descent, multi-resolution."""
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=int(settings.histogram_bins))
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(float(settings.sampling_fraction),
                                       int(settings.sampling_seed))
    method.SetMetricFixedMask(to_sitk(fixed_mask.astype(np.uint8), fixed_grid))
    method.SetMetricMovingMask(to_sitk(moving_mask.astype(np.uint8), moving_grid))
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=float(settings.learning_rate), minStep=float(settings.min_step),
        numberOfIterations=int(settings.max_iterations), relaxationFactor=0.6,
        gradientMagnitudeTolerance=1e-8)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([int(f) for f in settings.shrink_factors])
    method.SetSmoothingSigmasPerLevel([float(s) for s in settings.smoothing_sigmas_mm])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return method
