"""Configuration section `pipeline` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class PipelineSettings(Section):
    """Settings of the pipeline stage; every field documented with its unit."""
