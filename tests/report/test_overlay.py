"""Overlay PNGs: radiological display, orientation letters from geometry, same anatomy in pairs."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from bme_mri.report.overlay import (
    AXIAL,
    CORONAL,
    make_panel,
    plane_points,
    render_overlay_png,
    render_pair_png,
    side_markers,
)
from bme_mri.types import Geometry, Label, Volume
from tests.compare.synthetic_hip import (
    HipScene,
    axial_geometry,
    coronal_geometry,
    render_visit,
    rigid_matrix,
)


def _blob_volume(direction: np.ndarray, blob_lps: np.ndarray) -> tuple[Volume, np.ndarray]:
    """A 40^3 grid centred at 0 with one bright labelled blob around ``blob_lps``."""
    shape = (40, 40, 40)
    spacing = (2.0, 2.0, 2.0)
    origin = -direction @ ((np.asarray(shape) - 1) / 2.0 * np.asarray(spacing))
    geometry = Geometry(shape, spacing, tuple(origin), direction)
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    dist = np.linalg.norm(geometry.index_to_lps(idx) - blob_lps, axis=-1)
    array = np.where(dist < 8.0, 500.0, 50.0).astype(np.float32)
    labels = np.where(dist < 8.0, Label.EDEMA, Label.BACKGROUND).astype(np.uint8)
    return Volume(array, geometry), labels


@pytest.mark.parametrize("direction", [
    np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]]),  # coronal, i = +x (patient's left)
    np.array([[-1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]]),  # coronal, i = -x (flipped rows)
    np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, -1.0]]),  # axial with i = +y, j = +x
])
def test_patient_left_is_drawn_on_viewer_right_for_any_grid(direction):
    blob = np.array([20.0, 0.0, 0.0])  # patient's left
    volume, labels = _blob_volume(direction, blob)
    for plane in (CORONAL, AXIAL):
        points = plane_points(volume.geometry, plane, np.zeros(3))
        panel = make_panel(volume, labels, plane, points)
        cols = np.nonzero(panel.labels == Label.EDEMA)[1]
        assert cols.size > 0
        assert cols.mean() > panel.labels.shape[1] / 2  # viewer's right
        markers = side_markers(panel)
        assert (markers["left"], markers["right"]) == ("R", "L")
    coronal = make_panel(volume, labels, CORONAL, plane_points(volume.geometry, CORONAL,
                                                               np.zeros(3)))
    assert side_markers(coronal)["top"] == "S"


def test_superior_blob_is_at_the_top_of_the_coronal_panel():
    volume, labels = _blob_volume(np.eye(3), np.array([0.0, 0.0, 25.0]))
    panel = make_panel(volume, labels, CORONAL, plane_points(volume.geometry, CORONAL, np.zeros(3)))
    rows = np.nonzero(panel.labels == Label.EDEMA)[0]
    assert rows.mean() < panel.labels.shape[0] / 2


def test_pair_samples_followup_through_the_baseline_anatomy():
    scene = HipScene.build(3)
    center = scene.head_center
    baseline, base_labels = render_visit(scene, coronal_geometry(center), noise_sd=0.0)
    motion = rigid_matrix((0.0, 4.0, 3.0), (12.0, -5.0, 8.0), center)
    followup, follow_labels = render_visit(scene, axial_geometry(center + 10), motion,
                                           noise_sd=0.0)
    points = plane_points(baseline.geometry, CORONAL, center, half_width_mm=30.0)
    base_panel = make_panel(baseline, base_labels, CORONAL, points)
    mapped = make_panel(followup, follow_labels, CORONAL, points, motion)
    unmapped = make_panel(followup, follow_labels, CORONAL, points)
    head_base = base_panel.labels > 0
    overlap = np.sum(head_base & (mapped.labels > 0)) / np.sum(head_base)
    overlap_unmapped = np.sum(head_base & (unmapped.labels > 0)) / np.sum(head_base)
    assert overlap > 0.9
    assert overlap_unmapped < overlap - 0.1


def test_overlay_and_pair_pngs_are_written(tmp_path):
    scene = HipScene.build(4, necrosis_radius_mm=5.0)
    center = scene.head_center
    baseline, labels = render_visit(scene, coronal_geometry(center))
    path = render_overlay_png(baseline, labels, tmp_path / "sub" / "overlay.png", center,
                              title="right hip")
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 400
    # red edema fill present: strongly red pixels
    red = (pixels[..., 0] > 0.8) & (pixels[..., 1] < 0.6) & (pixels[..., 2] < 0.6)
    assert red.sum() > 50
    pair = render_pair_png(baseline, labels, baseline, labels, None, tmp_path / "pair.png", center)
    assert imread(pair).shape[1] > 600
    assert not list(tmp_path.glob(".*tmp*"))  # atomic: no temp files left


def test_overlay_refuses_labels_on_another_grid(tmp_path):
    volume, labels = _blob_volume(np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="do not match"):
        render_overlay_png(volume, labels[:-1], tmp_path / "x.png")
