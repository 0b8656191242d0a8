"""Configuration section `segment` (values live in configs/default.yaml).

Every threshold of the classical hip segmenter is a field here, with no default in code.
Intensity thresholds are relative to the patient's own normal marrow (median + k x robust
sd, or a fraction of the lesion contrast), never absolute signal values.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from typing import Literal

from bme_mri.settings import Angle, Count, Fraction, NonNegative, NonNegativeInt, Percentile, Positive, PositiveRange, Section


class LocalizeSettings(Section):
    """Femoral head localisation (sphere search on an LPS-aligned isotropic grid)."""

    ordered_fields = (("radius_min_mm", "radius_max_mm"),
                      ("bilateral_min_separation_mm", "bilateral_max_separation_mm"))

    work_spacing_mm: Positive  # isotropic voxel size of the working grid (mm)
    vote_spacing_mm: Positive = 1.5  # voxel size of the centre vote (mm; a whole multiple of work_spacing_mm is used)
    body_fraction: NonNegative  # body = smoothed signal above this x the median tissue signal
    body_smoothing_mm: NonNegative  # Gaussian smoothing (mm) before the body threshold
    n4_bias_correction: bool  # run N4 on a shrunk image before localisation
    n4_shrink_factor: Count  # N4 runs on the image shrunk by this factor (speed)
    n4_iterations: Count  # N4 iterations per fitting level
    radius_min_mm: Positive  # smallest femoral head radius searched (mm)
    radius_max_mm: Positive  # largest femoral head radius searched (mm)
    radius_step_mm: Positive  # radius step of the sphere vote (mm)
    gradient_sigma_mm: Positive  # Gaussian scale of the gradient used for voting (mm)
    edge_percentile: Percentile  # voxels above this gradient-magnitude percentile (of the body) vote
    vote_max_points: NonNegativeInt  # at most this many edge voxels vote (evenly spread subset; 0 = all)
    vote_fov_margin_mm: NonNegative = 0.0  # edge voxels this close to the field of view's boundary do not vote (mm)
    vote_relative_scale_mm: NonNegative = 0.0  # edges judged relative to the local signal level at this scale (mm; 0 = absolute)
    vote_relative_floor: NonNegative = 0.3  # ... the local level counted at least this x the body mean
    n_candidates: Count  # accumulator peaks examined per study
    stop_when_paired: bool = True  # stop fitting vote peaks once the pair found cannot be outscored by those left
    stop_min_quality: Fraction = 0.5  # ... and both heads of that pair show their cortex on at least this fraction of rays
    peak_separation_mm: NonNegative  # minimum distance between two accumulator peaks (mm)
    n_directions: Count  # ray directions sampled around a candidate centre
    ray_step_mm: Positive  # sampling step along a ray (mm)
    min_boundary_fraction: Fraction  # fraction of rays with a cortical boundary for a head
    surface_search_mm: NonNegative  # the outer cortical surface is the steepest rise within this distance outside the shell's darkest point (mm)
    min_shell_contrast: NonNegative  # a shell is this much darker than both sides, x the lower-decile signal inside the head
    fallback_shell_contrast: NonNegative  # second try when no sound sphere fits with min_shell_contrast
    max_fit_residual_mm: Positive  # robust RMS distance of boundary points to the fitted sphere
    fit_exclusion_neck_angle_deg: Angle  # rays near a neck direction (this far below horizontal, lateral) ...
    fit_exclusion_cone_deg: Angle  # ... within this half angle are left out of the sphere fit
    refine_iterations: NonNegativeInt  # centre/radius refinement passes
    native_refine: bool  # refit the chosen heads' spheres on the analysed image's own grid
    native_ray_step_mm: Positive  # sampling step along a ray on the image's own grid (mm)
    native_max_ray_extent_mm: Positive  # rays along which a voxel is longer than this (mm) are left out of that refit ...
    native_min_ray_fraction: Fraction  # ... but at least this fraction of all rays (the least blurred) is kept
    native_surface_search_mm: Positive  # on the own grid, the outer surface is the steepest rise within this outside the shell minimum (mm)
    native_edge_tolerance_mm: Positive  # a ray's surface counts within this of the current radius (mm)
    native_iterations: Count  # refit passes on the image's own grid
    native_min_rays: Count  # fewer rays with a surface: the working-grid sphere stands
    native_max_change_mm: Positive  # a refit moving the centre or radius more than this (mm) is not taken
    head_radius_range_mm: PositiveRange  # a final fitted radius outside this (mm) is no adult femoral head
    bilateral_min_separation_mm: NonNegative  # two heads closer than this in x are not a pair
    bilateral_max_separation_mm: NonNegative  # ... nor farther than this
    pair_max_radius_difference_mm: NonNegative  # the two heads of a pair differ in radius by at most this
    pair_max_height_difference_mm: NonNegative  # ... and in height (LPS z) by at most this
    pair_max_ap_difference_mm: NonNegative  # ... and front to back (LPS y) by at most this
    pair_min_score_fraction: Fraction  # the weaker head's score (boundary fraction x vote) >= this x the stronger's
    both_hips_fov_mm: Positive  # a field at least this wide in x holds both hips: midline = body centre
    edge_body_difference: Fraction  # one x edge plane this much more covered by body: the body runs off there
    cut_edge_reach: Positive  # a lone head whose imaged tissue ends within this x radius on one x side only is cut there: that side is lateral
    isocentre_exclusion_mm: NonNegative  # a lone candidate in a narrow field inside the body, this near LPS x = 0 and within a head radius of the field's body centre, is on the midline: never a head
    midline_margin_mm: NonNegative  # a lone head this close to the body midline is sided by its neck opening
    step_edge_sequences: list[str]  # sequence classes with fat-bright marrow: the head boundary is a step down, fitted by segment.fatty_marrow
    step_edge_try_shell: bool = False  # fat-bright series: where the step fit finds no sound sphere, the shell fit is tried
    step_min_drop: Fraction  # a ray's step counts when the signal falls by at least this x the marrow level
    step_cortex_mm: NonNegative  # outer bone surface this far outside the fat-bright marrow sphere (mm)


class NeckSettings(Section):
    """Neck axis and head-neck junction."""

    neck_shaft_angle_deg: Angle  # textbook prior of the neck direction (adults ~125-135 deg)
    anteversion_deg: float  # textbook prior: neck runs posteriorly from the head by this angle
    max_axis_deviation_deg: Angle  # measured neck axis further than this from the prior -> prior
    min_gap_fraction: Fraction  # fewest rays in the neck opening (fraction of rays)
    gap_angle_percentile: Percentile  # percentile of cos(angle to the axis) of the opening's rays = its edge
    max_gap_half_angle_deg: Angle  # the neck opening is at most this wide (half angle)
    neck_radius_ratio_range: PositiveRange  # neck radius / head radius clipped to this
    default_neck_radius_ratio: Positive  # neck radius / head radius when the opening cannot be measured
    measure_sections: bool  # neck radius and junction from cross-sections of the neck on the image's grid
    section_positions: list[Positive]  # axial distances of the sections from the head centre (x head radius)
    section_rays: Count  # rays per section
    section_search_ratio: PositiveRange  # the neck surface is sought between these x head radius from the axis
    section_min_rays: Count  # rays with a surface needed for a section's circle
    section_min_count: Count  # sections needed; fewer -> the cortex opening is used
    junction_rule: Literal["taper_at_centre", "surface_meets_sphere"]  # which neck radius sets the junction plane (see localize.neck_from_sections)
    section_iterations: Count  # passes re-aiming the axis through the sections' centres
    neck_length_mm: NonNegative  # length of the neck region (from the junction plane) for edema_headneck


class ReferenceSettings(Section):
    """Normal marrow reference (robust lower mode of marrow intensities)."""

    histogram_bins: Count  # bins of the marrow intensity histogram
    histogram_smooth_bins: NonNegative  # Gaussian smoothing of the histogram (bins)
    peak_min_fraction: Fraction  # a histogram peak counts when >= this x the highest peak
    window_sd: Positive  # reference voxels lie within mode +/- this x robust sd
    min_voxels: Count  # fewer reference voxels -> warning and fallback to pooled sides
    min_depth_mm: NonNegative  # the reference mode is sought this deep (mm) under the bone surface (partial volume)
    deep_peak_min_fraction: Fraction  # ... where a lower peak from this x the highest wins if the main one is > side_ratio_warn x brighter
    side_ratio_warn: Annotated[float, Field(ge=1)]  # sides' reference medians differing by more than this ratio -> warning
    minority_valley_fraction: Fraction = 0.5  # ... and only when the histogram dips between the two peaks below this x the lower peak's height (two populations, not a wiggle of one)


class EdemaSettings(Section):
    """Edema: marrow brighter than the patient's normal marrow (STIR / T2 fat-sat)."""

    smoothing_sigma_mm: NonNegative  # Gaussian smoothing before thresholding (mm)
    cortex_thickness_mm: NonNegative  # bone shell excluded from marrow (cortex + partial volume, mm)
    k_sd: NonNegative  # threshold >= reference median + k_sd x robust sd (noise floor)
    core_k_sd: NonNegative  # lesion core: voxels above median + core_k_sd x robust sd
    plateau_percentile: Percentile  # lesion plateau = this percentile of the core voxels
    contrast_fraction: Fraction  # threshold >= median + this x (lesion core median - reference median)
    min_ratio: Positive  # threshold >= reference median x this ratio
    hysteresis_low_fraction: Fraction  # low threshold = median + this x (high threshold - median)
    fill_enclosed_holes_ml: NonNegative  # normal voxels fully enclosed by edema, up to this size, count as edema
    min_component_ml: NonNegative  # edema components smaller than this are dropped (noise)
    core_min_ml: NonNegative  # a lesion core needs at least this volume to set the contrast threshold
    core_min_depth_mm: NonNegative  # the core (plateau) is taken from head marrow at least this deep under the head surface (mm)
    local_plateau_radius_mm: NonNegative = 0.0  # border at half the contrast of the brightest lesion signal within this distance (mm); 0 = the global plateau only
    range_sd: NonNegative = 1.0  # volume range: the edema at thresholds this many reference sd higher and lower


class NecrosisSettings(Section):
    """Necrosis: a subchondral cap cut off by a low-signal band (see segment/necrosis.py)."""

    enabled: bool
    band_k_sd: NonNegative  # STIR band: below reference median - band_k_sd x robust sd
    band_sd_from_band_image: bool  # ... that sd measured on the band image itself (never under the reference's)
    band_t1_fraction: Fraction  # T1 band: below this x the T1 level of normal head marrow
    t1_normal_percentile: Percentile  # percentile of head-marrow T1 taken as normal marrow
    band_t1_min_fraction: Fraction  # with a T1, this fraction of a band piece must be dark on the T1
    band_min_depth_mm: NonNegative  # band voxels at least this deep under the head surface (mm), plus ...
    band_min_reach_mm: NonNegative  # a band piece must reach at least this deep under the surface (mm), plus ...
    band_depth_voxel_fraction: NonNegative  # ... this x the voxel's extent along the surface normal (mm)
    band_max_start_mm: NonNegative  # a band piece must begin within this (mm) of the depth floor (meet the subchondral plate)
    band_closing_mm: NonNegative  # closing of the band (mm) to bridge noise gaps
    band_min_ml: NonNegative  # smallest band piece considered (ml) ...
    band_small_t1_fraction: Fraction  # ... unless at least this fraction of it is dark on the T1 too ...
    band_small_min_voxels: Count  # ... and it has at least this many voxels (a piece seen on both series)
    band_half_contrast: bool  # the lesion is cast from the band's voxels darker than half its contrast to normal marrow
    band_border_max_iterations: Count  # ... midpoint re-estimated at most this often
    shadow_depth_mm: Positive  # the lesion reaches this far (mm) outwards of its band
    shell_margin_voxels: NonNegativeInt  # the lesion grows this many voxels into the shell above the depth floor
    min_ml: NonNegative  # smallest necrosis reported (ml)
    max_head_fraction: Fraction  # larger "lesions" are rejected (fraction of the head)
    min_inside_fraction: Fraction  # fraction of the lesion that must lie outside the band itself
    interior_check_min_ml: NonNegative  # lesions at least this large (ml) must show a marrow-like inside
    band_smoothing_sigma_mm: NonNegative  # smoothing before the band thresholds (mm)
    lesion_closing_voxels: NonNegativeInt  # kept lesions closed with the 26-neighbourhood this often (voxels; 0 = off)


class LearnedTrainingSettings(Section):
    """Training of the learned femoral-head finder (``bme-mri train``)."""

    batch_size: Count  # volumes per optimiser step
    learning_rate: Positive  # AdamW
    weight_decay: NonNegative
    val_fraction: Fraction  # fraction of the volumes held out for validation (0-1)
    checkpoint_minutes: NonNegative  # checkpoint at least this often (minutes; 0 = every step)
    num_workers: NonNegativeInt  # data worker processes (0 = none)
    validate_every_steps: Count
    channels: list[Count]  # MONAI UNet channels per level
    finetune_patch_voxels: Count  # crop size (voxels, working grid) when fine-tuning on NIfTI


class LearnedSettings(Section):
    """The learned femoral-head finder (``bme_mri.learn``)."""

    model_dir: str  # weights + model card; relative = from the bme-mri source root
    device: Literal["auto", "cpu", "cuda"]
    cpu_threads: Count
    probability_threshold: Fraction  # p(head) at or above this is head
    min_component_ml: NonNegative  # smaller connected components are not heads (ml)
    max_heads_per_side: Count
    max_fit_offset_mm: Positive  # the sphere fit seeded at a network head is kept within this distance (mm)
    training: LearnedTrainingSettings


class SegmentSettings(Section):
    """Settings of the segment stage; every field documented with its unit."""

    method: Literal["classical", "learned"]  # which Segmenter get_segmenter returns
    localize: LocalizeSettings
    neck: NeckSettings
    reference: ReferenceSettings
    edema: EdemaSettings
    necrosis: NecrosisSettings
    learned: LearnedSettings
