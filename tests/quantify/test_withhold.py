"""Blocked means not measured: a hip with a blocking QC flag has no edema or necrosis figure."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.pipeline.tables import summary_rows
from bme_mri.quantify.qc import BLOCKING, WARNING, HipQc, QcFlag
from bme_mri.quantify.volumes import measure
from bme_mri.quantify.withhold import withhold_blocked
from bme_mri.segment.base import HeadFinding, Segmentation
from bme_mri.types import Geometry, Label, Side

NOT_FS = QcFlag("not_fat_suppressed", "fatty marrow as bright as fat", BLOCKING)
FIT = QcFlag("head_fit_poor", "boundary on 20% of rays", BLOCKING)
CUT = QcFlag("head_cut_by_fov", "30% of the femoral head lies outside the imaged volume", BLOCKING)
NOISY = QcFlag("low_snr", "snr 5", WARNING)


def _segmentation() -> Segmentation:
    """Two heads 100 mm apart, each with edema; the left one with necrosis too."""
    geometry = Geometry((60, 20, 20), (2.0, 2.0, 2.0), (-59.0, -19.0, -19.0), np.eye(3))
    labels = np.zeros(geometry.shape, np.uint8)
    headneck = np.zeros(geometry.shape, bool)
    heads = []
    for side, i0 in ((Side.RIGHT, 2), (Side.LEFT, 37)):
        labels[i0:i0 + 20, 2:18, 2:18] = Label.HEAD_MARROW
        labels[i0:i0 + 10, 4:12, 4:12] = Label.EDEMA
        headneck[i0:i0 + 12, 4:12, 4:12] = True
        centre = geometry.index_to_lps(np.array([i0 + 10.0, 10.0, 10.0]))
        heads.append(HeadFinding(side, tuple(centre), 20.0, (1.0, 0.0, 0.0), 15.0, 12.0, 0.8, 0.5))
    labels[45:48, 14:16, 14:16] = Label.NECROSIS
    return Segmentation(labels, geometry, heads, headneck, None)


def test_a_blocked_hip_keeps_its_head_but_loses_edema_and_necrosis():
    seg = _segmentation()
    before = {m.side: m for m in measure(seg)}
    qc = [HipQc(Side.RIGHT, [NOISY]), HipQc(Side.LEFT, [NOT_FS])]
    after = {m.side: m for m in withhold_blocked(seg, measure(seg), qc)}
    assert after[Side.RIGHT] == before[Side.RIGHT]  # a warning withholds nothing
    left = after[Side.LEFT]
    assert left.edema_ml is None and left.necrosis_ml is None
    assert left.edema_fraction is None and left.edema_headneck_ml is None
    assert left.femoral_head_ml == pytest.approx(before[Side.LEFT].femoral_head_ml)
    assert "fat not suppressed" in left.not_measured and "not_fat_suppressed" in left.not_measured
    assert before[Side.LEFT].edema_ml > 0 and before[Side.LEFT].necrosis_ml > 0  # there was something to withhold
    as_json = left.to_dict()  # study.json: no withheld figure under any key
    assert "unreliable_measurements" not in as_json
    assert all(as_json[k] is None for k in as_json if k.startswith(("edema", "necrosis")) and k != "edema_threshold")
    # the label map holds no lesion on the blocked side, the other side's edema stays
    assert not (seg.labels[30:] >= Label.EDEMA).any() and (seg.labels[30:] == Label.HEAD_MARROW).any()
    assert (seg.labels[:30] == Label.EDEMA).any()
    assert not seg.edema_headneck[30:].any() and seg.edema_headneck[:30].any()


@pytest.mark.parametrize("flag", [FIT, CUT])
def test_a_head_not_measured_whole_withholds_the_head_volume_too(flag):
    # a failed fit, or a head cut by the field (a truncated volume would read as a head that
    # changed size against a whole one at another visit)
    seg = _segmentation()
    out = {m.side: m for m in withhold_blocked(seg, measure(seg), [HipQc(Side.RIGHT, [flag])])}
    assert out[Side.RIGHT].femoral_head_ml is None and out[Side.RIGHT].edema_ml is None
    assert flag.code in out[Side.RIGHT].not_measured
    assert out[Side.LEFT].edema_ml > 0 and out[Side.LEFT].femoral_head_ml > 0


def test_summary_row_of_a_blocked_hip_has_empty_cells_and_the_reason():
    seg = _segmentation()
    measured = withhold_blocked(seg, measure(seg), [HipQc(Side.LEFT, [NOT_FS])])
    record = {"patient_id": "P", "study_uid": "1", "study_date": "2024-01-01",
              "sides": [{**m.to_dict(), "qc": q.to_dict()}
                        for m, q in zip(measured, [HipQc(Side.RIGHT), HipQc(Side.LEFT, [NOT_FS])])]}
    rows = {r["side"]: r for r in summary_rows([record])}
    for key in ("edema_ml", "edema_fraction", "necrosis_ml", "edema_headneck_ml"):
        assert rows["left"][key] is None and rows["right"][key] is not None
    assert rows["left"]["femoral_head_ml"] > 0
    assert rows["left"]["qc_flags"] == "not_fat_suppressed"
    assert "fatty marrow as bright as fat" in rows["left"]["qc_reason"]
