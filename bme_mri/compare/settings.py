"""Configuration section `compare` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class CompareSettings(Section):
    """Settings of the compare stage; every field documented with its unit."""
