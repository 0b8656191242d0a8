"""Report stage: overlay PNGs, the patient HTML report, DICOM SEG.

Names are imported lazily (``bme_mri.config`` imports ``bme_mri.report.settings``; matplotlib
and highdicom load only when used).
"""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

_EXPORTS = {
    "render_overlay_png": "overlay", "render_pair_png": "overlay",
    "write_patient_report": "html", "render_patient_html": "html",
    "PatientReport": "model", "VisitSummary": "model", "SideMeasurement": "model",
    "SideCall": "model", "ReportImage": "model", "DISCLAIMER": "model",
    "write_dicom_seg": "seg",
    "patient_report": "build",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
