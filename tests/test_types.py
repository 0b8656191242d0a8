"""Geometry: affines, LPS/RAS, index round trips."""

import numpy as np
from hypothesis import given, strategies as st
from scipy.spatial.transform import Rotation

from bme_mri.types import Geometry


def _geometry(angles=(0, 0, 0)):
    return Geometry((10, 12, 5), (0.8, 0.9, 4.0), (-120.0, 30.0, 50.0),
                    Rotation.from_euler("xyz", angles, degrees=True).as_matrix())


def test_ras_affine_negates_x_and_y_of_lps():
    g = _geometry((10, 5, 3))
    assert np.allclose(g.affine_ras[:2], -g.affine_lps[:2])
    assert np.allclose(g.affine_ras[2:], g.affine_lps[2:])


@given(st.tuples(*(st.floats(-180, 180) for _ in range(3))))
def test_index_lps_round_trip_and_affine_rebuild(angles):
    g = _geometry(angles)
    ijk = np.array([[1.5, 2.0, 3.25], [0, 0, 0], [9, 11, 4]])
    assert np.allclose(g.lps_to_index(g.index_to_lps(ijk)), ijk, atol=1e-9)
    assert Geometry.from_affine_ras(g.affine_ras, g.shape).same_grid(g, tol_mm=1e-6)


def test_voxel_volume_in_ml():
    assert np.isclose(_geometry().voxel_volume_ml, 0.8 * 0.9 * 4.0 / 1000)


def test_orientation_labels():
    coronal = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float)  # row L, col -S (down), normal
    assert Geometry((2, 2, 2), (1, 1, 1), (0, 0, 0), coronal).orientation_label() == "coronal"
    assert _geometry().orientation_label() == "axial"
    assert _geometry((20, 0, 0)).orientation_label() == "oblique"
