"""Quantify stage: volumes per femoral head, ROI mode for other joints, agreement metrics.

Exports are imported on first use (:mod:`bme_mri.lazy`): the config imports
``bme_mri.quantify.settings``, which must not pull in scipy.stats and the ROI mode."""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

_HOMES = {"dice": "metrics", "label_dice": "metrics", "relative_volume_error": "metrics",
          "volume_error_ml": "metrics", "RoiResult": "roi", "quantify_roi": "roi",
          "SideMeasurement": "volumes", "measure": "volumes"}
__all__ = sorted(_HOMES)
__getattr__ = lazy_exports(__name__, _HOMES)
