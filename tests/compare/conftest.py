"""Fixtures: the `compare` section of configs/default.yaml, validated on its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bme_mri.compare.settings import CompareSettings

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


@pytest.fixture(scope="session")
def compare_settings() -> CompareSettings:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    return CompareSettings.model_validate(data["compare"])
