"""Configuration section `ingest` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class IngestSettings(Section):
    """Settings of the ingest stage; every field documented with its unit."""
