"""From p(head) to head locations, and `bme-mri heads` end to end (tiny model, NIfTI input)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.learn.infer import HeadProbability, heads_from_probability
from bme_mri.types import Geometry
from tests.learn.conftest import write_ball_nifti


def _ball(shape, centre_idx, radius_vox, value=0.9):
    idx = np.indices(shape).reshape(3, -1).T
    d = np.linalg.norm(idx - np.asarray(centre_idx), axis=1).reshape(shape)
    return np.where(d <= radius_vox, value, 0.0).astype(np.float32)


@pytest.fixture
def settings():
    config = load_config()
    return config.segment.learned, config.segment.localize


def test_two_heads_a_bilateral_distance_apart_are_a_pair_left_at_larger_x(settings):
    learned, localize = settings
    shape = (90, 40, 40)
    geometry = Geometry(shape, (3.0, 3.0, 3.0), (-135.0, -60.0, -60.0), np.eye(3))
    p = _ball(shape, (15, 20, 20), 8) + _ball(shape, (75, 20, 20), 8, value=0.8)
    image = np.ones(shape, np.float32)
    heads = heads_from_probability(HeadProbability(p, geometry, image), learned, localize)
    assert [h.side for h in heads] == ["left", "right"]
    left, right = heads
    assert np.allclose(left.center_lps_mm, (-135 + 75 * 3, 0, 0), atol=0.5)
    assert np.allclose(right.center_lps_mm, (-135 + 15 * 3, 0, 0), atol=0.5)
    # radius of the sphere with the component's volume: within a voxel of 24 mm
    assert abs(left.radius_mm - 24.0) < 3.0
    assert left.confidence == pytest.approx(0.8) and right.confidence == pytest.approx(0.9)


def test_nothing_above_threshold_or_too_small_is_no_head(settings):
    learned, localize = settings
    shape = (30, 30, 30)
    geometry = Geometry(shape, (3.0, 3.0, 3.0), (0.0, 0.0, 0.0), np.eye(3))
    low = np.full(shape, 0.3, np.float32)
    speck = _ball(shape, (15, 15, 15), 1.0)  # 7 voxels = 0.19 ml
    image = np.ones(shape, np.float32)
    assert heads_from_probability(HeadProbability(low, geometry, image), learned, localize) == []
    assert heads_from_probability(HeadProbability(speck, geometry, image), learned, localize) == []


def test_lone_head_side_comes_from_the_edge_the_body_runs_off(settings):
    """A one-hip field whose body runs off the +x edge: the midline lies beyond +x, so a head
    inside the field is the patient's right (smaller LPS x) — wherever it sits in the field."""
    learned, localize = settings
    shape = (40, 40, 40)
    geometry = Geometry(shape, (3.0, 3.0, 3.0), (0.0, 0.0, 0.0), np.eye(3))
    image = np.zeros(shape, np.float32)
    image[10:] = 1.0  # body fills the +x side and its edge plane
    p = _ball(shape, (30, 20, 20), 7)
    (head,) = heads_from_probability(HeadProbability(p, geometry, image), learned, localize)
    assert head.side == "right"
    assert any("+x (left) edge" in flag for flag in head.flags)


def _cli(args):
    from typer.testing import CliRunner

    from bme_mri.cli import app

    return CliRunner().invoke(app, args)


def test_heads_json_has_the_documented_shape_for_a_nifti(tmp_path, tiny_config_file):
    image = tmp_path / "ball.nii.gz"
    write_ball_nifti(image, (0, 0, 0), 22.0, shape=(30, 30, 24))
    model = tmp_path / "model"
    assert _cli(["train", "--synthetic", "3", "--steps", "1", "--out", str(model), "--no-progress",
                 "--config", str(tiny_config_file)]).exit_code == 0
    for method in ("learned", "classical"):
        result = _cli(["heads", str(image), "--json", "--method", method, "--model", str(model)])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert list(payload) == ["series", "heads", "not_found"] and isinstance(payload["heads"], list)
        assert payload["series"]["source"] == "nifti" and isinstance(payload["not_found"], list)
        for head in payload["heads"]:
            assert head["side"] in ("left", "right") and len(head["center_lps_mm"]) == 3
            assert head["radius_mm"] > 0 and 0 <= head["confidence"] <= 1 and head["method"] == method


def test_heads_unknown_method_and_missing_model_are_one_line_errors(tmp_path):
    image = tmp_path / "ball.nii.gz"
    write_ball_nifti(image, (0, 0, 0), 22.0)
    result = _cli(["heads", str(image), "--method", "magic"])
    assert result.exit_code == 2 and "--method" in result.output
    result = _cli(["heads", str(image), "--method", "learned", "--model", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no model weights" in result.output and "Traceback" not in result.output


def test_the_learned_segmenter_loads_its_model_once_per_process(tmp_path, tiny_config_file):
    from bme_mri.config import load_config
    from bme_mri.learn.infer import cached_finder
    from bme_mri.segment import get_segmenter

    model = tmp_path / "model"
    assert _cli(["train", "--synthetic", "3", "--steps", "1", "--out", str(model), "--no-progress",
                 "--config", str(tiny_config_file)]).exit_code == 0
    segment = load_config().segment
    segment = segment.model_copy(update={"method": "learned",
                                         "learned": segment.learned.model_copy(update={"model_dir": str(model)})})
    first, second = get_segmenter(segment), get_segmenter(segment)
    assert first.finder is second.finder is cached_finder(segment.learned, segment.localize)
