"""Quality control per hip: flags with reasons, so doubt is said aloud.

Every analysed hip gets a :class:`HipQc`: a list of :class:`QcFlag` (code, reason, severity)
and the numbers the rules looked at. Rules (thresholds in ``qc`` of configs/default.yaml):

* ``head_fit_poor``: the head's sphere fit saw a cortical boundary on fewer than
  ``head.min_boundary_fraction`` of its rays, or the boundary points scatter more than
  ``head.max_fit_residual_mm`` around it (the segmenter accepts weaker fits to find a head
  at all; QC says when the head it found is not to be trusted).
* ``head_network_disagrees`` (warning; ``segment.method: learned``): the sphere fit seeded
  at the network's head centre lies more than ``head.max_network_offset_mm`` from it (a fit
  that does not hold at all becomes ``head_fit_poor``, see :mod:`bme_mri.segment.learned`).
* ``head_cut_by_fov``: more than ``head.max_outside_fov_fraction`` of the head proper (sphere
  on the articular side of the junction plane) lies outside the imaged volume;
  ``head_partly_outside_fov`` (warning) above ``head.warn_outside_fov_fraction``.
* ``reference_implausible``: the normal-marrow reference is not darker than muscle
  (``max_marrow_muscle_ratio``; on STIR / T2 fat-sat fatty marrow is darker than muscle,
  so a bright one means the fat suppression failed and edema is hidden), or it comes from
  fewer than ``reference.min_voxels`` voxels, or it was borrowed from the other hip and that
  hip's head fit fails ``head_fit_poor`` (its reference is marrow of an unknown place).
  The muscle level is the level of the highest peak of the histogram of log intensity of the
  soft tissue in a shell ``surround_inner_mm``..``surround_outer_mm`` outside the head surface
  (:func:`muscle_level`). And on both hips when the analysed series rises with the study's
  T1 across the body's tissues (rank correlation above ``reference.max_t1_rank_correlation``,
  :func:`t1_rank_correlation`): fat suppression failed, whatever the reference looks like.
* ``not_fat_suppressed``: fat is not suppressed on the analysed image, whatever the series was
  called (:func:`not_fat_suppressed_flag`, levels from :mod:`bme_mri.quantify.fat_suppression`),
  raised only on positive evidence that fat is bright: the bulk of the head's marrow (its
  interior, not the reference sample) lies on the bright side of the soft tissue around the head
  and the subcutaneous fat is brighter than muscle (``fat_suppression.min_fat_muscle_ratio``);
  or the series' headers reliably say there is no fat suppression
  (:func:`bme_mri.ingest.classify.no_fat_suppression_evidence`).
* ``fat_suppression_unverified`` (warning): bright marrow, and the image cannot tell edema from
  fatty marrow (no skin in view, or a layer as bright as muscle) and there is no T1 to tell; the
  figures stand and the reason says "could not verify fat suppression: ...".
* ``reference_sides_disagree`` (warning): the two sides' own references differ by more than
  ``reference.side_ratio_warn`` (diffuse edema, or one side misread); the segmenter used the
  darker one. ``reference_borrowed`` (warning): too little normal-looking marrow on this
  side, the other side's reference was used.
* ``low_snr`` (warning): muscle level / noise sd below ``noise.min_snr``; the noise sd is
  estimated in plane from the shell and the head with Immerkaer's Laplacian-difference
  operator (robust: median absolute response), insensitive to smooth anatomy.
* ``registration_flagged`` (warning, added by the comparison): the follow-up's rigid
  registration failed its check; the call uses each visit's own volumes, the change map is
  not drawn.

``qc.blocking`` lists the codes that make a follow-up call ``indeterminate``
(:func:`bme_mri.compare.status.call_status`); the others are warnings. Nothing here knows the
phantom: every level is relative to the image.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import ndimage

from bme_mri.quantify.settings import QcSettings
from bme_mri.segment.base import HeadFinding, Segmentation
from bme_mri.segment.marrow import smooth_image
from bme_mri.types import Geometry, Side, Volume

BLOCKING = "blocking"
WARNING = "warning"
# warnings a reader must act on (the figures stand, but may be wrong): said on the console, the
# overlay and in the report's notes, not only in the tables
REVIEW_CODES = ("fat_suppression_unverified",)


@dataclass(frozen=True)
class QcFlag:
    """One quality-control finding: a short code, a reason a reader understands, severity
    ``blocking`` (no status call from this evidence) or ``warning``."""

    code: str
    reason: str
    severity: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "severity": self.severity}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QcFlag:
        return cls(str(data["code"]), str(data["reason"]), str(data["severity"]))


def is_blocking(flag: Any) -> bool:
    """Whether a QC flag blocks (blocked means not measured): a :class:`QcFlag`, its dict (as in
    study.json) or a ``(code, severity, reason)`` tuple (as in the report model). The one place
    that test is written."""
    if isinstance(flag, dict):
        severity = flag.get("severity")
    elif isinstance(flag, tuple):
        severity = flag[1]
    else:
        severity = flag.severity
    return severity == BLOCKING


def blocking_flags(flags: Any) -> list:
    """The blocking ones of ``flags`` (:func:`is_blocking`), in order."""
    return [f for f in flags or () if is_blocking(f)]


def is_measured(edema_ml: float | None, necrosis_ml: float | None, flags: Any) -> bool:
    """Whether a hip's edema and necrosis are results: both figures present and no blocking QC
    flag (whatever numbers it carries: blocked means not measured)."""
    return edema_ml is not None and necrosis_ml is not None and not blocking_flags(flags)


@dataclass
class HipQc:
    """Quality control of one hip at one visit: flags and the measured numbers."""

    side: Side
    flags: list[QcFlag] = field(default_factory=list)
    measures: dict[str, float | None] = field(default_factory=dict)

    @property
    def blocking(self) -> list[QcFlag]:
        return blocking_flags(self.flags)

    @property
    def codes(self) -> str:
        """Semicolon-joined flag codes ('' when clean), for CSV."""
        return ";".join(dict.fromkeys(f.code for f in self.flags))

    @property
    def reason(self) -> str:
        """Semicolon-joined reasons ('' when clean), for CSV."""
        return "; ".join(f"{f.code}: {f.reason}" for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side.value, "flags": [f.to_dict() for f in self.flags],
                "measures": {k: (None if v is None else float(v)) for k, v in self.measures.items()}}


def make_flag(code: str, reason: str, settings: QcSettings) -> QcFlag:
    """A flag whose severity comes from ``settings.blocking``."""
    return QcFlag(code, reason, BLOCKING if code in settings.blocking else WARNING)


# ---- rules ---------------------------------------------------------------------------------
def head_fit_flag(head: HeadFinding, settings: QcSettings) -> QcFlag | None:
    """``head_fit_poor`` when the sphere fit's boundary fraction or residual misses its floor."""
    problems = []
    if head.fit_quality < settings.head.min_boundary_fraction:
        problems.append(f"cortical boundary on {head.fit_quality:.0%} of rays "
                        f"(< {settings.head.min_boundary_fraction:.0%})")
    if head.fit_residual_mm > settings.head.max_fit_residual_mm:
        problems.append(f"fit residual {head.fit_residual_mm:.2f} mm "
                        f"(> {settings.head.max_fit_residual_mm:g} mm)")
    if not problems:
        return None
    return make_flag("head_fit_poor", "femoral head sphere fit unreliable: " + ", ".join(problems),
                     settings)


def network_flag(head: HeadFinding, settings: QcSettings) -> QcFlag | None:
    """``head_network_disagrees`` (learned segmenter) when the sphere fit seeded at the
    network's head lies more than ``head.max_network_offset_mm`` from the network's centre."""
    offset = head.network_offset_mm
    if offset is None or offset <= settings.head.max_network_offset_mm:
        return None
    return make_flag("head_network_disagrees",
                     f"the sphere fit lies {offset:.1f} mm from the network's head centre "
                     f"(> {settings.head.max_network_offset_mm:g} mm): head position uncertain", settings)


def head_outside_fov_fraction(geometry: Geometry, head: HeadFinding, step_mm: float = 1.0) -> float:
    """Fraction (0-1) of the head proper (sphere on the articular side of the junction plane,
    LPS mm) lying outside the imaged volume (voxel centres +/- half a voxel)."""
    r = head.radius_mm
    axis = np.arange(-r + step_mm / 2, r, step_mm)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    inside_sphere = np.linalg.norm(grid, axis=1) <= r
    articular = grid @ np.asarray(head.neck_axis_lps) <= head.junction_distance_mm
    points = grid[inside_sphere & articular] + np.asarray(head.center_lps_mm)
    if points.shape[0] == 0:
        return 0.0
    idx = geometry.lps_to_index(points)
    shape = np.asarray(geometry.shape, dtype=np.float64)
    imaged = np.all((idx >= -0.5) & (idx <= shape - 0.5), axis=1)
    return float(1.0 - imaged.mean())


def head_fov_flag(geometry: Geometry, head: HeadFinding, settings: QcSettings) -> tuple[QcFlag | None, float]:
    """``head_cut_by_fov`` when too much of the head lies outside the field,
    ``head_partly_outside_fov`` (warning level) when a little does; and the fraction."""
    fraction = head_outside_fov_fraction(geometry, head)
    volume_ml = 4.0 / 3.0 * np.pi * head.radius_mm ** 3 / 1000.0
    if fraction > settings.head.max_outside_fov_fraction:
        return make_flag("head_cut_by_fov",
                         f"{fraction:.0%} of the femoral head (~{fraction * volume_ml:.1f} ml) lies "
                         f"outside the imaged volume (> {settings.head.max_outside_fov_fraction:.0%}): "
                         "lesions there are not seen", settings), fraction
    if fraction > settings.head.warn_outside_fov_fraction:
        return make_flag("head_partly_outside_fov",
                         f"{fraction:.0%} of the femoral head (~{fraction * volume_ml:.1f} ml) lies "
                         f"outside the imaged volume (> {settings.head.warn_outside_fov_fraction:.0%}): "
                         "its volumes are slightly low", settings), fraction
    return None, fraction


def _shell_box(geometry: Geometry, head: HeadFinding, outer_mm: float):
    c = np.asarray(head.center_lps_mm)
    reach = head.radius_mm + outer_mm
    corners = np.array([c + np.array([dx, dy, dz]) for dx in (-reach, reach)
                        for dy in (-reach, reach) for dz in (-reach, reach)])
    idx = geometry.lps_to_index(corners)
    lo = np.clip(np.floor(idx.min(0)).astype(int), 0, np.array(geometry.shape))
    hi = np.clip(np.ceil(idx.max(0)).astype(int) + 1, 0, np.array(geometry.shape))
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))


def surrounding_tissue(image: Volume, head: HeadFinding, settings: QcSettings) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Soft-tissue voxels (bool mask in a box) of the shell around the head, the smoothed box
    image (1 mm Gaussian, as the reference) and the box slices."""
    ref = settings.reference
    geometry = image.geometry
    box = _shell_box(geometry, head, ref.surround_outer_mm)
    sub = image.array[box]
    if sub.size == 0:
        return np.zeros(sub.shape, bool), sub.astype(np.float32), box
    ii, jj, kk = np.meshgrid(*[np.arange(s.start, s.stop) for s in box], indexing="ij")
    xyz = geometry.index_to_lps(np.stack([ii, jj, kk], -1).astype(np.float64))
    radial = np.linalg.norm(xyz - np.asarray(head.center_lps_mm), axis=-1)
    shell = (radial >= head.radius_mm + ref.surround_inner_mm) & (radial <= head.radius_mm + ref.surround_outer_mm)
    smoothed = smooth_image(sub, geometry.spacing_mm, 1.0)
    if not shell.any():
        return shell, smoothed, box
    floor = ref.tissue_floor_fraction * float(np.percentile(smoothed[shell], 99))
    return shell & (smoothed > floor), smoothed, box


def muscle_level(values: np.ndarray, bins: int) -> float | None:
    """The level (image units) of the highest peak of the histogram of the log of soft-tissue
    intensities: the median of the voxels under that peak down to half its height.

    Log, because a coil's bias field multiplies every tissue: on a linear scale it spreads a
    bright tissue's peak in proportion to its level, and a darker but smaller class (suppressed
    fat, pelvic bone marrow) then stands higher than muscle (stress seed 210: a muscle level of
    89 against 227 on the other side, a false ``reference_implausible``). On a log scale the
    bias spreads every tissue alike, and the highest peak is the class with the most voxels.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[values > 0]
    if values.size < 50:
        return None
    logs = np.log(values)
    lo, hi = np.percentile(logs, [1, 99])
    if hi <= lo:
        return float(np.median(values))
    hist, edges = np.histogram(logs, bins=bins, range=(lo, hi))
    smooth = ndimage.gaussian_filter1d(hist.astype(np.float64), 1.5)
    peak = int(np.argmax(smooth))
    # the class's level: the median of the voxels under its peak down to half its height (a
    # bias field flattens a peak's top, where the highest bin is anywhere)
    runs, _ = ndimage.label(smooth >= 0.5 * smooth[peak])
    bins_under = np.flatnonzero(runs == runs[peak])
    under = logs[(logs >= edges[bins_under[0]]) & (logs <= edges[bins_under[-1] + 1])]
    return float(np.exp(np.median(under)))


def noise_sd(array: np.ndarray, mask: np.ndarray) -> float | None:
    """Noise standard deviation (image units) from in-plane Laplacian differences
    (Immerkaer 1996: the 3x3 operator's response to white noise has sd 6 x sigma), robust
    (median absolute response / 0.6745) over ``mask``; None with too few voxels."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)[:, :, None]
    response = ndimage.convolve(np.asarray(array, dtype=np.float64), kernel, mode="nearest")
    values = np.abs(response[mask])
    if values.size < 50:
        return None
    return float(np.median(values) / 0.6745 / 6.0)


def reference_flags(image: Volume, head: HeadFinding, other: HeadFinding | None,
                    settings: QcSettings, surround: tuple | None = None
                    ) -> tuple[list[QcFlag], dict[str, float | None]]:
    """Reference-marrow plausibility, sides' agreement and signal-to-noise of one hip;
    ``surround``: :func:`surrounding_tissue` of this head, when already computed."""
    flags: list[QcFlag] = []
    ref_settings = settings.reference
    reference = head.reference
    tissue, smoothed, box = surround if surround is not None else surrounding_tissue(image, head, settings)
    muscle = muscle_level(smoothed[tissue], ref_settings.histogram_bins) if tissue.any() else None
    measures: dict[str, float | None] = {"muscle_level": muscle}
    if reference is None:
        flags.append(make_flag("reference_implausible", "no normal-marrow reference found", settings))
        return flags, measures
    measures["reference_median"] = reference.median
    measures["reference_n_voxels"] = float(reference.n_voxels)
    ratio = reference.median / muscle if muscle and muscle > 0 else None
    measures["marrow_muscle_ratio"] = ratio
    if ratio is not None and ratio >= ref_settings.max_marrow_muscle_ratio:
        flags.append(make_flag(
            "reference_implausible",
            f"normal marrow ({reference.median:.4g}) is not darker than muscle ({muscle:.4g}; ratio "
            f"{ratio:.2f} >= {ref_settings.max_marrow_muscle_ratio:g}): fat suppression failed, "
            "edema cannot be told from marrow", settings))
    if reference.n_voxels < ref_settings.min_voxels:
        flags.append(make_flag(
            "reference_implausible",
            f"normal-marrow reference from {reference.n_voxels} voxels (< {ref_settings.min_voxels})",
            settings))
    own = head.own_reference
    if own is None or own is not reference:
        flags.append(make_flag("reference_borrowed",
                               f"too little normal-looking marrow on this side; reference taken from "
                               f"{reference.description}", settings))
        lender_fit = (None if other is None or other.own_reference is not reference
                      else head_fit_flag(other, settings))
        if lender_fit is not None:
            # a reference is evidence; from a hip whose head was not found reliably it is marrow
            # of an unknown place (qc seed 6, failed fat suppression: the lender's oversized
            # sphere took its reference from the cortex rim, and this side, all bright, was
            # measured as 80 ml of edema against it)
            flags.append(make_flag(
                "reference_implausible",
                f"the reference was borrowed from the other hip, whose head fit failed QC "
                f"({lender_fit.reason}); this side's own marrow level is "
                + (f"{own.median:.4g}" if own is not None else "unknown"), settings))
    other_own = None if other is None else other.own_reference
    if own is not None and other_own is not None and min(own.median, other_own.median) > 0:
        side_ratio = max(own.median, other_own.median) / min(own.median, other_own.median)
        measures["side_reference_ratio"] = side_ratio
        if side_ratio > ref_settings.side_ratio_warn and own.median > other_own.median:
            flags.append(make_flag(
                "reference_sides_disagree",
                f"this side's own marrow reference is {side_ratio:.2f} x the other side's "
                f"(> {ref_settings.side_ratio_warn:g}): diffuse edema or a misread side; the darker "
                "reference was used", settings))
    geometry = image.geometry
    in_head = np.zeros(tissue.shape, bool)
    if tissue.size:
        ii, jj, kk = np.meshgrid(*[np.arange(s.start, s.stop) for s in box], indexing="ij")
        xyz = geometry.index_to_lps(np.stack([ii, jj, kk], -1).astype(np.float64))
        in_head = np.linalg.norm(xyz - np.asarray(head.center_lps_mm), axis=-1) <= head.radius_mm
    sigma = noise_sd(image.array[box], tissue | in_head) if tissue.size else None
    measures["noise_sd"] = sigma
    snr = muscle / sigma if muscle and sigma and sigma > 0 else None
    measures["snr"] = snr
    if snr is not None and snr < settings.noise.min_snr:
        flags.append(make_flag("low_snr", f"signal-to-noise {snr:.1f} (muscle / noise sd) "
                                          f"< {settings.noise.min_snr:g}", settings))
    return flags, measures


def t1_rank_correlation(image: Volume, t1: Volume, max_voxels: int) -> float | None:
    """Spearman rank correlation of ``image`` (the analysed STIR / T2 fat-sat) with ``t1``
    (resampled onto ``image``'s grid, world coordinates) over the body: voxels inside the T1's
    field where either image shows tissue (above 10% of its 99th percentile), both smoothed
    by 1.5 mm (voxel noise), at most ``max_voxels`` of them evenly spread. None when fewer than
    1000 voxels qualify or the T1 cannot be resampled.

    Fat suppression makes fat the darkest tissue where the T1 shows it brightest, so the two
    are anti-correlated; when it fails, fat is bright in both."""
    from scipy.stats import spearmanr

    from bme_mri.segment.resample import resample_onto

    try:
        t1_on_grid = resample_onto(t1, image.geometry)
    except Exception:  # noqa: BLE001 - a T1 that cannot be resampled gives no evidence either way
        return None
    spacing = image.geometry.spacing_mm
    a = smooth_image(np.asarray(image.array, dtype=np.float32), spacing, 1.5)
    b = smooth_image(t1_on_grid, spacing, 1.5)
    body = (t1_on_grid > 0) & ((a > 0.1 * np.percentile(a, 99)) | (b > 0.1 * np.percentile(b, 99)))
    index = np.flatnonzero(body.ravel())
    if index.size < 1000:
        return None
    index = index[:: max(1, index.size // max(1, max_voxels))]
    rho = spearmanr(a.ravel()[index], b.ravel()[index]).correlation
    return None if not np.isfinite(rho) else float(rho)


def fat_suppression_flag(rho: float | None, settings: QcSettings) -> QcFlag | None:
    """``reference_implausible`` when the T1 rank correlation says fat is not suppressed."""
    if rho is None or rho <= settings.reference.max_t1_rank_correlation:
        return None
    return make_flag("reference_implausible",
                     f"fat suppression failed: the analysed series rises with the T1 across the body's "
                     f"tissues (rank correlation {rho:+.2f} > {settings.reference.max_t1_rank_correlation:+.2f}; "
                     "with fat suppressed, fat is dark where the T1 shows it bright): bright fatty marrow "
                     "would read as edema", settings)


def not_fat_suppressed_flag(marrow: float | None, classes: Any, fat: float | None, muscle: float | None,
                            settings: QcSettings, no_fat_why: str = "", t1_rho: float | None = None,
                            headers_say: str = "") -> tuple[QcFlag | None, dict[str, float | None]]:
    """Fat suppression of one hip from the image's own levels (image units): the bulk of the
    head's marrow (``marrow``), the two classes of the soft tissue around it (``classes``:
    :class:`~bme_mri.quantify.fat_suppression.SoftTissueClasses`), the subcutaneous fat
    (``fat``; None when no layer was found, ``no_fat_why`` says why) and the muscle level
    (``muscle``, :func:`muscle_level`); the study's T1 rank correlation (``t1_rho``, None
    without a T1) and what the series' headers say (``headers_say``: why they reliably show no
    fat suppression, '' when they do not, see
    :func:`bme_mri.ingest.classify.no_fat_suppression_evidence`). Returns a flag (or None) and
    the measures.

    ``not_fat_suppressed`` (blocking) only on positive evidence that fat is bright: the headers
    say so, or the head's marrow lies on the bright side of the split between the soft-tissue
    classes *and* the subcutaneous fat is brighter than muscle by ``min_fat_muscle_ratio`` (fat
    is the dark class under fat suppression, brighter than muscle on a T1, T2 or PD; and on
    the bright side of the split). Marrow on
    the dark side shows the suppression itself. Bright marrow under fat darker than muscle and
    than the split is edema on a fat-suppressed series. Bright marrow with no layer in view (a small field around
    one hip), or a layer between muscle and that ratio (fat darker than the noise floor merges
    with the air and the layer is muscle; or fat partly suppressed), cannot be told from fatty
    marrow: ``fat_suppression_unverified`` (a warning; the figures stand) unless the study's T1
    shows fat suppressed (``t1_rho`` at most ``reference.max_t1_rank_correlation``; above it
    :func:`fat_suppression_flag` blocks)."""
    split = None if classes is None else classes.split
    fs = settings.fat_suppression
    measures = {
        "marrow_interior_level": marrow, "subcutaneous_fat_level": fat,
        "soft_tissue_dark_level": None if classes is None else classes.dark,
        "soft_tissue_bright_level": None if classes is None else classes.bright,
        "soft_tissue_split": split,
        "marrow_interior_muscle_ratio": marrow / muscle if marrow is not None and muscle else None,
        "fat_muscle_ratio": fat / muscle if fat is not None and muscle else None,
        "marrow_fat_ratio": marrow / fat if marrow is not None and fat else None,
        "marrow_split_ratio": marrow / split if marrow is not None and split else None,
        "fat_split_ratio": fat / split if fat is not None and split else None,
    }
    consequence = "so fatty marrow would be read as edema"
    if headers_say:
        return make_flag("not_fat_suppressed",
                         f"the series' headers say fat is not suppressed ({headers_say}): a T1, T2 or PD "
                         f"without fat saturation, whatever it was called; {consequence}", settings), measures
    if marrow is None or not split or marrow < split:
        return None, measures  # dark marrow (or no evidence): the suppression shows on the marrow itself
    marrow_text = (f"the femoral head's marrow ({marrow:.4g}, median of its interior) is on the bright side of "
                   f"the soft tissue around the head (split {split:.4g} between its classes {classes.dark:.4g} "
                   f"and {classes.bright:.4g})")
    ratio = measures["fat_muscle_ratio"]
    if ratio is not None and ratio >= fs.min_fat_muscle_ratio and fat >= split:
        t1_text = ("" if t1_rho is None or t1_rho > settings.reference.max_t1_rank_correlation else
                   f" (the study's T1 does not show it: rank correlation {t1_rho:+.2f}; review the image)")
        return make_flag("not_fat_suppressed",
                         f"the subcutaneous fat ({fat:.4g}) is {ratio:.2f} x muscle ({muscle:.4g}; >= "
                         f"{fs.min_fat_muscle_ratio:g}: fat is bright) and {marrow_text}: fat is not suppressed on "
                         f"this series (a T1, T2 or PD, or a failed suppression){t1_text}; {consequence}",
                         settings), measures
    if ratio is not None and ratio < 1.0 and fat < split:
        return None, measures  # bright marrow under fat darker than muscle and the split: edema under suppressed fat
    if t1_rho is not None:
        return None, measures  # the T1 tells: suppressed, or fat_suppression_flag blocks
    if ratio is None:
        why = no_fat_why or "no subcutaneous fat layer or no muscle level measured"
    else:
        why = (f"the layer under the skin ({fat:.4g}) is {ratio:.2f} x muscle ({muscle:.4g}) and "
               f"{fat / split:.2f} x the split, neither darker than both (fat suppressed) nor >= "
               f"{fs.min_fat_muscle_ratio:g} x muscle (fat bright): fat darker than the noise floor merges with "
               "the air and leaves muscle under the skin, fat may be partly suppressed, or the muscle level is "
               "another tissue")
    return make_flag("fat_suppression_unverified",
                     f"could not verify fat suppression: {why}; {marrow_text}, which is diffuse edema if fat is "
                     "suppressed and fatty marrow if not (no T1 in the study to tell): review the image",
                     settings), measures


def assess_hips(image: Volume, segmentation: Segmentation, settings: QcSettings,
                t1: Volume | None = None, headers_say_no_fat_suppression: str = "") -> list[HipQc]:
    """One :class:`HipQc` per head of ``segmentation`` (same order), on ``image``'s grid;
    the fat-suppression check on the image (:func:`not_fat_suppressed_flag`), with the
    study's ``t1`` from the T1 (:func:`t1_rank_correlation`) too, and from the analysed
    series' headers (``headers_say_no_fat_suppression``: why they reliably show no fat
    suppression, '' when they do not)."""
    from bme_mri.quantify.fat_suppression import head_interior, soft_tissue_classes, subcutaneous_fat

    rho = None if t1 is None or not segmentation.heads else t1_rank_correlation(
        image, t1, settings.reference.t1_correlation_voxels)
    fat_flag = fat_suppression_flag(rho, settings)
    fs = settings.fat_suppression
    fat = subcutaneous_fat(image, tuple(fs.fat_depth_mm), fs.fat_grid_mm, fs.min_fat_ml, fs.fat_face_margin_mm,
                           fs.fat_noise_multiple) if segmentation.heads else None
    out = []
    for head in segmentation.heads:
        other = next((h for h in segmentation.heads if h is not head), None)
        qc = HipQc(Side(head.side))
        qc.measures["fit_boundary_fraction"] = float(head.fit_quality)
        qc.measures["fit_residual_mm"] = float(head.fit_residual_mm)
        fit = head_fit_flag(head, settings)
        if fit is not None:
            qc.flags.append(fit)
        if head.network_offset_mm is not None:
            qc.measures["network_offset_mm"] = float(head.network_offset_mm)
            agree = network_flag(head, settings)
            if agree is not None:
                qc.flags.append(agree)
        fov, fraction = head_fov_flag(image.geometry, head, settings)
        qc.measures["outside_fov_fraction"] = fraction
        if fov is not None:
            qc.flags.append(fov)
        surround = surrounding_tissue(image, head, settings)
        flags, measures = reference_flags(image, head, other, settings, surround)
        qc.flags.extend(flags)
        qc.measures.update(measures)
        interior = head_interior(image, head, fs.marrow_core_fraction, fs.marrow_min_depth_mm,
                                 fs.min_marrow_voxels)
        tissue, smoothed, _ = surround
        classes = soft_tissue_classes(smoothed[tissue], 2 * settings.reference.histogram_bins)
        suppressed, levels = not_fat_suppressed_flag(interior.level, classes,
                                                     None if fat is None else fat.level,
                                                     qc.measures.get("muscle_level"), settings,
                                                     no_fat_why=_no_fat_why(fat, fs.min_fat_ml), t1_rho=rho,
                                                     headers_say=headers_say_no_fat_suppression)
        qc.measures.update(levels)
        qc.measures["subcutaneous_fat_ml"] = None if fat is None else fat.volume_ml
        if suppressed is not None:
            qc.flags.append(suppressed)
        if rho is not None:
            qc.measures["t1_rank_correlation"] = rho
        if fat_flag is not None:  # one reference_implausible per hip, its reasons joined
            same = [i for i, f in enumerate(qc.flags) if f.code == fat_flag.code]
            if same:
                first = qc.flags[same[0]]
                qc.flags[same[0]] = replace(first, reason=f"{first.reason}; {fat_flag.reason}")
            else:
                qc.flags.append(fat_flag)
        out.append(qc)
    return out


def _no_fat_why(fat: Any, min_ml: float) -> str:
    """Why no subcutaneous layer was measured, for a reason ('' when one was)."""
    if fat is None or fat.level is not None:
        return ""
    return (f"no skin in the field of view (the layer under it holds {fat.volume_ml:.1f} ml < {min_ml:g} ml: "
            "the body runs out of the field, as in a small field around one hip)")


def blocking_reasons(flags: list[QcFlag] | tuple[QcFlag, ...], visit: str = "") -> list[str]:
    """'code (visit): reason' of every blocking flag, for a status reason."""
    where = f" at {visit}" if visit else ""
    return [f"{f.code}{where}: {f.reason}" for f in blocking_flags(flags)]
