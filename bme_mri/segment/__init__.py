"""Segment stage: femoral heads, edema and necrosis on the analysed series' grid."""

from bme_mri.segment.base import (
    HeadFinding, ReferenceMarrow, Segmentation, Segmenter, get_segmenter,
)
from bme_mri.segment.settings import SegmentSettings

__all__ = ["HeadFinding", "ReferenceMarrow", "Segmentation", "Segmenter", "SegmentSettings",
           "get_segmenter"]
