"""Quantify stage: volumes per femoral head, ROI mode for other joints, agreement metrics."""

from bme_mri.quantify.metrics import dice, label_dice, relative_volume_error, volume_error_ml
from bme_mri.quantify.roi import RoiResult, quantify_roi
from bme_mri.quantify.volumes import SideMeasurement, measure

__all__ = ["RoiResult", "SideMeasurement", "dice", "label_dice", "measure", "quantify_roi",
           "relative_volume_error", "volume_error_ml"]
