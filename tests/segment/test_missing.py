"""No hip lost in silence: a side whose femoral head lies in view but was not found is named."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.errors import NoFemoralHeadError
from bme_mri.segment.missing import missing_heads
from bme_mri.types import Geometry, Side, Volume


@pytest.fixture(scope="module")
def localize():
    return load_config().segment.localize


def _field(x_lo: float, x_hi: float) -> Geometry:
    """An axial field from x_lo to x_hi (LPS mm), 200 mm front-back, 120 mm high, 2 mm voxels."""
    shape = (int(round((x_hi - x_lo) / 2.0)) + 1, 100, 30)
    return Geometry(shape, (2.0, 2.0, 4.0), (x_lo, -100.0, -60.0), np.eye(3))


def test_a_missed_head_whose_mirror_lies_in_view_gets_a_row(localize):
    found = {Side.RIGHT: (np.array([-90.0, 5.0, 0.0]), 24.0)}
    (missing,) = missing_heads(_field(-180.0, 180.0), found, 0.0, "centre of the imaged body", localize)
    assert missing.side == Side.LEFT and missing.expected_center_lps_mm == pytest.approx((90.0, 5.0, 0.0))
    assert missing.reason.startswith("femoral head not found: the left head was expected near LPS (90, 5, 0)")
    assert "mirror image of the right head" in missing.reason


def test_a_one_hip_field_gives_the_other_side_no_row(localize):
    found = {Side.RIGHT: (np.array([-90.0, 5.0, 0.0]), 24.0)}
    assert missing_heads(_field(-180.0, 20.0), found, 0.0, "body centre", localize) == []
    # the body running off the field's +x edge: the midline lies beyond it
    assert missing_heads(_field(-180.0, 20.0), found, 1020.0, "beyond the +x edge", localize) == []


def test_a_head_near_the_estimated_midline_leaves_the_other_side_unjudged(localize):
    # a narrow field centred on one hip: its body centre is no midline, and no row is made up
    found = {Side.LEFT: (np.array([10.0, 0.0, 0.0]), 24.0)}
    assert missing_heads(_field(-80.0, 100.0), found, 0.0, "centre of the imaged body", localize) == []


@pytest.mark.parametrize("x_lo, x_hi, midline, sides", [
    (-180.0, 180.0, 0.0, [Side.RIGHT, Side.LEFT]),   # both hips in a wide field
    (-40.0, 160.0, -1040.0, [Side.LEFT]),            # body runs off the -x (right) edge: the left hip's field
    (-60.0, 60.0, 0.0, []),                          # a field too narrow to reach either hip
])
def test_without_any_head_the_sides_the_field_reaches_get_rows(localize, x_lo, x_hi, midline, sides):
    found = missing_heads(_field(x_lo, x_hi), {}, midline, "test", localize, "no sphere")
    assert [m.side for m in found] == sides
    assert all(m.reason.startswith("femoral head not found: ") and m.reason.endswith("; no sphere") for m in found)


def test_the_segmenter_names_the_sides_in_view_when_it_finds_no_head():
    from bme_mri.segment import get_segmenter

    rng = np.random.default_rng(4)
    geometry = Geometry((180, 60, 16), (2.0, 2.0, 5.0), (-180.0, -60.0, -40.0), np.eye(3))
    image = Volume(rng.normal(100.0, 5.0, geometry.shape).astype(np.float32), geometry,
                   {"series_uid": "1.2.3", "description": "noise"})
    with pytest.raises(NoFemoralHeadError, match="no femoral head found in series 1.2.3") as raised:
        get_segmenter(load_config().segment).segment(image)
    assert sorted(m.side.value for m in raised.value.missing) == ["left", "right"]
