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
