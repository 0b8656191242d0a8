"""Configuration section `quantify` (values live in configs/default.yaml).

ROI mode reuses the edema and reference rules of the ``segment`` section (thresholds are not
duplicated here); only what is specific to quantification lives in this section.
"""

from __future__ import annotations

from bme_mri.settings import Section


class RoiSettings(Section):
    """ROI mode (any joint: a bone mask given by the user)."""

    reference_source_min_voxels: int  # a given reference mask needs at least this many voxels
    reference_depth_mm: float  # estimated reference: marrow at least this deep in the bone mask (mm)


class QuantifySettings(Section):
    """Settings of the quantify stage; every field documented with its unit."""

    roi: RoiSettings


class QcHeadSettings(Section):
    """Femoral head fit and coverage (quality-control rules per hip)."""

    min_boundary_fraction: float  # fewer rays (fraction) with a consistent cortical boundary -> head_fit_poor
    max_fit_residual_mm: float  # larger robust RMS of shell points around the sphere (mm) -> head_fit_poor
    max_outside_fov_fraction: float  # more of the head proper's volume (fraction) outside the imaged volume -> head_cut_by_fov
    warn_outside_fov_fraction: float  # more than this (fraction) outside -> head_partly_outside_fov (warning)


class QcReferenceSettings(Section):
    """Plausibility of the normal-marrow reference (quality-control rules per hip)."""

    max_marrow_muscle_ratio: float  # reference median >= this x the muscle level -> fat suppression failed
    surround_inner_mm: float  # muscle is sampled in a shell from this far outside the head surface (mm) ...
    surround_outer_mm: float  # ... to this far (mm)
    tissue_floor_fraction: float  # shell voxels below this x the shell's 99th percentile are air / cortex, left out
    histogram_bins: int  # bins of the shell histogram whose highest peak is the muscle level
    min_voxels: int  # fewer reference voxels -> reference_implausible
    side_ratio_warn: float  # the sides' own references differ by more than this ratio -> reference_sides_disagree


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
    blocking: list[str]  # flag codes that block a status call
