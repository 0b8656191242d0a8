"""side_from_cut_edge: a lone femoral head cut by the field of view on one x side is lateral there."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.segment.localize import side_from_cut_edge


def _body(x_lo_mm: float, x_hi_mm: float, spacing: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """A block of tissue from x_lo to x_hi (mm, LPS) on a 2 mm grid from x = -200 mm."""
    origin = np.array([-200.0, -100.0, -100.0])
    shape = (200, 100, 100)
    x = origin[0] + spacing * np.arange(shape[0])
    body = np.zeros(shape, bool)
    body[(x >= x_lo_mm) & (x <= x_hi_mm)] = True
    return body, origin


@pytest.mark.parametrize("x_lo, x_hi, centre_x, expected", [
    (-100.0, 92.0, 80.0, 1.0),     # field ends 12 mm to +x of the head: +x is lateral -> left head
    (-92.0, 100.0, -80.0, -1.0),   # mirror: right head
    (-180.0, 180.0, 80.0, 0.0),    # whole body in view: no cut, undecided (midline rule decides)
    (70.0, 90.0, 80.0, 0.0),       # a field narrower than the head, cut on both sides: undecided
])
def test_side_from_the_edge_that_cuts_the_head(x_lo, x_hi, centre_x, expected):
    body, origin = _body(x_lo, x_hi)
    sign, text = side_from_cut_edge(np.array([centre_x, 0.0, 0.0]), 24.0, body, origin, 2.0, 1.2)
    assert sign == expected, text


def test_no_body_in_the_slab_is_undecided():
    body, origin = _body(-100.0, 92.0)
    sign, text = side_from_cut_edge(np.array([80.0, 300.0, 0.0]), 24.0, body, origin, 2.0, 1.2)
    assert sign == 0.0
