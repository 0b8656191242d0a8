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
    min_shell_contrast: float  # (outside - cortex) / body scale a head's cortex must show
    max_fit_residual_mm: float  # robust RMS distance of boundary points to the fitted sphere
    refine_iterations: int  # centre/radius refinement passes
    bilateral_min_separation_mm: float  # two heads closer than this in x are not a pair
    bilateral_max_separation_mm: float  # ... nor farther than this
    midline_exclusion_mm: float  # candidates this close to the body midline are rejected


class NeckSettings(Section):
    """Neck axis and head-neck junction."""

    gap_boundary_fraction: float  # a ray "opens" into the neck when its boundary score is below this x median
    min_gap_fraction: float  # fewest rays in the neck gap (fraction of rays)
    max_gap_half_angle_deg: float  # the neck opening is at most this wide (half angle)
    default_neck_radius_ratio: float  # neck radius / head radius when the gap cannot be measured
    neck_length_mm: float  # length of the neck region (from the junction plane) for edema_headneck


class ReferenceSettings(Section):
    """Normal marrow reference (robust lower mode of marrow intensities)."""

    histogram_bins: int  # bins of the marrow intensity histogram
    histogram_smooth_bins: float  # Gaussian smoothing of the histogram (bins)
    peak_min_fraction: float  # a histogram peak counts when >= this x the highest peak
    window_sd: float  # reference voxels lie within mode +/- this x robust sd
    min_voxels: int  # fewer reference voxels -> warning and fallback to pooled sides
    side_ratio_warn: float  # sides' reference medians differing by more than this ratio -> warning


class EdemaSettings(Section):
    """Edema: marrow brighter than the patient's normal marrow (STIR / T2 fat-sat)."""

    smoothing_sigma_mm: float  # Gaussian smoothing before thresholding (mm)
    cortex_thickness_mm: float  # bone shell excluded from marrow (cortex + partial volume, mm)
    k_sd: float  # threshold >= reference median + k_sd x robust sd (noise floor)
    core_k_sd: float  # lesion core: voxels above median + core_k_sd x robust sd
    contrast_fraction: float  # threshold >= median + this x (lesion core median - reference median)
    min_ratio: float  # threshold >= reference median x this ratio
    hysteresis_low_fraction: float  # low threshold = median + this x (high threshold - median)
    fill_enclosed_holes_ml: float  # normal voxels fully enclosed by edema, up to this size, count as edema
    min_component_ml: float  # edema components smaller than this are dropped (noise)
    core_min_ml: float  # a lesion core needs at least this volume to set the contrast threshold


class NecrosisSettings(Section):
    """Necrosis: a focal subchondral region enclosed by a low-signal band."""

    enabled: bool
    band_k_sd: float  # band voxels darker than reference median - band_k_sd x robust sd (STIR)
    band_t1_fraction: float  # or, with a T1, darker than this x the T1 marrow reference
    band_closing_mm: float  # morphological closing of the band (mm) to bridge noise gaps
    subchondral_depth_mm: float  # the lesion must touch the zone this deep under the head surface
    min_ml: float  # smallest necrosis reported (ml)
    max_head_fraction: float  # a "lesion" larger than this fraction of the head is rejected
    min_enclosure: float  # fraction of the lesion boundary (inside the marrow) formed by the band
    band_smoothing_sigma_mm: float  # smoothing before the band threshold (mm)


class SegmentSettings(Section):
    """Settings of the segment stage; every field documented with its unit."""

    method: Literal["classical"]  # which Segmenter get_segmenter returns
    localize: LocalizeSettings
    neck: NeckSettings
    reference: ReferenceSettings
    edema: EdemaSettings
    necrosis: NecrosisSettings
