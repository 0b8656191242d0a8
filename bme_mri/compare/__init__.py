"""Compare stage: follow-up vs baseline per hip — registration, change map, status call.

Names are imported lazily (``bme_mri.config`` imports ``bme_mri.compare.settings``, which must
not pull SimpleITK into every command).
"""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

_EXPORTS = {
    "ChangeMap": "change", "change_map": "change", "resample_labels": "change",
    "LongitudinalRow": "longitudinal", "call_side": "longitudinal",
    "write_longitudinal_csv": "longitudinal",
    "Registration": "register", "register_hip": "register",
    "Status": "status", "StatusCall": "status", "call_status": "status",
    "PairComparison": "study_pair", "SideComparison": "study_pair",
    "compare_studies": "study_pair",
    "Comparison": "timepoints", "comparisons": "timepoints", "order_studies": "timepoints",
    "SideVolumes": "visit", "VisitResult": "visit",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
