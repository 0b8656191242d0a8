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


class ClassifySettings(Section):
    """How a stack becomes stir / t2fs / t2 / t1 / pd / localizer / other.

    Order of the tests: localizer (ImageType, then naming), STIR by physics (inversion
    recovery with a short TI), the ordered naming rules (first match wins; a 't2' match with a
    fat-saturation ScanOption becomes 't2fs'), then the TE/TR fallback.
    """

    localizer_image_type_pattern: str  # regex searched in ImageType values (LOCALIZER, SCOUT)
    secondary_capture_sop_pattern: str  # regex on SOPClassUID: Secondary Capture -> derived
    derived_image_type_pattern: str  # regex on ImageType: reformats, projections -> derived
    diffusion_map_image_type_pattern: str  # regex on ImageType: ADC / FA / exponential ADC -> adc
    diffusion_image_type_pattern: str  # regex on ImageType: DIFFUSION, TRACEW, CALC_BVAL -> dwi
    diffusion_sequence_name_pattern: str  # regex on SequenceName of diffusion EPI (Siemens *ep_b800t)
    echo_planar_pattern: str  # regex on ScanningSequence | ScanOptions | SequenceName: EPI -> dwi
    subtraction_image_type_pattern: str  # regex on ImageType: subtraction -> post
    dixon_water_image_type_pattern: str  # regex on ImageType tokens of a Dixon water image
    dixon_other_image_type_pattern: str  # regex on ImageType tokens of Dixon fat / in / opposed phase
    min_temporal_positions: Count  # NumberOfTemporalPositions >= this -> dce
    stir_inversion_time_ms: PositiveRange  # TI range (ms) that makes an IR series a STIR
    inversion_scanning_pattern: str  # regex on ScanningSequence/SequenceVariant/SequenceName meaning IR
    fat_sat_scan_options_pattern: str  # regex on ScanOptions meaning fat saturation
    fat_sat_name_pattern: str  # regex on description | protocol | sequence name meaning fat suppression (group 2: the word)
    no_fat_sat_manufacturer_pattern: str  # makers whose ScanOptions reliably say fat saturation (no FS there = none)
    plain_scan_options_pattern: str  # ScanOptions tokens known not to be fat suppression (full match)
    text_rules: list[TextRule]  # ordered, first match wins
    t1_max_repetition_time_ms: Positive  # TR <= this and TE <= t1_max_echo -> t1
    t1_max_echo_time_ms: Positive
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
