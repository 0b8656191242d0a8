"""Tiny settings and volumes for the learned head finder's tests (seconds on a CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0)")
pytest.importorskip("monai", reason="MONAI is not installed (pip install monai)")

TINY_TRAINING = {"batch_size": 2, "num_workers": 0, "checkpoint_minutes": 0.0,
                 "validate_every_steps": 1, "channels": [4, 8], "finetune_patch_voxels": 16}


@pytest.fixture
def tiny_settings():
    """segment.learned with a 2-level, 4-8 channel U-Net and a checkpoint at every step."""
    from bme_mri.config import load_config

    learned = load_config().segment.learned
    return learned.model_copy(update={"training": learned.training.model_copy(update=TINY_TRAINING)})


@pytest.fixture
def tiny_recipe():
    from bme_mri.learn.synth import SynthRecipe

    return SynthRecipe(shape=(16, 16, 16))


@pytest.fixture
def tiny_config_file(tmp_path: Path) -> Path:
    """A user config (YAML) with the tiny training settings, for the CLI."""
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({"segment": {"learned": {"training": TINY_TRAINING}}}))
    return path


def write_ball_nifti(path: Path, centre_mm, radius_mm: float, shape=(24, 24, 20), spacing=3.5,
                     label: bool = False) -> None:
    """A NIfTI with a dark-rimmed bright ball (or its label: 1 inside the ball) on an axial grid."""
    from bme_mri.nifti import write_nifti
    from bme_mri.types import Geometry

    geometry = Geometry(shape, (spacing,) * 3, (-0.5 * spacing * shape[0], -0.5 * spacing * shape[1],
                                                 -0.5 * spacing * shape[2]), np.eye(3))
    idx = np.indices(shape).reshape(3, -1).T
    d = np.linalg.norm(geometry.index_to_lps(idx) - np.asarray(centre_mm), axis=1).reshape(shape)
    if label:
        array = (d <= radius_mm).astype(np.float32)
    else:
        rng = np.random.default_rng(int(radius_mm * 10))
        array = np.where(d <= radius_mm - 2, 1.0, np.where(d <= radius_mm, 0.1, 0.5))
        array = (array + rng.normal(0, 0.05, shape)).astype(np.float32)
    write_nifti(array, geometry, path)
