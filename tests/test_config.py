"""Configuration: defaults load, user files merge, unknown keys are named."""

from pathlib import Path

import pytest

from bme_mri.config import load_config
from bme_mri.errors import ConfigError


def test_default_config_loads_and_has_a_stable_digest():
    assert load_config().digest() == load_config().digest()


def test_user_file_overrides_one_key_and_changes_digest(tmp_path: Path):
    user = tmp_path / "user.yaml"
    user.write_text("compare:\n  status:\n    edema_present_ml: 0.8\n")
    config = load_config(user)
    assert config.compare.status.edema_present_ml == 0.8
    assert config.compare.status.progression_ratio == load_config().compare.status.progression_ratio
    assert config.digest() != load_config().digest()


def test_unknown_key_is_rejected_with_its_name(tmp_path: Path):
    user = tmp_path / "typo.yaml"
    user.write_text("compare:\n  status:\n    edema_present_mll: 0.8\n")
    with pytest.raises(ConfigError, match=r"compare\.status\.edema_present_mll: unknown key"):
        load_config(user)


def test_mistyped_value_is_rejected_with_its_key(tmp_path: Path):
    user = tmp_path / "bad.yaml"
    user.write_text("compare:\n  status:\n    progression_ratio: lots\n")
    with pytest.raises(ConfigError, match=r"compare\.status\.progression_ratio"):
        load_config(user)


def test_missing_and_malformed_files_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("compare: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


# -- values checked for meaning, one line naming the dotted key --------------------------------------

@pytest.mark.parametrize("yaml_text, expected", [
    ("segment:\n  localize:\n    radius_min_mm: 30\n    radius_max_mm: 18\n",
     "segment.localize.radius_min_mm must be < radius_max_mm (got 30 >= 18)"),
    ("compare:\n  status:\n    edema_present_ml: -0.5\n", "compare.status.edema_present_ml must be >= 0"),
    ("ingest:\n  classify:\n    stir_inversion_time_ms: [300, 80]\n",
     "ingest.classify.stir_inversion_time_ms must be [low, high] with low < high (got [300, 80])"),
    ("segment:\n  neck:\n    neck_radius_ratio_range: [0.8, 0.6]\n", "segment.neck.neck_radius_ratio_range must be [low, high]"),
    ("segment:\n  edema:\n    contrast_fraction: 1.5\n", "segment.edema.contrast_fraction must be <= 1"),
    ("compare:\n  registration:\n    sampling_fraction: 0\n", "compare.registration.sampling_fraction must be > 0"),
    ("pipeline:\n  validation:\n    head_dice_min: 1.2\n", "pipeline.validation.head_dice_min must be <= 1"),
    ("segment:\n  localize:\n    n_directions: 0\n", "segment.localize.n_directions must be >= 1 (got 0)"),
    ("segment:\n  necrosis:\n    min_ml: -1\n", "segment.necrosis.min_ml must be >= 0"),
    ("compare:\n  registration:\n    shrink_factors: [4, 2]\n",
     "compare.registration.smoothing_sigmas_mm must have one value per shrink factor"),
])
def test_meaningless_value_is_one_line_naming_the_key(tmp_path: Path, yaml_text: str, expected: str):
    user = tmp_path / "bad.yaml"
    user.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_config(user)
    message = str(info.value)
    assert expected in message, message
    assert "\n" not in message
    assert message.startswith(f"config {user}: ")


def test_every_default_satisfies_its_constraints():
    config = load_config()  # would raise if a default broke a bound
    localize = config.segment.localize
    assert localize.radius_min_mm < localize.radius_max_mm


def test_bad_value_through_the_cli_is_exit_2_one_line(tmp_path: Path, capsys):
    from bme_mri.cli import main

    user = tmp_path / "bad.yaml"
    user.write_text("segment:\n  localize:\n    radius_min_mm: 30\n    radius_max_mm: 18\n")
    code = main(["inspect", str(tmp_path), "--config", str(user)])
    text = capsys.readouterr().err.strip()
    assert code == 2
    assert text == f"error: config {user}: segment.localize.radius_min_mm must be < radius_max_mm (got 30 >= 18)"
