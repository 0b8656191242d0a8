"""Overlays show the lesions: slices through the largest edema and the necrosis, not only the
head centre (issue 11: a 2 ml necrosis 5-10 mm off the centre was invisible)."""

from __future__ import annotations

import numpy as np
from matplotlib.image import imread

from bme_mri.report.overlay import CORONAL, focus_points, lesion_focus, make_panel, plane_points, render_overlay_png
from bme_mri.types import Geometry, Label, Volume

HEAD_RIGHT = np.array([-90.0, 0.0, 0.0])
HEAD_LEFT = np.array([90.0, 0.0, 0.0])


def _two_hips() -> tuple[Volume, np.ndarray]:
    """Axial 1 mm grid with two heads (r 24 mm); the right head has a subchondral necrosis 14 mm
    anterior-superior of its centre and a small edema; the left head a larger edema."""
    shape, spacing = (240, 80, 70), (1.0, 1.0, 1.0)
    origin = (-119.5, -39.5, -34.5)
    geometry = Geometry(shape, spacing, origin, np.eye(3))
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    lps = geometry.index_to_lps(idx.astype(np.float64))
    labels = np.zeros(shape, np.uint8)
    for centre in (HEAD_RIGHT, HEAD_LEFT):
        labels[np.linalg.norm(lps - centre, axis=-1) < 24.0] = Label.HEAD_MARROW
    labels[np.linalg.norm(lps - (HEAD_RIGHT + [0, -10.0, 10.0]), axis=-1) < 5.0] = Label.NECROSIS
    labels[np.linalg.norm(lps - (HEAD_RIGHT + [0, 8.0, -8.0]), axis=-1) < 4.0] = Label.EDEMA
    labels[np.linalg.norm(lps - (HEAD_LEFT + [0, 0, -6.0]), axis=-1) < 9.0] = Label.EDEMA
    array = np.where(labels > 0, 400.0, 100.0).astype(np.float32)
    return Volume(array, geometry), labels


def test_lesion_focus_takes_this_hips_largest_lesion_at_its_deepest_point():
    volume, labels = _two_hips()
    point, ml = lesion_focus(labels, volume.geometry, Label.EDEMA, HEAD_RIGHT, 45.0)
    assert np.linalg.norm(point - (HEAD_RIGHT + [0, 8.0, -8.0])) <= 1.0  # not the left hip's larger edema
    assert 0.2 < ml < 0.33  # sphere r 4 mm: 0.27 ml
    assert lesion_focus(labels, volume.geometry, Label.NECROSIS, HEAD_LEFT, 45.0) is None


def test_a_coronal_slice_through_the_head_centre_misses_the_necrosis_the_focus_row_shows_it():
    volume, labels = _two_hips()
    points = focus_points(labels, volume.geometry, HEAD_RIGHT)
    assert [p.what for p in points] == ["head centre", "necrosis", "largest edema"]
    assert points[1].marked and not points[0].marked
    through_centre = make_panel(volume, labels, CORONAL,
                                plane_points(volume.geometry, CORONAL, points[0].center_lps_mm, 40.0, 1.0))
    through_lesion = make_panel(volume, labels, CORONAL,
                                plane_points(volume.geometry, CORONAL, points[1].center_lps_mm, 40.0, 1.0))
    assert not (through_centre.labels == Label.NECROSIS).any()
    assert (through_lesion.labels == Label.NECROSIS).sum() > 50


def test_overlay_png_has_one_row_per_focus_point(tmp_path):
    volume, labels = _two_hips()
    one = render_overlay_png(volume, labels, tmp_path / "one.png", center_lps_mm=HEAD_RIGHT, half_width_mm=40.0)
    three = render_overlay_png(volume, labels, tmp_path / "three.png", half_width_mm=40.0, title="right hip",
                               focus=focus_points(labels, volume.geometry, HEAD_RIGHT))
    assert imread(three).shape[0] > 2.5 * imread(one).shape[0]
