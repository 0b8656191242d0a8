"""bme-mri: bone marrow edema of the hip on MRI, measured in ml.

Research software, not a medical device: every number it produces must be read by a
qualified person before it informs any clinical decision.

The Python API (:mod:`bme_mri.api`, imported on first use)::

    from bme_mri import analyse_study, compare_studies, quantify_roi
"""

from bme_mri.lazy import lazy_exports

__version__ = "0.1.0"

_HOMES = {name: "api" for name in ("analyse_study", "compare_studies", "quantify_roi", "HipResult",
                                   "StudyResult", "HipCall", "Comparison", "RoiSummary")}
__all__ = ["__version__", *sorted(_HOMES)]
__getattr__ = lazy_exports(__name__, _HOMES)
