"""Configuration section `quantify` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class QuantifySettings(Section):
    """Settings of the quantify stage; every field documented with its unit."""
