"""Fixtures for the scripts' tests: each script imported as a module from its file."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name: str) -> ModuleType:
    """``scripts/NAME.py`` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def eval_heads() -> ModuleType:
    return load_script("eval_heads")


@pytest.fixture(scope="module")
def perturb() -> ModuleType:
    return load_script("perturb_real_heads")


@pytest.fixture(scope="module")
def bench_real_roi() -> ModuleType:
    return load_script("bench_real_roi")
