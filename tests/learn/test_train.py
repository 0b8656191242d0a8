"""bme-mri train: a few steps, checkpoint, resume from the saved step, fine-tune on NIfTI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bme_mri.learn.train import TrainingError, split_items, train_synthetic
from tests.learn.conftest import write_ball_nifti


def _weights(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_training_checkpoints_and_resume_continues_from_the_saved_step(tmp_path, tiny_settings, tiny_recipe):
    out = tmp_path / "model"
    first = train_synthetic(out, 4, tiny_settings, steps=2, seed=1, recipe=tiny_recipe)
    assert first.step == 2 and (out / "checkpoint.pt").is_file() and (out / "model.pt").is_file()
    resumed = train_synthetic(out, 4, tiny_settings, steps=3, seed=1, recipe=tiny_recipe, resume=True)
    assert resumed.resumed_from == 2 and resumed.step == 3
    assert [h["step"] for h in resumed.history] == [1, 2, 3]
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["steps_done"] == 3 and card["training"]["resumed_from_step"] == 2
    assert card["data"]["kind"] == "synthetic" and card["seed"] == 1
    assert (out / "model_card.md").read_text().count("## Training") == 1


def test_resumed_run_matches_the_uninterrupted_run(tmp_path, tiny_settings, tiny_recipe):
    """Interrupting after step 2 and resuming gives the weights of 3 uninterrupted steps:
    the data of a step, the optimiser state and the RNG all come back."""
    straight = tmp_path / "straight"
    train_synthetic(straight, 4, tiny_settings, steps=3, seed=2, recipe=tiny_recipe)
    split = tmp_path / "split"
    train_synthetic(split, 4, tiny_settings, steps=2, seed=2, recipe=tiny_recipe)
    train_synthetic(split, 4, tiny_settings, steps=3, seed=2, recipe=tiny_recipe, resume=True)
    a, b = _weights(straight / "model.pt"), _weights(split / "model.pt")
    assert a.keys() == b.keys()
    for key in a:
        assert np.allclose(a[key].numpy(), b[key].numpy(), atol=1e-5), key


def test_existing_checkpoint_without_resume_is_refused(tmp_path, tiny_settings, tiny_recipe):
    out = tmp_path / "model"
    train_synthetic(out, 3, tiny_settings, steps=1, seed=0, recipe=tiny_recipe)
    with pytest.raises(TrainingError, match="--resume"):
        train_synthetic(out, 3, tiny_settings, steps=2, seed=0, recipe=tiny_recipe)
    with pytest.raises(TrainingError, match="other data"):
        train_synthetic(out, 5, tiny_settings, steps=2, seed=0, recipe=tiny_recipe, resume=True)


def test_validation_split_holds_out_items_and_keeps_training_items():
    train, val = split_items(list(range(10)), 0.2, seed=0)
    assert len(val) == 2 and len(train) == 8 and not set(train) & set(val)
    train, val = split_items([0, 1], 0.05, seed=0)
    assert len(val) == 1 and len(train) == 1


def _cli(args: list[str]):
    from typer.testing import CliRunner

    from bme_mri.cli import app

    return CliRunner().invoke(app, args)


def test_cli_trains_then_finetunes_on_three_labelled_nifti(tmp_path, tiny_config_file):
    base = tmp_path / "base"
    result = _cli(["train", "--synthetic", "3", "--steps", "1", "--out", str(base), "--no-progress",
                   "--config", str(tiny_config_file)])
    assert result.exit_code == 0, result.output
    assert "step 1/1" in result.output
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    for i, (centre, radius) in enumerate([((10, 0, 0), 20.0), ((-15, 5, 3), 23.0), ((0, -8, -5), 25.0)]):
        write_ball_nifti(images / f"case{i}.nii.gz", centre, radius)
        write_ball_nifti(labels / f"case{i}.nii.gz", centre, radius, label=True)
    tuned = tmp_path / "tuned"
    result = _cli(["train", "--images", str(images), "--labels", str(labels), "--model", str(base),
                   "--out", str(tuned), "--steps", "2", "--no-progress", "--config", str(tiny_config_file)])
    assert result.exit_code == 0, result.output
    card = json.loads((tuned / "model_card.json").read_text())
    assert card["data"]["kind"] == "nifti" and len(card["data"]["files"]) == 3
    assert card["split"] == {**card["split"], "train": 2, "validation": 1}
    assert card["training"]["init_from"] == str(base) and card["training"]["steps_done"] == 2
    before, after = _weights(base / "model.pt"), _weights(tuned / "model.pt")
    assert any(not np.array_equal(before[k].numpy(), after[k].numpy()) for k in before)


def test_finetune_label_missing_is_a_one_line_error(tmp_path, tiny_config_file):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    write_ball_nifti(images / "a.nii.gz", (0, 0, 0), 20.0)
    result = _cli(["train", "--images", str(images), "--labels", str(labels), "--out", str(tmp_path / "m"),
                   "--steps", "1", "--no-progress", "--config", str(tiny_config_file)])
    assert result.exit_code == 2
    assert "has no label file" in result.output and "Traceback" not in result.output
