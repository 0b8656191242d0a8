"""Configuration section `segment` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class SegmentSettings(Section):
    """Settings of the segment stage; every field documented with its unit."""
