"""Configuration section `segment` (values live in configs/default.yaml).

Every threshold of the classical hip segmenter is a field here, with no default in code.
Intensity thresholds are relative to the patient's own normal marrow (median + k x robust
sd, or a fraction of the lesion contrast), never absolute signal values.
"""

from __future__ import annotations

from typing import Literal

from bme_mri.settings import Section


class LocalizeSettings(Section):
    """Femoral head localisation (sphere search on an LPS-aligned isotropic grid)."""

    work_spacing_mm: float  # isotropic voxel size of the working grid (mm)
    body_fraction: float  # body = smoothed signal above this x the median tissue signal
    body_smoothing_mm: float  # Gaussian smoothing (mm) before the body threshold
    n4_bias_correction: bool  # run N4 on a shrunk image before localisation
    n4_shrink_factor: int  # N4 runs on the image shrunk by this factor (speed)
    n4_iterations: int  # N4 iterations per fitting level
    radius_min_mm: float  # smallest femoral head radius searched (mm)
    radius_max_mm: float  # largest femoral head radius searched (mm)
    radius_step_mm: float  # radius step of the sphere vote (mm)
    gradient_sigma_mm: float  # Gaussian scale of the gradient used for voting (mm)
    edge_percentile: float  # voxels above this gradient-magnitude percentile (of the body) vote
    n_candidates: int  # accumulator peaks examined per study
    peak_separation_mm: float  # minimum distance between two accumulator peaks (mm)
    n_directions: int  # ray directions sampled around a candidate centre
    ray_step_mm: float  # sampling step along a ray (mm)
    min_boundary_fraction: float  # fraction of rays with a cortical boundary for a head
    surface_search_mm: float  # the outer cortical surface is the steepest rise within this distance outside the shell's darkest point (mm)
    min_shell_contrast: float  # a shell is this much darker than both sides, x the lower-decile signal inside the head
    fallback_shell_contrast: float  # second try when no sound sphere fits with min_shell_contrast
    max_fit_residual_mm: float  # robust RMS distance of boundary points to the fitted sphere
    fit_exclusion_neck_angle_deg: float  # rays near a neck direction (this far below horizontal, lateral) ...
    fit_exclusion_cone_deg: float  # ... within this half angle are left out of the sphere fit
    refine_iterations: int  # centre/radius refinement passes
    bilateral_min_separation_mm: float  # two heads closer than this in x are not a pair
    bilateral_max_separation_mm: float  # ... nor farther than this
    pair_max_radius_difference_mm: float  # the two heads of a pair differ in radius by at most this
    pair_max_height_difference_mm: float  # ... and in height (LPS z) by at most this
    pair_max_ap_difference_mm: float  # ... and front to back (LPS y) by at most this
    pair_min_score_fraction: float  # the weaker head's score (boundary fraction x vote) >= this x the stronger's
    both_hips_fov_mm: float  # a field at least this wide in x holds both hips: midline = body centre
    edge_body_difference: float  # one x edge plane this much more covered by body: the body runs off there
    midline_margin_mm: float  # a lone head this close to the body midline is sided by its neck opening


class NeckSettings(Section):
    """Neck axis and head-neck junction."""

    neck_shaft_angle_deg: float  # textbook prior of the neck direction (adults ~125-135 deg)
    anteversion_deg: float  # textbook prior: neck runs posteriorly from the head by this angle
    max_axis_deviation_deg: float  # measured neck axis further than this from the prior -> prior
    min_gap_fraction: float  # fewest rays in the neck opening (fraction of rays)
    gap_angle_percentile: float  # percentile of cos(angle to the axis) of the opening's rays = its edge
    max_gap_half_angle_deg: float  # the neck opening is at most this wide (half angle)
    neck_radius_ratio_range: tuple[float, float]  # neck radius / head radius clipped to this
    default_neck_radius_ratio: float  # neck radius / head radius when the opening cannot be measured
    neck_length_mm: float  # length of the neck region (from the junction plane) for edema_headneck


class ReferenceSettings(Section):
    """Normal marrow reference (robust lower mode of marrow intensities)."""

    histogram_bins: int  # bins of the marrow intensity histogram
    histogram_smooth_bins: float  # Gaussian smoothing of the histogram (bins)
    peak_min_fraction: float  # a histogram peak counts when >= this x the highest peak
    window_sd: float  # reference voxels lie within mode +/- this x robust sd
    broad_cv: float  # (ROI mode) a "peak" with robust sd > this x its value is no marrow peak
    skew_ratio: float  # sd below the mode > this x sd above it: the mode is lesion, look below
    min_voxels: int  # fewer reference voxels -> warning and fallback to pooled sides
    min_depth_mm: float  # the reference mode is sought this deep (mm) under the bone surface (partial volume)
    deep_peak_min_fraction: float  # ... where a lower peak from this x the highest wins if the main one is > side_ratio_warn x brighter
    side_ratio_warn: float  # sides' reference medians differing by more than this ratio -> warning


class EdemaSettings(Section):
    """Edema: marrow brighter than the patient's normal marrow (STIR / T2 fat-sat)."""

    smoothing_sigma_mm: float  # Gaussian smoothing before thresholding (mm)
    cortex_thickness_mm: float  # bone shell excluded from marrow (cortex + partial volume, mm)
    k_sd: float  # threshold >= reference median + k_sd x robust sd (noise floor)
    core_k_sd: float  # lesion core: voxels above median + core_k_sd x robust sd
    plateau_percentile: float  # lesion plateau = this percentile of the core voxels
    contrast_fraction: float  # threshold >= median + this x (lesion core median - reference median)
    min_ratio: float  # threshold >= reference median x this ratio
    hysteresis_low_fraction: float  # low threshold = median + this x (high threshold - median)
    fill_enclosed_holes_ml: float  # normal voxels fully enclosed by edema, up to this size, count as edema
    min_component_ml: float  # edema components smaller than this are dropped (noise)
    core_min_ml: float  # a lesion core needs at least this volume to set the contrast threshold


class NecrosisSettings(Section):
    """Necrosis: a subchondral cap cut off by a low-signal band (see segment/necrosis.py)."""

    enabled: bool
    band_k_sd: float  # STIR band: below reference median - band_k_sd x robust sd
    band_t1_fraction: float  # T1 band: below this x the T1 level of normal head marrow
    t1_normal_percentile: float  # percentile of head-marrow T1 taken as normal marrow
    band_min_depth_mm: float  # band voxels at least this deep under the head surface (mm), plus ...
    band_min_reach_mm: float  # a band piece must reach at least this deep under the surface (mm), plus ...
    band_depth_voxel_fraction: float  # ... this x the voxel's extent along the surface normal (mm)
    band_max_start_mm: float  # a band piece must begin within this (mm) of the depth floor (meet the subchondral plate)
    band_closing_mm: float  # closing of the band (mm) to bridge noise gaps
    band_min_ml: float  # smallest band piece considered (ml)
    shadow_depth_mm: float  # the lesion reaches this far (mm) outwards of its band
    min_ml: float  # smallest necrosis reported (ml)
    max_head_fraction: float  # larger "lesions" are rejected (fraction of the head)
    min_inside_fraction: float  # fraction of the lesion that must lie outside the band itself
    interior_check_min_ml: float  # lesions at least this large (ml) must show a marrow-like inside
    band_smoothing_sigma_mm: float  # smoothing before the band thresholds (mm)


class LearnedTrainingSettings(Section):
    """Training of the learned femoral-head finder (``bme-mri train``)."""

    batch_size: int  # volumes per optimiser step
    learning_rate: float  # AdamW
    weight_decay: float
    val_fraction: float  # fraction of the volumes held out for validation (0-1)
    checkpoint_minutes: float  # checkpoint at least this often (minutes)
    num_workers: int  # data worker processes (0 = none)
    validate_every_steps: int
    channels: list[int]  # MONAI UNet channels per level
    finetune_patch_voxels: int  # crop size (voxels, working grid) when fine-tuning on NIfTI


class LearnedSettings(Section):
    """The learned femoral-head finder (``bme_mri.learn``)."""

    model_dir: str  # weights + model card; relative = from the bme-mri source root
    device: Literal["auto", "cpu", "cuda"]
    cpu_threads: int
    probability_threshold: float  # p(head) at or above this is head
    min_component_ml: float  # smaller connected components are not heads (ml)
    max_heads_per_side: int
    training: LearnedTrainingSettings


class SegmentSettings(Section):
    """Settings of the segment stage; every field documented with its unit."""

    method: Literal["classical"]  # which Segmenter get_segmenter returns
    localize: LocalizeSettings
    neck: NeckSettings
    reference: ReferenceSettings
    edema: EdemaSettings
    necrosis: NecrosisSettings
    learned: LearnedSettings
