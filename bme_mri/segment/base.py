"""What every segmenter returns, and how one is chosen from the configuration.

A :class:`Segmenter` turns the analysed image (STIR or T2 fat-sat), optionally with the
study's T1, into a :class:`Segmentation` on the analysed image's voxel grid. The classical
segmenter is the only one today; a learned one only needs to implement ``segment``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from bme_mri.segment.settings import SegmentSettings
from bme_mri.types import Geometry, Side, Volume


@dataclass(frozen=True)
class ReferenceMarrow:
    """The patient's normal marrow, against which edema is judged.

    Attributes
    ----------
    description : where the reference voxels come from (region and side).
    n_voxels : number of reference voxels.
    median, mad, p95 : intensity statistics of the reference voxels (image units);
        ``mad`` is the raw median absolute deviation (not scaled).
    robust_sd : robust standard deviation used by the thresholds (image units).
    edema_threshold : the base edema threshold, median + k x robust_sd (image units); the
        threshold applied per side (``HeadFinding.edema_threshold``) may be higher.
    """

    description: str
    n_voxels: int
    median: float
    mad: float
    p95: float
    robust_sd: float
    edema_threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "n_voxels": int(self.n_voxels),
            "median": float(self.median),
            "mad": float(self.mad),
            "p95": float(self.p95),
            "robust_sd": float(self.robust_sd),
            "edema_threshold": float(self.edema_threshold),
        }


@dataclass
class HeadFinding:
    """One femoral head found in the image.

    Attributes
    ----------
    side : the patient's side (left = larger LPS x).
    center_lps_mm : centre of the best-fit sphere, LPS mm.
    radius_mm : radius of the best-fit sphere (outer cortical surface), mm.
    neck_axis_lps : unit vector from the head centre along the femoral neck, LPS.
    junction_distance_mm : distance from the centre to the head-neck junction plane along
        the neck axis (mm); the head proper lies on the articular side of that plane.
    neck_radius_mm : radius of the neck where it meets the head (mm).
    fit_quality : fraction of rays with a consistent cortical boundary (0-1).
    fit_residual_mm : robust RMS distance of boundary points to the sphere (mm).
    edema_threshold : edema threshold applied on this side (image units).
    reference : the reference marrow used on this side.
    notes : free-text remarks (fallbacks taken, ...).
    own_reference : this side's own reference before any fallback to the other side's
        (None when it found none); for quality control.
    network_offset_mm : learned segmenter only: distance (mm) between the network's head
        centre and the sphere fit seeded from it; None for the classical segmenter.
    """

    side: Side
    center_lps_mm: tuple[float, float, float]
    radius_mm: float
    neck_axis_lps: tuple[float, float, float]
    junction_distance_mm: float
    neck_radius_mm: float
    fit_quality: float
    fit_residual_mm: float
    edema_threshold: float = float("nan")
    reference: ReferenceMarrow | None = None
    notes: list[str] = field(default_factory=list)
    own_reference: ReferenceMarrow | None = None
    network_offset_mm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side.value,
            "center_lps_mm": [float(v) for v in self.center_lps_mm],
            "radius_mm": float(self.radius_mm),
            "neck_axis_lps": [float(v) for v in self.neck_axis_lps],
            "junction_distance_mm": float(self.junction_distance_mm),
            "neck_radius_mm": float(self.neck_radius_mm),
            "fit_quality": float(self.fit_quality),
            "fit_residual_mm": float(self.fit_residual_mm),
            "edema_threshold": float(self.edema_threshold),
            "reference": None if self.reference is None else self.reference.to_dict(),
            "notes": list(self.notes),
            "own_reference": None if self.own_reference is None else self.own_reference.to_dict(),
            "network_offset_mm": None if self.network_offset_mm is None else float(self.network_offset_mm),
        }


@dataclass
class Segmentation:
    """Result of segmenting one study, on the analysed image's voxel grid.

    Attributes
    ----------
    labels : uint8 ``[i, j, k]`` label map (:class:`bme_mri.types.Label` values: 0 background,
        1 femoral head marrow non-edematous, 2 edema, 3 necrosis); 1-3 together are the
        femoral head proper of every side found.
    geometry : the grid of ``labels`` (the analysed image's geometry).
    heads : one :class:`HeadFinding` per femoral head found.
    edema_headneck : bool ``[i, j, k]``, edema in head and neck (including outside the head
        proper), for ``edema_headneck_ml``.
    reference : the study-level reference marrow (the one reported).
    warnings : human-readable warnings for the study JSON.
    timings_s : seconds per step.
    missing_heads : sides without a head whose head should lie in the field of view
        (:class:`bme_mri.segment.missing.MissingHead`): they get a row saying so.
    ranges_ml : per side, ``{"edema": (low, high), "necrosis": (low, high)}`` inside the head
        proper (ml; :mod:`bme_mri.segment.ranges`).
    """

    labels: np.ndarray
    geometry: Geometry
    heads: list[HeadFinding]
    edema_headneck: np.ndarray
    reference: ReferenceMarrow | None
    warnings: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    missing_heads: list[Any] = field(default_factory=list)
    ranges_ml: dict[Side, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def nearest_head(self, mask: np.ndarray) -> np.ndarray:
        """For the True voxels of ``mask`` (C order), the index into ``heads`` of the
        nearest head centre (int array); empty when there is no head."""
        idx = np.argwhere(mask)
        if not self.heads or idx.size == 0:
            return np.zeros(0, dtype=np.int64)
        xyz = self.geometry.index_to_lps(idx)
        centres = np.array([h.center_lps_mm for h in self.heads])
        dist = np.linalg.norm(xyz[:, None, :] - centres[None, :, :], axis=-1)
        return np.argmin(dist, axis=1)


class Segmenter(Protocol):
    """Anything that segments femoral heads, edema and necrosis."""

    def segment(self, image: Volume, t1: Volume | None = None) -> Segmentation:
        """Segment ``image`` (STIR / T2 fat-sat); ``t1`` (any grid of the same study) may help."""
        ...


def get_segmenter(settings: SegmentSettings) -> Segmenter:
    """The segmenter named by ``settings.method``."""
    if settings.method == "classical":
        from bme_mri.segment.classical import ClassicalSegmenter

        return ClassicalSegmenter(settings)
    if settings.method == "learned":
        from bme_mri.segment.learned import LearnedSegmenter

        return LearnedSegmenter(settings)
    raise ValueError(f"unknown segment.method {settings.method!r}")
