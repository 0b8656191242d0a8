"""Pipeline orchestration: one study (``analyse_study``) and whole folder trees (``run_batch``).

Names are imported lazily so that ``bme_mri.config`` can import this package's settings
without pulling in the whole pipeline.
"""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

__all__ = ["BatchResult", "StudyAnalysis", "analyse_study", "run_batch"]

_HOMES = {"BatchResult": "batch", "run_batch": "batch", "StudyAnalysis": "study", "analyse_study": "study"}

__getattr__ = lazy_exports(__name__, _HOMES)
