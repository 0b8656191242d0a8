"""Configuration section `pipeline` (values live in configs/default.yaml)."""

from __future__ import annotations

from bme_mri.settings import Fraction, NonNegative, Section


class ValidationThresholds(Section):
    """Pass/fail floors of ``bme-mri validate`` against phantom truth."""

    head_dice_min: Fraction  # mean femoral head Dice (labels 1-3 together) over sides
    edema_dice_min: Fraction  # mean edema Dice over sides whose true edema >= edema_min_ml_for_dice
    edema_min_ml_for_dice: NonNegative  # ml; smaller true lesions are judged by volume only
    edema_volume_error_max_pct: NonNegative  # median |edema volume error| (%) where true edema >= ...
    edema_min_ml_for_volume_error: NonNegative  # ... this many ml
    necrosis_sensitivity_min: Fraction  # fraction of true-necrosis sides where necrosis is found
    necrosis_dice_min: Fraction  # mean necrosis Dice (label 3) over sides with true necrosis (a miss scores 0)
    range_coverage_min: Fraction = 0.9  # fraction of measured hips whose reported edema range holds the true volume
    necrosis_false_positive_rate_max: Fraction  # fraction of sides without necrosis reported with it
    necrosis_found_min_ml: NonNegative  # predicted necrosis >= this counts as "necrosis found"
    normal_false_edema_max_ml: NonNegative  # no normal hip may show more predicted edema than this
    status_accuracy_min: Fraction  # follow-up status accuracy (when the cohort has follow-ups)
    registration_error_max_mm: float  # largest error (mm) at the true head centre of any passed registration
    indeterminate_fraction_max: float  # follow-up calls made indeterminate without a phantom fault: at most this fraction
    qc_fault_recall_min: float  # of the hips with a phantom fault (failed fat suppression, cut head), this fraction must carry its flag
    remission_called_necrosis_max: int  # truly remitted hips called 'necrosis' (a call that sends a patient to surgery)
    fov_cut_tolerance: Fraction = 0.02  # a true head within this fraction of qc.head.max_outside_fov_fraction may be flagged head_cut_by_fov or not


class PipelineSettings(Section):
    """Settings of `bme-mri run` outputs and `bme-mri validate`."""

    write_overlays: bool  # PNG slices through each femoral head with the labels
    write_dicom_seg: bool  # DICOM SEG beside labels.nii.gz (DICOM inputs only)
    validation: ValidationThresholds
