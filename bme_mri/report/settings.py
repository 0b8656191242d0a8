"""Configuration section `report` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import NonNegativeInt, Positive, Section


class ReportSettings(Section):
    """Settings of the report stage; every field documented with its unit."""

    overlay_half_width_mm: Positive  # half the side of the square field of view of overlay panels
    seg_series_number: NonNegativeInt  # SeriesNumber of written DICOM SEG objects
    seg_series_description: str  # SeriesDescription of written DICOM SEG objects
    seg_manufacturer: str  # Manufacturer recorded in the SEG (the software's maker)
    seg_algorithm_name: str  # SegmentAlgorithmName (AUTOMATIC segments)
