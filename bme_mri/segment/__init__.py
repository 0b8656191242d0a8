"""Segment stage: femoral heads, edema and necrosis on the analysed series' grid.

Exports are imported on first use (:mod:`bme_mri.lazy`): the config imports
``bme_mri.segment.settings``, which must not pull in the segmenters."""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

_HOMES = {name: "base" for name in ("HeadFinding", "ReferenceMarrow", "Segmentation", "Segmenter",
                                    "get_segmenter")}
_HOMES["SegmentSettings"] = "settings"
__all__ = sorted(_HOMES)
__getattr__ = lazy_exports(__name__, _HOMES)
