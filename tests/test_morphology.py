"""bme_mri.morphology: distances in mm on anisotropic grids."""

from __future__ import annotations

import numpy as np

from bme_mri.morphology import close_mm, depth_below_surface_mm, dilate_mm

SPACING = (1.0, 1.0, 3.0)


def test_dilation_reaches_the_radius_in_mm_on_each_axis():
    mask = np.zeros((21, 21, 9), bool)
    mask[10, 10, 4] = True
    grown = dilate_mm(mask, 3.0, SPACING)
    assert grown[13, 10, 4] and not grown[14, 10, 4]  # 3 voxels of 1 mm in-plane
    assert grown[10, 10, 5] and not grown[10, 10, 6]  # 1 slice of 3 mm
    assert not dilate_mm(np.zeros_like(mask), 3.0, SPACING).any()


def test_depth_counts_the_array_edge_as_outside_and_closing_bridges_a_narrow_gap():
    full = np.ones((5, 5, 3), bool)
    depth = depth_below_surface_mm(full, SPACING)
    assert depth[0, 2, 1] == 1.0 and depth[2, 2, 1] == 3.0
    bar = np.zeros((30, 9, 3), bool)
    bar[2:13, 3:6, 1] = bar[15:28, 3:6, 1] = True  # a 2 mm gap at i = 13, 14
    closed = close_mm(bar, 2.0, SPACING)
    assert closed[13:15, 4, 1].all() and (closed | ~bar).all()
    assert not close_mm(bar, 0.5, SPACING)[13:15, 4, 1].any()
