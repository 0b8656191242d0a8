"""Configuration section `phantom` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class PhantomSettings(Section):
    """Settings of the phantom stage; every field documented with its unit."""
