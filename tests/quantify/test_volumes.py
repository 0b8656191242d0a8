"""Volumes in ml from a label map: count x voxel volume, per side."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.quantify import dice, measure, relative_volume_error, volume_error_ml
from bme_mri.segment import HeadFinding, ReferenceMarrow, Segmentation
from bme_mri.types import Geometry, Label, Side


def _reference() -> ReferenceMarrow:
    return ReferenceMarrow("test marrow", 100, 10.0, 1.0, 12.0, 1.5, 14.5)


def _head(side: Side, x: float) -> HeadFinding:
    return HeadFinding(side=side, center_lps_mm=(x, 0.0, 0.0), radius_mm=10.0,
                       neck_axis_lps=(1.0, 0.0, 0.0), junction_distance_mm=7.0,
                       neck_radius_mm=6.0, fit_quality=1.0, fit_residual_mm=0.1,
                       edema_threshold=14.5, reference=_reference())


def test_known_masks_give_known_millilitres_per_side():
    # 2 x 2 x 4 mm voxels = 0.016 ml; x from -40 to +38 mm
    geometry = Geometry((40, 10, 5), (2.0, 2.0, 4.0), (-40.0, -10.0, -8.0), np.eye(3))
    labels = np.zeros(geometry.shape, np.uint8)
    labels[0:10] = Label.HEAD_MARROW  # right side (x < 0): 10*10*5 = 500 voxels
    labels[0:3] = Label.EDEMA  # 150 voxels
    labels[30:40] = Label.HEAD_MARROW  # left side: 500 voxels
    labels[30:32, 0:5, :] = Label.NECROSIS  # 50 voxels
    headneck = labels == Label.EDEMA
    headneck[10:12] = True  # neck edema outside the head: 100 voxels, right side
    seg = Segmentation(labels, geometry, [_head(Side.LEFT, 30.0), _head(Side.RIGHT, -30.0)],
                       headneck, _reference())
    by_side = {m.side: m for m in measure(seg)}
    right, left = by_side[Side.RIGHT], by_side[Side.LEFT]
    assert right.femoral_head_ml == pytest.approx(500 * 0.016)
    assert right.edema_ml == pytest.approx(150 * 0.016)
    assert right.edema_headneck_ml == pytest.approx(250 * 0.016)
    assert right.edema_fraction == pytest.approx(150 / 500)
    assert right.necrosis_ml == 0.0
    assert left.femoral_head_ml == pytest.approx(500 * 0.016)
    assert left.necrosis_ml == pytest.approx(50 * 0.016)
    assert left.edema_ml == 0.0 and left.edema_fraction == 0.0
    assert left.reference.description == "test marrow"
    assert left.to_dict()["side"] == "left"


def test_no_head_means_no_measurement():
    geometry = Geometry((4, 4, 4), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))
    seg = Segmentation(np.zeros(geometry.shape, np.uint8), geometry, [],
                       np.zeros(geometry.shape, bool), None)
    assert measure(seg) == []


def test_metrics():
    a = np.zeros((4, 4, 4), bool)
    b = np.zeros((4, 4, 4), bool)
    a[:2] = True
    b[1:3] = True
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(np.zeros(3, bool), np.zeros(3, bool)) == 1.0
    assert volume_error_ml(11.0, 10.0) == pytest.approx(1.0)
    assert relative_volume_error(9.0, 10.0) == pytest.approx(-0.1)
    assert np.isnan(relative_volume_error(1.0, 0.0))
