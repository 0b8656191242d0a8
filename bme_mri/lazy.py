"""Lazy package exports: ``bme_mri.config`` imports every stage's ``settings`` module, so a
stage's ``__init__`` must not import its heavy modules (SimpleITK, matplotlib, highdicom) or
the config itself at import time."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` importing ``package.<homes[name]>`` on first use."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
