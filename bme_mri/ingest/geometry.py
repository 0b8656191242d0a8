"""Assemble slice headers into one regular grid (LPS), or refuse with a one-line reason.

Slices are sorted by their position along the slice normal ``row x column`` (never by file
name or InstanceNumber). Works from headers alone, so inspection can check every stack
without reading pixel data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from bme_mri.errors import GeometryError
from bme_mri.ingest.models import SliceHeader
from bme_mri.ingest.settings import IngestSettings
from bme_mri.types import Geometry


@dataclass
class Assembly:
    """A grid and the slice headers in k order (index k = ``ordered[k]``)."""

    geometry: Geometry
    ordered: list[SliceHeader]
    warnings: list[str] = field(default_factory=list)


def orientation_of(iop: tuple[float, ...], oblique_tolerance_deg: float) -> str:
    """'axial' | 'coronal' | 'sagittal' | 'oblique' from ImageOrientationPatient."""
    row, col = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    if norm == 0.0:
        return "oblique"
    normal = normal / norm
    axis = int(np.argmax(np.abs(normal)))
    angle = np.degrees(np.arccos(min(1.0, abs(float(normal[axis])))))
    if angle > oblique_tolerance_deg:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _where(s: SliceHeader) -> str:
    return s.path.name if s.frame is None else f"{s.path.name} frame {s.frame + 1}"


def _counted(labels: list[str]) -> str:
    return " and ".join(f"{name} ({n} slice{'s' if n != 1 else ''})" for name, n in Counter(labels).most_common())


def assemble_geometry(slices: list[SliceHeader], label: str, settings: IngestSettings,
                      fallback_spacing_mm: float | None = None) -> Assembly:
    """Sort ``slices`` along the normal and build their :class:`Geometry`.

    Parameters
    ----------
    slices : headers of one stack (any order).
    label : 'series <uid> (<description>)', the start of every error message.
    settings : ingest settings (tolerances in ``geometry``; ``strict``).
    fallback_spacing_mm : slice spacing for a single-slice stack (SpacingBetweenSlices or
        SliceThickness), mm.

    Raises
    ------
    GeometryError
        One line naming the series, saying what is wrong and where.
    """
    tol = settings.geometry
    warnings: list[str] = []
    if not slices:
        raise GeometryError(f"{label}: no slices")
    for s in slices:
        if s.position_lps_mm is None:
            raise GeometryError(f"{label}: slice {_where(s)} has no ImagePositionPatient — it cannot be "
                                "placed in space; re-export the series with full headers")
        if s.orientation is None:
            raise GeometryError(f"{label}: slice {_where(s)} has no ImageOrientationPatient — re-export "
                                "the series with full headers")
    sizes = [f"{s.columns}x{s.rows}" for s in slices]
    if len(set(sizes)) > 1:
        raise GeometryError(f"{label}: inconsistent image size: {_counted(sizes)} in one series — "
                            "split or re-export the series")
    reference = np.asarray(slices[0].orientation, float)
    iops = np.asarray([s.orientation for s in slices], float)
    if np.max(np.abs(iops - reference)) > tol.orientation_tolerance:
        names = [orientation_of(s.orientation, tol.oblique_tolerance_deg) for s in slices]
        if len(set(names)) == 1:
            names = [f"{names[0]} {np.round(s.orientation, 3).tolist()}" for s in slices]
        raise GeometryError(f"{label}: mixes orientations: {_counted(names)} in one series — "
                            "not one 3-D stack; re-export the series or pick another")
    row = reference[:3] / np.linalg.norm(reference[:3])
    col = reference[3:] / np.linalg.norm(reference[3:])
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal)

    spacings = [s.pixel_spacing_mm for s in slices if s.pixel_spacing_mm is not None]
    if len(spacings) < len(slices):
        if settings.strict or not spacings:
            raise GeometryError(f"{label}: {len(slices) - len(spacings)} slice(s) without PixelSpacing — "
                                "voxel size unknown; re-export the series")
        warnings.append(f"{len(slices) - len(spacings)} slice(s) without PixelSpacing; used the others'")
    spacing_arr = np.asarray(spacings, float)
    if np.max(np.abs(spacing_arr - spacing_arr[0])) > tol.pixel_spacing_tolerance_mm:
        raise GeometryError(f"{label}: PixelSpacing differs between slices "
                            f"({spacing_arr.min(axis=0).tolist()} to {spacing_arr.max(axis=0).tolist()} mm)")
    row_spacing, col_spacing = (float(v) for v in spacing_arr[0])
    if row_spacing <= 0 or col_spacing <= 0:
        raise GeometryError(f"{label}: PixelSpacing {row_spacing}/{col_spacing} mm is not positive")

    positions = np.asarray([s.position_lps_mm for s in slices], float)
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    along = along[order]
    positions = positions[order]
    ordered = [slices[i] for i in order]
    steps = np.diff(along)
    duplicate = np.nonzero(steps <= tol.duplicate_position_tolerance_mm)[0]
    if duplicate.size:
        i = int(duplicate[0])
        raise GeometryError(
            f"{label}: two slices at the same position {along[i]:.1f} mm along the slice normal "
            f"({_where(ordered[i])}, {_where(ordered[i + 1])}) — repeated or multi-echo images in one "
            "series; re-export or split the series")
    offsets = positions - positions[0] - np.outer(along - along[0], normal)
    off = np.linalg.norm(offsets, axis=1)
    if off.size and float(off.max()) > tol.in_plane_offset_tolerance_mm:
        i = int(np.argmax(off))
        raise GeometryError(
            f"{label}: slice {_where(ordered[i])} is shifted {off[i]:.2f} mm in-plane from the stack axis "
            "(gantry tilt or sheared stack) — not a regular grid; re-export without tilt")
    if steps.size:
        expected = float(np.median(steps))
        bad = np.nonzero(np.abs(steps - expected) > expected * tol.slice_gap_tolerance_pct / 100.0)[0]
        if bad.size:
            i = int(bad[0])
            if steps[i] > expected:
                missing = max(1, int(round(steps[i] / expected)) - 1)
                what = "a slice is missing" if missing == 1 else f"{missing} slices are missing"
            else:
                what = "non-uniform slice spacing"
            raise GeometryError(
                f"{label}: slice gap {steps[i]:.1f} mm between position {along[i]:.1f} and "
                f"{along[i + 1]:.1f} mm, expected {expected:.1f} mm — {what}; re-export the series")
        spacing_k = float((along[-1] - along[0]) / (len(along) - 1))
    else:
        spacing_k = float(fallback_spacing_mm) if fallback_spacing_mm and fallback_spacing_mm > 0 else 1.0
        if not fallback_spacing_mm:
            warnings.append("single slice without SliceThickness; slice spacing set to 1 mm")
    direction = np.column_stack([row, col, normal])
    geometry = Geometry(
        shape=(ordered[0].columns, ordered[0].rows, len(ordered)),
        spacing_mm=(col_spacing, row_spacing, spacing_k),
        origin_lps_mm=tuple(positions[0]),
        direction_lps=direction,
    )
    return Assembly(geometry, ordered, warnings)
