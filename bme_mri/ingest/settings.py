"""Configuration section `ingest` (values live in configs/default.yaml).

Every field is required here: the values (patterns, TI/TE/TR ranges, tolerances) live in the
``ingest:`` section of ``configs/default.yaml``.
"""

from __future__ import annotations

from typing import Literal

from bme_mri.settings import Angle, Count, NonNegative, Positive, PositiveRange, Section
from bme_mri.types import SequenceClass


class TextRule(Section):
    """One naming rule: ``pattern`` (Python regex, searched case-insensitively in
    'SeriesDescription | ProtocolName | SequenceName') -> ``sequence``."""

    sequence: SequenceClass
    pattern: str


OtherSubtype = Literal["bold", "asl", "fieldmap", "parametric_map", "swi", "flair", "t2star", "epi", "dynamic"]


class OtherRule(Section):
    """One kind of series that is never analysed nor a companion (class ``other``), told by
    ``image_type`` (regex searched in ImageType) or ``name`` (regex searched case-insensitively
    in 'SeriesDescription | ProtocolName | SequenceName'); '' = not used."""

    subtype: OtherSubtype
    image_type: str = ""
    name: str = ""


class ClassifySettings(Section):
    """How a stack becomes stir / t2fs / t2 / t1 / pd / localizer / other.

    The order of the tests is :func:`~bme_mri.ingest.classify.classify_stack`'s (listed in
    ``configs/default.yaml``); times in ms, b-values in s/mm^2.
    """

    localizer_image_type_pattern: str  # regex searched in ImageType values (LOCALIZER, SCOUT)
    localizer_name_pattern: str  # regex on description | protocol | sequence name: localizer (checked first)
    secondary_capture_sop_pattern: str  # regex on SOPClassUID: Secondary Capture -> derived
    derived_image_type_pattern: str  # regex on ImageType: reformats, projections -> derived
    diffusion_map_image_type_pattern: str  # regex on ImageType: ADC / FA / exponential ADC -> adc
    diffusion_image_type_pattern: str  # regex on ImageType: DIFFUSION, TRACEW, CALC_BVAL -> dwi
    diffusion_sequence_name_pattern: str  # regex on SequenceName of diffusion EPI (Siemens *ep_b800t)
    diffusion_directionality_pattern: str  # regex on DiffusionDirectionality meaning diffusion gradients
    echo_planar_pattern: str  # regex on ScanningSequence | ScanOptions | SequenceName | ImageType: an EPI readout
    echo_planar_name_pattern: str  # regex on the names: an EPI readout
    spin_echo_epi_pattern: str  # regex on ScanningSequence | SequenceName | names: spin-echo EPI (diffusion-type)
    gradient_echo_pattern: str  # regex on SequenceName | ImageType | names: a gradient-echo readout
    gradient_epi_max_echo_time_ms: Positive  # EPI of unknown echo type with TE <= this: gradient-echo (BOLD)
    subtraction_image_type_pattern: str  # regex on ImageType: subtraction -> post
    dixon_water_image_type_pattern: str  # regex on ImageType tokens of a Dixon water image
    dixon_other_image_type_pattern: str  # regex on ImageType tokens of Dixon fat / in / opposed phase
    min_temporal_positions: Count  # NumberOfTemporalPositions >= this -> dce
    stir_inversion_time_ms: PositiveRange  # TI range (ms) that makes an IR series a STIR
    stir_min_repetition_time_ms: Positive  # ... with TR >= this (ms; an IR-prepared gradient echo is a T1)
    flair_min_inversion_time_ms: Positive  # inversion with TI >= this (ms) is FLAIR: other/flair
    inversion_scanning_pattern: str  # regex on ScanningSequence/SequenceVariant/SequenceName meaning IR
    fat_sat_scan_options_pattern: str  # regex on ScanOptions meaning fat saturation
    fat_sat_name_pattern: str  # regex on description | protocol | sequence name meaning fat suppression (group 2: the word)
    no_fat_sat_manufacturer_pattern: str  # makers whose ScanOptions reliably say fat saturation (no FS there = none)
    plain_scan_options_pattern: str  # ScanOptions tokens known not to be fat suppression (full match)
    other_rules: list[OtherRule]  # ordered, first match wins (ImageType before names)
    text_rules: list[TextRule]  # ordered, first match wins
    t1_max_repetition_time_ms: Positive  # TR <= this and TE <= t1_max_echo -> t1
    t1_max_echo_time_ms: Positive
    t1_max_gradient_echo_time_ms: Positive  # gradient echo: TE <= this (and the T1 TR/TE) -> t1, else other/t2star
    long_repetition_time_ms: Positive  # TR >= this: T2 or PD weighting
    t2_min_echo_time_ms: Positive  # long TR and TE >= this -> t2 (t2fs with fat sat)
    pd_max_echo_time_ms: Positive  # long TR and TE <= this -> pd


class PreferenceRule(Section):
    """One step of the analysis-series priority: a sequence class in an orientation
    ('any' matches every orientation)."""

    sequence: SequenceClass
    orientation: Literal["axial", "coronal", "sagittal", "oblique", "any"]


class SelectSettings(Section):
    """Which stack of a study is analysed, and which T1 goes with it."""

    analysis_priority: list[PreferenceRule]  # ordered; first rule with a usable stack wins
    t1_classes: list[SequenceClass]  # classes accepted as the companion T1
    t1_prefer_same_orientation: bool
    min_slices: Count  # stacks with fewer slices are never selected


class GeometrySettings(Section):
    """Tolerances of slice-stack assembly (mm and degrees in the names)."""

    orientation_tolerance: NonNegative  # max |difference| of direction cosines within one stack
    oblique_tolerance_deg: Angle  # normal further than this from an axis -> 'oblique'
    duplicate_position_tolerance_mm: NonNegative  # slice positions closer than this are duplicates
    slice_gap_tolerance_pct: NonNegative  # a slice step deviating more than this from the median fails
    in_plane_offset_tolerance_mm: NonNegative  # slice origins off the normal line by more fail (tilt)
    pixel_spacing_tolerance_mm: NonNegative  # PixelSpacing differences between slices allowed
    max_slice_thickness_mm: Positive = 100.0  # SliceThickness / SpacingBetweenSlices above this (or <= 0) is implausible: warned about, never used


class IngestSettings(Section):
    """Settings of the ingest stage; every field documented with its unit."""

    strict: bool  # true: tolerable oddities raise; false: they become volume.meta['warnings']
    follow_symlinks: bool  # follow symbolic links while walking an input folder
    skip_names: list[str]  # file names never read (DICOMDIR, ...); matched case-insensitively
    nifti_suffixes: list[str]  # file suffixes read as NIfTI stacks
    nifti_label_map_max_values: int = 16  # an unclassified NIfTI with <= this many distinct integer values is a mask
    classify: ClassifySettings
    select: SelectSettings
    geometry: GeometrySettings
