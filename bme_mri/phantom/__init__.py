"""Phantom stage: synthetic hip MRI studies as DICOM with ground truth beside the tree.

``generate_cohort(out_dir, cohort, seed, png=False)`` writes ``out_dir/dicom/`` (the input
tree), ``out_dir/truth/`` (``cohort.json``, per study ``labels.nii.gz`` + ``truth.json``) and,
with ``png``, ``out_dir/png/``. Phantoms test the pipeline; segmentation code must never
import this package.

Names are imported lazily so that ``bme_mri.config`` can import this package's settings
without pulling in the generator (which itself reads the config).
"""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

__all__ = ["COHORTS", "cohort_plans", "generate_cohort", "render_truth_png"]

_HOMES = {"COHORTS": "cohort", "cohort_plans": "cohort", "generate_cohort": "cohort",
          "render_truth_png": "preview"}

__getattr__ = lazy_exports(__name__, _HOMES)
