"""Label resampling across visits and the resolved / persistent / new edema map."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.compare.change import CHANGE_NEW, CHANGE_RESOLVED, change_map, resample_labels
from bme_mri.types import Geometry, Label
from tests.compare.synthetic_hip import (
    HipScene,
    axial_geometry,
    coronal_geometry,
    render_visit,
    rigid_matrix,
)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.sum(a & b) / (np.sum(a) + np.sum(b))


def test_followup_labels_resampled_with_the_motion_land_on_baseline_anatomy():
    scene = HipScene.build(41, edema_radius_mm=12.0)
    center = scene.head_center
    base_geometry = coronal_geometry(center, spacing=(1.0, 1.0, 2.0), shape=(70, 70, 30))
    _, base_labels = render_visit(scene, base_geometry, noise_sd=0.0)
    motion = rigid_matrix((4.0, -3.0, 5.0), (12.0, -6.0, 9.0), center)
    follow_geometry = axial_geometry(center + 10.0, spacing=(1.0, 1.0, 1.5), shape=(90, 90, 60))
    _, follow_labels = render_visit(scene, follow_geometry, motion, noise_sd=0.0)
    on_baseline = resample_labels(follow_labels, follow_geometry, base_geometry, motion)
    assert on_baseline.shape == base_geometry.shape and on_baseline.dtype == np.uint8
    assert _dice(on_baseline > 0, base_labels > 0) > 0.93
    assert _dice(on_baseline == Label.EDEMA, base_labels == Label.EDEMA) > 0.85
    without_motion = resample_labels(follow_labels, follow_geometry, base_geometry)
    assert _dice(without_motion > 0, base_labels > 0) < 0.8


def test_identity_resampling_on_the_same_grid_is_lossless():
    rng = np.random.default_rng(0)
    geometry = Geometry((12, 10, 8), (1.0, 1.5, 3.0), (5.0, -3.0, 2.0),
                        np.array([[0, 0, 1.0], [1.0, 0, 0], [0, 1.0, 0]]))
    labels = rng.integers(0, 4, geometry.shape).astype(np.uint8)
    assert np.array_equal(resample_labels(labels, geometry, geometry), labels)


def test_resample_refuses_labels_not_on_their_geometry():
    geometry = Geometry((4, 4, 4), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))
    with pytest.raises(ValueError, match="do not match"):
        resample_labels(np.zeros((4, 4, 3), np.uint8), geometry, geometry)


def test_change_map_counts_resolved_persistent_and_new_voxels():
    before = np.zeros((10, 10, 10), np.uint8)
    after = np.zeros_like(before)
    before[0:4] = Label.EDEMA  # 400 voxels
    after[2:7] = Label.EDEMA  # 500 voxels, 200 shared
    after[9, 9, 9] = Label.NECROSIS  # necrosis is not edema
    change = change_map(before, after, voxel_volume_ml=0.002)
    assert change.resolved.sum() == 200 and change.persistent.sum() == 200
    assert change.new.sum() == 300
    assert change.resolved_ml == pytest.approx(0.4)
    assert change.new_ml == pytest.approx(0.6)
    labels = change.as_labels()
    assert labels[0, 0, 0] == CHANGE_RESOLVED and labels[6, 0, 0] == CHANGE_NEW
    assert labels[9, 9, 9] == 0


def test_change_map_region_and_small_cluster_filter():
    before = np.zeros((10, 10, 10), np.uint8)
    after = np.zeros_like(before)
    after[0, 0, 0] = Label.EDEMA  # 1-voxel speck
    after[5:8, 5:8, 5:8] = Label.EDEMA  # 27 voxels
    change = change_map(before, after, voxel_volume_ml=0.01, min_component_ml=0.05)
    assert change.new.sum() == 27
    region = np.zeros(before.shape, bool)
    region[:5] = True
    assert change_map(before, after, 0.01, region=region).new.sum() == 1
