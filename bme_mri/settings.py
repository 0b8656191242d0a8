"""Base class for every configuration section: unknown keys are errors, values are typed.

Each stage declares its own section model (``bme_mri/<stage>/settings.py``) deriving from
:class:`Section`; fields have **no defaults in code** — ``configs/default.yaml`` is the one
place where thresholds live, and :mod:`bme_mri.config` merges a user file over it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config section: forbids unknown keys, validates assignments, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
