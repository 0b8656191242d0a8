"""Head, marrow and neck regions of one femoral head, evaluated on any voxel grid.

Definitions (LPS mm, c = head centre, a = neck axis, R = head radius, d = junction distance):

* head proper: ``|p - c| <= R`` and ``(p - c) . a <= d`` (a voxel counts when its centre is
  inside: the partial-volume rule);
* head marrow: the head proper with ``|p - c| <= R - cortex`` (cortex excluded; the
  junction plane is a cut through marrow, not bone, so no cortex there);
* neck marrow: ``d < (p - c) . a <= d + neck_length`` and distance to the axis
  ``<= neck_radius - cortex``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bme_mri.segment.base import HeadFinding
from bme_mri.types import Geometry


@dataclass
class HeadRegions:
    """Boolean masks of one head inside a bounding box of the grid (``box`` slices)."""

    box: tuple[slice, slice, slice]
    head: np.ndarray
    head_marrow: np.ndarray
    neck_marrow: np.ndarray
    radial_mm: np.ndarray  # distance of each voxel centre to the head centre (mm)
    axial_mm: np.ndarray  # (p - c) . a (mm)
    off_axis_mm: np.ndarray  # distance of each voxel centre to the neck axis line (mm)


def head_box(geometry: Geometry, head: HeadFinding, neck_length_mm: float) -> tuple[slice, slice, slice]:
    """Index-space bounding box of the head sphere and its neck region."""
    c = np.asarray(head.center_lps_mm)
    a = np.asarray(head.neck_axis_lps)
    reach = head.radius_mm + 2.0
    ends = [c, c + a * (head.junction_distance_mm + neck_length_mm)]
    corners = []
    for e in ends:
        for dx in (-reach, reach):
            for dy in (-reach, reach):
                for dz in (-reach, reach):
                    corners.append(e + np.array([dx, dy, dz]))
    idx = geometry.lps_to_index(np.array(corners))
    lo = np.clip(np.floor(idx.min(0)).astype(int), 0, np.array(geometry.shape))
    hi = np.clip(np.ceil(idx.max(0)).astype(int) + 1, 0, np.array(geometry.shape))
    return tuple(slice(int(l), int(h)) for l, h in zip(lo, hi))


def head_regions(geometry: Geometry, head: HeadFinding, cortex_mm: float,
                 neck_length_mm: float) -> HeadRegions:
    """Head proper, head marrow and neck marrow masks of ``head`` on ``geometry``."""
    box = head_box(geometry, head, neck_length_mm)
    ii, jj, kk = np.meshgrid(*[np.arange(s.start, s.stop) for s in box], indexing="ij")
    xyz = geometry.index_to_lps(np.stack([ii, jj, kk], -1).astype(np.float64))
    rel = xyz - np.asarray(head.center_lps_mm)
    radial = np.linalg.norm(rel, axis=-1)
    axial = rel @ np.asarray(head.neck_axis_lps)
    articular = axial <= head.junction_distance_mm
    head_mask = (radial <= head.radius_mm) & articular
    marrow = (radial <= head.radius_mm - cortex_mm) & articular
    off_axis = np.sqrt(np.maximum(radial ** 2 - axial ** 2, 0.0))
    neck = ((axial > head.junction_distance_mm)
            & (axial <= head.junction_distance_mm + neck_length_mm)
            & (off_axis <= head.neck_radius_mm - cortex_mm))
    return HeadRegions(box, head_mask, marrow, neck, radial, axial, off_axis)


def deep_marrow(regions: HeadRegions, head: HeadFinding, depth_mm: float) -> np.ndarray:
    """Head and neck marrow at least ``depth_mm`` (mm) under the bone surface (head sphere or
    neck cylinder): clear of the partial-volume layer under the cortex, for the reference."""
    return ((regions.head_marrow & (regions.radial_mm <= head.radius_mm - depth_mm))
            | (regions.neck_marrow & (regions.off_axis_mm <= head.neck_radius_mm - depth_mm)))
