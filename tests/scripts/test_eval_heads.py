"""scripts/eval_heads.py: how real heads marked by eye are counted (in view, borderline, found)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from bme_mri.types import Geometry, Volume


@dataclass
class _Head:
    side: str
    center_lps_mm: tuple


def _slab() -> Volume:
    """64 x 64 x 10 voxels of 1.5 x 1.5 x 3 mm from LPS (0, 0, 0); its first column (x) is
    blank, as Siemens writes it."""
    array = np.ones((64, 64, 10), dtype=np.float32)
    array[0] = 0.0
    return Volume(array, Geometry(array.shape, (1.5, 1.5, 3.0), (0.0, 0.0, 0.0), np.eye(3)))


def test_depth_is_measured_from_the_edge_of_the_image_data_not_of_the_grid(eval_heads):
    slab = _slab()
    assert eval_heads.imaged_depth_mm([0.0, 45.0, 15.0], slab) == pytest.approx(-0.75)  # in the blank column
    assert eval_heads.imaged_depth_mm([6.0, 45.0, 15.0], slab) == pytest.approx(5.25)
    assert eval_heads.imaged_depth_mm([30.0, 45.0, 1.0], slab) == pytest.approx(2.5)  # 1 mm above the lowest slice's face
    assert eval_heads.imaged_depth_mm([-20.0, 45.0, 15.0], slab) < -3.0


def test_a_head_centred_on_the_data_edge_is_borderline_and_not_counted(eval_heads):
    slab = _slab()
    marks = {"right": [1.0, 45.0, 15.0], "left": [60.0, 45.0, 15.0]}  # right: 0.25 mm inside the data
    missed = eval_heads.score_against_marks([_Head("left", (62.0, 44.0, 15.0))], marks, slab)
    assert missed["in_view"] == ["left"] and missed["found_10mm"] == 1
    assert missed["borderline"] == [{"side": "right", "depth_in_data_mm": 0.2, "found_10mm": False}]
    both = eval_heads.score_against_marks([_Head("left", (62.0, 44.0, 15.0)), _Head("left", (5.0, 45.0, 15.0))],
                                          marks, slab)
    assert both["borderline"][0]["found_10mm"] and both["found_10mm"] == 1  # found, still not counted
    assert both["wrong_side"] == 0 and both["false"] == 0
