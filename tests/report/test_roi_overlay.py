"""ROI overlay orientation: the patient's left on the viewer's right, oblique edges named by both axes."""

import numpy as np
import pytest

from bme_mri.report.roi_overlay import display_axes
from bme_mri.types import Geometry


def _geometry(tilt_deg: float) -> Geometry:
    """Coronal-to-axial tilted plane: i = +L, j from -S (coronal, 0 deg) towards +P (axial, 90 deg)."""
    t = np.radians(tilt_deg)
    j = np.array([0.0, np.sin(t), -np.cos(t)])
    i = np.array([1.0, 0.0, 0.0])
    return Geometry((10, 10, 4), (1.0, 1.0, 3.0), (0.0, 0.0, 0.0), np.column_stack([i, j, np.cross(i, j)]))


def test_a_plain_coronal_plane_has_single_letters_and_left_on_the_right():
    flip_cols, _, letters = display_axes(_geometry(0.0))
    assert not flip_cols and letters == {"left": "R", "right": "L", "top": "S", "bottom": "I"}


@pytest.mark.parametrize("tilt, top, bottom", [(40.0, "SA", "IP"), (50.0, "AS", "PI")])
def test_a_semi_coronal_plane_names_both_axes_larger_first(tilt, top, bottom):
    _, _, letters = display_axes(_geometry(tilt))
    assert (letters["top"], letters["bottom"]) == (top, bottom)
    assert (letters["left"], letters["right"]) == ("R", "L")
