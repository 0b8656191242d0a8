"""Configuration section `quantify` (values live in configs/default.yaml).

ROI mode has its own rules (``quantify.roi``), documented in :mod:`bme_mri.quantify.lesions`,
:mod:`bme_mri.quantify.reference`, :mod:`bme_mri.quantify.grid` and :mod:`bme_mri.quantify.vhi`;
the hip segmenter's ``segment.edema`` rules are not used by ROI mode.
"""

from __future__ import annotations

from typing import Literal

from bme_mri.settings import Count, Fraction, NonNegative, Positive, PositiveRange, Section


class RoiSettings(Section):
    """ROI mode (any joint: a bone mask given by the user). Units in the names or below; the
    rules are those of :mod:`bme_mri.quantify.lesions`."""

    reference_source_min_voxels: int  # a given reference mask (and the normal marrow found) needs at least this many voxels
    method: Literal["hysteresis", "vhi"]  # default lesion method
    grid_tolerance_voxel: float  # masks within this x the smallest voxel size are on the image grid
    smoothing_sigma_mm: float  # Gaussian smoothing before the rules (mm)
    reference_histogram_bins: int
    reference_histogram_smooth_bins: float
    reference_peak_min_fraction: float  # lowest histogram peak at least this x the highest
    reference_window_sd: float  # normal marrow at first: centre +/- this x its bone-wide sd; the local level stays in that range
    background_sigma_mm: Positive  # the normal-marrow level is a Gaussian-weighted mean of this sigma (mm)
    background_min_depth_mm: NonNegative  # normal marrow deeper than this under the bone surface (mm)
    background_outlier_sd: Positive  # normal marrow within this many sd of its level, either side
    background_max_iterations: Count  # normal marrow <-> lesions re-estimated at most this often
    background_tolerance_fraction: Fraction  # ... until the lesion volume changes by less than this fraction
    lesion_halo_mm: NonNegative  # lesions and this margin (mm) are left out of normal marrow
    seed_family_false_positive_rate: Fraction  # floor: a smooth Gaussian field's level with a false blob in this fraction of scans
    seed_false_discovery_rate: Fraction  # seeds: dark blobs at most this x bright blobs above the seed level
    seed_search_sd: PositiveRange  # the seed level is searched between these (sd)
    seed_count_min_ml: NonNegative  # blobs counted for the seed level hold at least this (ml)
    seed_min_depth_mm: NonNegative  # seeds at least this deep under the bone surface (mm)
    grow_sd: NonNegative  # lesions grow down to this many sd above their local normal marrow
    border_contrast_fraction: Fraction  # ... and above this x the brightest lesion signal nearby (partial volume)
    border_plateau_radius_mm: Positive  # ... within this distance (mm)
    range_sd: NonNegative  # volume range: seed and grow levels this many sd lower and higher
    vessel_max_radius_mm: float  # thinner components (in-plane inscribed radius, mm) ...
    vessel_min_elongation: float  # ... this many diameters long are vessels
    min_lesion_ml: float  # smaller components are speckle (ml)
    fill_hole_max_mm2: float  # in-plane islands enclosed by lesion up to this area count (mm^2)
    vhi_tukey_multiple: float  # VHI baseline (published): start multiple of IQR above Q3
    vhi_multiple_step: float  # ... raised in these steps
    vhi_gap_iqr_fraction: float  # ... until max(sample) - threshold < this x IQR
    vhi_min_pixels: int  # ... in-slice 8-connected pieces smaller than this removed


class QuantifySettings(Section):
    """Settings of the quantify stage; every field documented with its unit."""

    roi: RoiSettings


class QcHeadSettings(Section):
    """Femoral head fit and coverage (quality-control rules per hip)."""

    min_boundary_fraction: float  # fewer rays (fraction) with a consistent cortical boundary -> head_fit_poor
    max_fit_residual_mm: float  # larger robust RMS of shell points around the sphere (mm) -> head_fit_poor
    max_outside_fov_fraction: float  # more of the head proper's volume (fraction) outside the imaged volume -> head_cut_by_fov
    warn_outside_fov_fraction: float  # more than this (fraction) outside -> head_partly_outside_fov (warning)
    max_network_offset_mm: float  # learned segmenter: sphere fit farther than this (mm) from the network's centre -> head_network_disagrees


class QcReferenceSettings(Section):
    """Plausibility of the normal-marrow reference (quality-control rules per hip)."""

    max_marrow_muscle_ratio: float  # reference median >= this x the muscle level -> fat suppression failed
    surround_inner_mm: float  # muscle is sampled in a shell from this far outside the head surface (mm) ...
    surround_outer_mm: float  # ... to this far (mm)
    tissue_floor_fraction: float  # shell voxels below this x the shell's 99th percentile are air / cortex, left out
    histogram_bins: int  # bins of the shell histogram whose highest peak is the muscle level
    min_voxels: int  # fewer reference voxels -> reference_implausible
    side_ratio_warn: float  # the sides' own references differ by more than this ratio -> reference_sides_disagree
    max_t1_rank_correlation: float = 0.5  # the analysed series rises with the T1 across the body (Spearman) above this -> fat suppression failed
    t1_correlation_voxels: int = 200000  # at most this many body voxels (evenly spread) enter that correlation


class QcFatSuppressionSettings(Section):
    """Fat suppression checked on the image (``not_fat_suppressed``, :mod:`bme_mri.quantify.fat_suppression`)."""

    marrow_core_fraction: float  # head interior: within this fraction of the fitted radius ...
    marrow_min_depth_mm: float  # ... and at least this deep under the sphere (mm)
    min_marrow_voxels: int  # fewer interior voxels in the field of view -> no marrow level (no evidence)
    fat_depth_mm: tuple[float, float]  # subcutaneous layer: this deep under the skin (mm; min, max)
    fat_noise_multiple: float  # air: below this x the noise sd (Rician noise) and connected to the field's edge
    fat_grid_mm: float  # the layer is found on a grid of about this spacing (mm)
    fat_face_margin_mm: float  # what lies outside the body this close (mm) to a face of the field is not air beyond the skin
    min_fat_ml: float  # a layer of less than this (ml) is no evidence: no skin in the field of view
    min_fat_muscle_ratio: float  # subcutaneous fat at least this x muscle (with bright marrow) -> not_fat_suppressed


class QcNoiseSettings(Section):
    """Signal-to-noise (quality-control rule per hip)."""

    min_snr: float  # muscle level / noise sd below this -> low_snr


class QcSettings(Section):
    """Quality control per hip (bme_mri/quantify/qc.py); every rule's threshold and unit.

    ``blocking`` lists the flag codes that make a follow-up call ``indeterminate`` (and stop a
    ``necrosis`` call); every other flag is a warning shown beside the numbers.
    """

    head: QcHeadSettings
    reference: QcReferenceSettings
    noise: QcNoiseSettings
    fat_suppression: QcFatSuppressionSettings
    blocking: list[str]  # flag codes that block a status call
