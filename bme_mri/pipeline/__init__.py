"""Pipeline orchestration: one study (``analyse_study``) and whole folder trees (``run_batch``).

Names are imported lazily so that ``bme_mri.config`` can import this package's settings
without pulling in the whole pipeline.
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["BatchResult", "StudyAnalysis", "analyse_study", "run_batch"]

_HOMES = {"BatchResult": "batch", "run_batch": "batch", "StudyAnalysis": "study", "analyse_study": "study"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f"bme_mri.pipeline.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'bme_mri.pipeline' has no attribute {name!r}")
