"""Configuration section `compare` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Section


class StatusThresholds(Section):
    """Follow-up call thresholds (ml). Configuration, not published cut-offs."""

    necrosis_min_ml: float  # focal necrosis present at follow-up at or above this
    edema_present_ml: float  # edema below this counts as absent
    progression_ratio: float  # follow-up > baseline x ratio ...
    progression_min_increase_ml: float  # ... and > baseline + this


class RegistrationSettings(Section):
    """Rigid follow-up -> baseline registration per hip (SimpleITK); lengths in mm."""

    cube_mm: float  # side of the cube around the baseline head centre that is registered
    search_margin_mm: float  # extra follow-up context around the cube (expected motion)
    resample_spacing_mm: float  # isotropic grid both cubes are resampled to before registering
    mask_radius_mm: float  # default bone mask: sphere of this radius around the head centre
    histogram_bins: int  # Mattes mutual information bins
    sampling_fraction: float  # fraction of fixed-mask voxels sampled by the metric (0-1]
    sampling_seed: int  # seed of the metric's random sampling (reproducible results)
    shrink_factors: list[int]  # multi-resolution pyramid, coarse -> fine
    smoothing_sigmas_mm: list[float]  # Gaussian smoothing per level (mm)
    learning_rate: float  # regular-step gradient descent: initial step (scaled, ~mm)
    min_step: float  # ... stop when the step falls below this
    max_iterations: int  # ... per level
    min_quality_ncc: float  # quality (normalised correlation in the bone mask) below -> failed
    lesion_margin_mm: float  # edema / necrosis of either visit, grown by this, left out of metric and NCC
    min_stable_fraction: float  # fewer lesion-free voxels than this x the mask: use the whole mask
    max_rotation_deg: float  # a larger recovered rotation is implausible -> failed
    max_translation_mm: float  # a larger recovered head-centre shift is implausible -> failed
    max_center_mismatch_mm: float  # mapped baseline head centre this far from the follow-up's own fit -> failed


class ChangeSettings(Section):
    """Regional change map after registration."""

    min_component_ml: float  # new/resolved edema clusters smaller than this are not reported


class CompareSettings(Section):
    """Settings of the follow-up comparison stage."""

    status: StatusThresholds
    registration: RegistrationSettings
    change: ChangeSettings
