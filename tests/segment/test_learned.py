"""The learned segmenter's check of network heads by the sphere fit (a stand-in network here:
what is tested is how bme-mri uses a network's answer, not the network)."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.segment.heads import HeadLocation
from bme_mri.segment.learned import LearnedSegmenter, find_heads_learned


class FixedFinder:
    """A 'network' that reports given head centres (LPS mm) with a radius of 24 mm."""

    def __init__(self, centres: dict[str, np.ndarray]) -> None:
        self.centres = centres

    def find(self, volume):
        return [HeadLocation(side=side, center_lps_mm=tuple(float(v) for v in c), radius_mm=24.0,
                             confidence=0.9, method="learned", volume_ml=58.0)
                for side, c in self.centres.items()]


def _truth_centres(study) -> dict[str, np.ndarray]:
    return {side: np.asarray(t["head_center_lps_mm"], float) for side, t in study.truth["sides"].items()}


def test_a_network_centre_a_few_mm_off_is_refined_by_the_sphere_fit(smoke_segmented):
    config = load_config()
    study = smoke_segmented[0]
    truth = _truth_centres(study)
    nudged = {side: c + np.array([3.0, -2.0, 2.0]) for side, c in truth.items()}
    heads = {h.side: h for h in find_heads_learned(study.image, config.segment, FixedFinder(nudged))}
    assert set(heads) == set(truth)
    for side, centre in truth.items():
        error = np.linalg.norm(np.asarray(heads[side].center_lps_mm) - centre)
        assert error < 2.0, (side, error)  # the fit, not the nudged network centre (4.1 mm off)
        assert any("sphere fit" in f for f in heads[side].flags)


def test_segmenter_records_the_offset_and_qc_passes_when_network_and_fit_agree(smoke_segmented):
    from bme_mri.quantify.qc import assess_hips

    config = load_config()
    study = smoke_segmented[0]
    segmenter = LearnedSegmenter(config.segment, finder=FixedFinder(_truth_centres(study)))
    seg = segmenter.segment(study.image)
    assert len(seg.heads) == 2
    for head in seg.heads:
        assert head.network_offset_mm is not None and head.network_offset_mm < 3.0
    codes = {f.code for hip in assess_hips(study.image, seg, config.qc) for f in hip.flags}
    assert "head_network_disagrees" not in codes and "head_fit_poor" not in codes


def test_a_network_head_the_sphere_fit_cannot_confirm_blocks_the_hip(smoke_segmented):
    """A 'head' in the soft tissue far from any femur: no sound fit near it, so the hip keeps
    the network's guess with fit quality 0 and QC blocks it (never a confident number)."""
    from bme_mri.quantify.qc import assess_hips

    config = load_config()
    study = smoke_segmented[0]
    truth = _truth_centres(study)
    wrong = {"left": truth["left"] + np.array([0.0, -60.0, 40.0])}  # anterior and cranial: abdomen
    seg = LearnedSegmenter(config.segment, finder=FixedFinder(wrong)).segment(study.image)
    (head,) = seg.heads
    assert head.fit_quality == 0.0
    assert any("does not confirm" in w for w in seg.warnings)
    (hip,) = assess_hips(study.image, seg, config.qc)
    assert "head_fit_poor" in [f.code for f in hip.blocking]


@pytest.mark.parametrize("offset, flagged", [(2.0, False), (7.0, True)])
def test_qc_flags_a_fit_that_lies_away_from_the_network_centre(offset, flagged):
    from bme_mri.quantify.qc import network_flag
    from bme_mri.segment.base import HeadFinding
    from bme_mri.types import Side

    config = load_config()
    head = HeadFinding(side=Side.LEFT, center_lps_mm=(0.0, 0.0, 0.0), radius_mm=24.0,
                       neck_axis_lps=(1.0, 0.0, 0.0), junction_distance_mm=10.0, neck_radius_mm=15.0,
                       fit_quality=0.8, fit_residual_mm=0.5, network_offset_mm=offset)
    flag = network_flag(head, config.qc)
    assert (flag is not None) == flagged
    if flagged:
        assert flag.code == "head_network_disagrees" and "7.0 mm" in flag.reason


def test_heads_leaves_out_a_network_head_the_fit_cannot_confirm_unless_asked(smoke_segmented):
    config = load_config()
    study = smoke_segmented[0]
    truth = _truth_centres(study)
    finder = FixedFinder({"left": truth["left"], "right": truth["right"] + np.array([0.0, -60.0, 40.0])})
    heads = find_heads_learned(study.image, config.segment, finder)
    assert [h.side for h in heads] == ["left"]
    kept = {h.side: h for h in find_heads_learned(study.image, config.segment, finder, keep_unconfirmed=True)}
    assert set(kept) == {"left", "right"}
    assert any("does not confirm" in f for f in kept["right"].flags)
