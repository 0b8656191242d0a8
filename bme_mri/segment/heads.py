"""Femoral-head locations on any MR volume, as one small record per head.

:class:`HeadLocation` is what ``bme-mri heads`` reports, whichever method found the head.
:func:`find_heads_classical` runs the classical segmenter's localisation (radial-symmetry
vote, cortical-shell sphere fit, one head per side) on any volume: only the localisation, not
the edema labelling, so it works on series that are not edema-sensitive (T1, T2, PD, diffusion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bme_mri.segment.settings import SegmentSettings
from bme_mri.types import Volume


@dataclass
class HeadLocation:
    """One femoral head found in a volume.

    Attributes
    ----------
    side : 'left' or 'right' (the patient's; left = larger LPS x).
    center_lps_mm : head centre, LPS mm.
    radius_mm : head radius, mm (classical: fitted sphere; learned: the sphere with the
        found region's volume).
    confidence : 0-1 (classical: fraction of rays that found the cortical shell; learned:
        mean head probability inside the found region).
    method : 'classical' or 'learned'.
    volume_ml : volume of the found head region (learned), or of the fitted sphere (classical).
    flags : QC remarks (side decided by the midline, cut by the field of view, ...).
    fit_quality, fit_residual_mm : the sphere fit's boundary fraction (0-1) and robust RMS
        scatter of its boundary points (mm); None when no sphere fit measured the head.
    """

    side: str
    center_lps_mm: tuple[float, float, float]
    radius_mm: float
    confidence: float
    method: str
    volume_ml: float
    flags: list[str] = field(default_factory=list)
    fit_quality: float | None = None
    fit_residual_mm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "center_lps_mm": [round(float(v), 2) for v in self.center_lps_mm],
                "radius_mm": round(float(self.radius_mm), 2), "confidence": round(float(self.confidence), 3),
                "method": self.method, "volume_ml": round(float(self.volume_ml), 2),
                "flags": list(self.flags),
                "fit_quality": None if self.fit_quality is None else round(float(self.fit_quality), 3),
                "fit_residual_mm": None if self.fit_residual_mm is None else round(float(self.fit_residual_mm), 2)}


@dataclass
class HeadSearch:
    """What the classical search saw: the heads (at most one per side) and the body midline it
    judged them by (LPS x, mm; None without a body) with how it was judged."""

    heads: list[HeadLocation]
    midline_x_mm: float | None = None
    midline_how: str = ""


def find_heads_classical(volume: Volume, settings: SegmentSettings) -> list[HeadLocation]:
    """Femoral heads of ``volume`` by the classical sphere search (at most one per side); no
    head found is an empty list. See :func:`search_heads_classical`."""
    return search_heads_classical(volume, settings).heads


def search_heads_classical(volume: Volume, settings: SegmentSettings) -> HeadSearch:
    """Femoral heads of ``volume`` by the classical sphere search, with the body midline.

    Uses :class:`~bme_mri.segment.classical.ClassicalSegmenter`'s localisation steps unchanged
    (working grid, vote, shell fit, refit on the volume's own grid, plausible radius, side
    assignment).
    """
    import numpy as np

    from bme_mri.segment.classical import ClassicalSegmenter

    segmenter = ClassicalSegmenter(settings)
    warnings: list[str] = []
    work_geom, work, vote_image, body = segmenter._working_image(volume, None, warnings)
    if not body.any():
        return HeadSearch([])
    sides = segmenter._locate(volume, work_geom, work, vote_image, body, warnings)
    heads = []
    for side, fit in sorted(sides.items(), key=lambda kv: kv[0].value):
        heads.append(HeadLocation(
            side=side.value, center_lps_mm=tuple(float(v) for v in fit.center_mm),
            radius_mm=float(fit.radius_mm), confidence=float(fit.quality), method="classical",
            volume_ml=float(4.0 / 3.0 * np.pi * fit.radius_mm ** 3 / 1000.0), flags=list(warnings),
            fit_quality=float(fit.quality), fit_residual_mm=float(fit.residual_mm)))
    midline, how = segmenter._midline_x(body, work_geom, [])
    return HeadSearch(heads, float(midline), how)
