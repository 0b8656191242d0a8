"""Configuration section `compare` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class StatusThresholds(Section):
    """Follow-up call thresholds (ml). Configuration, not published cut-offs."""

    necrosis_min_ml: float  # focal necrosis present at follow-up at or above this
    edema_present_ml: float  # edema below this counts as absent
    progression_ratio: float  # follow-up > baseline x ratio ...
    progression_min_increase_ml: float  # ... and > baseline + this


class CompareSettings(Section):
    """Settings of the follow-up comparison stage."""

    status: StatusThresholds
