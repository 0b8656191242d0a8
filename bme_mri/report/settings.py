"""Configuration section `report` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class ReportSettings(Section):
    """Settings of the report stage; every field documented with its unit."""
