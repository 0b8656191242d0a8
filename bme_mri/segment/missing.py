"""No hip lost in silence: which sides had no femoral head found although theirs lies in view.

A side without a head gets a row of its own (``not_analysed``: "femoral head not found: ...")
when its femoral head should lie in the field of view; a field that holds one hip only gives
the other side no row. Without the head, where it should lie is judged from the body midline
(:meth:`~bme_mri.segment.classical.ClassicalSegmenter._midline_x`, LPS x):

* **one head found** (centre c): the other head is expected at c's mirror image across the
  midline, (2 m - c_x, c_y, c_z). It is in view when that centre lies inside the image grid.
  Not judged (no row) when the found head lies within half the smallest bilateral separation
  of the midline (``bilateral_min_separation_mm`` / 2): a femoral head never lies there, so the
  midline estimate (a narrow field's body centre) is not to be trusted; nor when the mirror
  falls on the found head's own side of it.
* **no head found**: a side is in view when the field of view reaches, on that side of the
  midline, the typical lateral position of a head centre: half the middle of the bilateral
  separation range (``bilateral_min/max_separation_mm``: (120 + 260) / 4 = 95 mm). A field
  whose body runs off one x edge (one hip) has its midline beyond that edge: only the imaged
  side is in view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bme_mri.segment.settings import LocalizeSettings
from bme_mri.types import Geometry, Side


@dataclass(frozen=True)
class MissingHead:
    """A side whose femoral head lies in the field of view but was not found.

    ``reason`` starts with "femoral head not found: "; ``expected_center_lps_mm`` is where the
    head was expected (LPS mm; None when only its side of the midline is known)."""

    side: Side
    reason: str
    expected_center_lps_mm: tuple[float, float, float] | None = None

    def to_dict(self) -> dict:
        return {"side": self.side.value, "not_analysed": self.reason,
                "expected_center_lps_mm": None if self.expected_center_lps_mm is None
                else [float(v) for v in self.expected_center_lps_mm]}


def _inside(geometry: Geometry, point_lps: np.ndarray) -> bool:
    idx = geometry.lps_to_index(np.asarray(point_lps, dtype=np.float64)[None, :])[0]
    return bool(np.all(idx >= -0.5) and np.all(idx <= np.asarray(geometry.shape) - 0.5))


def _sign(side: Side) -> float:
    return 1.0 if side == Side.LEFT else -1.0  # the patient's left is +x (LPS)


def missing_heads(geometry: Geometry, found: dict[Side, tuple[np.ndarray, float]], midline_x_mm: float,
                  midline_how: str, settings: LocalizeSettings, why_none: str = "") -> list[MissingHead]:
    """The sides without a head in ``found`` (side -> (centre LPS mm, radius mm)) whose head
    should lie in the field of ``geometry`` (the analysed image's grid); see the module.
    ``why_none``: the segmenter's reason when no head was found at all."""
    out: list[MissingHead] = []
    for side in (Side.RIGHT, Side.LEFT):
        if side in found:
            continue
        other = next(iter(found.items()), None)
        if other is not None:
            other_side, (centre, _radius) = other
            centre = np.asarray(centre, dtype=np.float64)
            offset = centre[0] - midline_x_mm
            if abs(offset) < settings.bilateral_min_separation_mm / 2.0:
                continue  # the head lies where no femoral head does: the midline is not known
            expected = np.array([midline_x_mm - offset, centre[1], centre[2]])
            if (expected[0] - centre[0]) * _sign(side) <= 0 or not _inside(geometry, expected):
                continue  # not on that side of the found head, or outside the field: no row
            x, y, z = (float(v) for v in expected)
            out.append(MissingHead(side, (
                f"femoral head not found: the {side.value} head was expected near LPS ({x:.0f}, {y:.0f}, "
                f"{z:.0f}) mm, the mirror image of the {other_side.value} head across the body midline "
                f"(x = {midline_x_mm:.0f} mm, {midline_how}), inside the field of view; no sphere with a "
                "femoral head's cortex was found there"), (x, y, z)))
            continue
        offset = (settings.bilateral_min_separation_mm + settings.bilateral_max_separation_mm) / 4.0
        x = midline_x_mm + _sign(side) * offset
        xs = geometry.corners_lps()[:, 0]
        if not xs.min() <= midline_x_mm <= xs.max():  # a one-hip field: the midline lies beyond an edge
            if (xs.mean() - midline_x_mm) * _sign(side) <= 0:
                continue  # the hip on the far side of the midline, out of the field
            x = float(np.clip(x, xs.min(), xs.max()))
        elif not xs.min() <= x <= xs.max():
            continue
        out.append(MissingHead(side, (
            f"femoral head not found: the field of view reaches the {side.value} hip (x = {x:.0f} mm, "
            f"{offset:.0f} mm from the body midline, {midline_how})"
            + (f"; {why_none}" if why_none else ""))))
    return out
