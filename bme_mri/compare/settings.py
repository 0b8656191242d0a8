"""Configuration section `compare` (values live in configs/default.yaml)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from bme_mri.settings import Angle, Count, Fraction, NonNegative, NonNegativeInt, Positive, Section


class StatusThresholds(Section):
    """Follow-up call thresholds (ml). Configuration, not published cut-offs."""

    necrosis_min_ml: NonNegative  # focal necrosis present at follow-up at or above this
    edema_present_ml: NonNegative  # edema below this counts as absent
    progression_ratio: Annotated[float, Field(ge=1)]  # follow-up > baseline x ratio ...
    progression_min_increase_ml: NonNegative  # ... and > baseline + this
    max_head_volume_change: NonNegative = 0.2  # the same femoral head at two visits: larger / smaller volume - 1 above this -> head_size_changed (blocking)


class RegistrationSettings(Section):
    """Rigid follow-up -> baseline registration per hip (SimpleITK); lengths in mm."""

    cube_mm: Positive  # side of the cube around the baseline head centre that is registered
    search_margin_mm: NonNegative  # extra follow-up context around the cube (expected motion)
    resample_spacing_mm: Positive  # isotropic grid both cubes are resampled to before registering
    mask_radius_mm: Positive  # default bone mask: sphere of this radius around the head centre
    histogram_bins: Count  # Mattes mutual information bins
    sampling_fraction: Annotated[float, Field(gt=0, le=1)]  # fraction of fixed-mask voxels sampled by the metric (0-1]
    sampling_seed: NonNegativeInt  # seed of the metric's random sampling (reproducible results)
    shrink_factors: list[Count]  # multi-resolution pyramid, coarse -> fine
    smoothing_sigmas_mm: list[NonNegative]  # Gaussian smoothing per level (mm)
    learning_rate: Positive  # regular-step gradient descent: initial step (scaled, ~mm)
    min_step: Positive  # ... stop when the step falls below this
    max_iterations: Count  # ... per level
    min_quality_ncc: Annotated[float, Field(ge=-1, le=1)]  # quality (normalised correlation in the bone mask) below -> failed
    lesion_margin_mm: NonNegative  # edema / necrosis of either visit, grown by this, left out of metric and NCC
    min_stable_fraction: Fraction  # fewer lesion-free voxels than this x the mask: use the whole mask
    max_rotation_deg: Angle  # a larger recovered rotation is implausible -> failed
    max_translation_mm: NonNegative  # a larger recovered head-centre shift is implausible -> failed
    max_center_mismatch_mm: NonNegative  # mapped baseline head centre this far from the follow-up's own fit -> failed

    @model_validator(mode="after")
    def _one_sigma_per_level(self):
        if len(self.smoothing_sigmas_mm) != len(self.shrink_factors):
            raise ValueError(f"smoothing_sigmas_mm must have one value per shrink factor (got "
                             f"{len(self.smoothing_sigmas_mm)} for {len(self.shrink_factors)})")
        return self


class ChangeSettings(Section):
    """Regional change map after registration."""

    min_component_ml: NonNegative  # new/resolved edema clusters smaller than this are not reported


class CompareSettings(Section):
    """Settings of the follow-up comparison stage."""

    status: StatusThresholds
    registration: RegistrationSettings
    change: ChangeSettings
