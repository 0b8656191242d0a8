"""Agreement measures between a result and a reference (phantom truth), for validation."""

from __future__ import annotations

import numpy as np


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two boolean masks; 1.0 when both are empty."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(a, b).sum()) / total


def volume_error_ml(measured_ml: float, true_ml: float) -> float:
    """Signed error, measured - true (ml)."""
    return float(measured_ml) - float(true_ml)


def relative_volume_error(measured_ml: float, true_ml: float) -> float:
    """Signed relative error (measured - true) / true; nan when ``true_ml`` is 0."""
    if true_ml == 0:
        return float("nan")
    return (float(measured_ml) - float(true_ml)) / float(true_ml)


def label_dice(predicted: np.ndarray, truth: np.ndarray, labels: tuple[int, ...]) -> float:
    """Dice of the voxels whose label is in ``labels`` (e.g. (1, 2, 3) for the head)."""
    return dice(np.isin(predicted, labels), np.isin(truth, labels))
