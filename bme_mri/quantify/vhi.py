"""The VHI authors' published semi-automatic method, as a named baseline (``--method vhi``).

Hepburn et al., "Volume of hyperintense inflammation (VHI)" / "Towards deep learning-assisted
quantification of inflammation in spondyloarthritis: intensity-based lesion segmentation"
(supplementary code, GitHub c-hepburn/Bone_MRI). Re-implemented from its description:

* From the STIR intensities of the hand-drawn normal-marrow sample: the lower threshold starts
  at the Tukey fence ``Q3 + 1.5 x IQR``; the multiple is raised in steps of 0.05 while the
  sample's maximum exceeds the threshold by at least IQR / 2 (and lowered while the threshold is
  not below the maximum). The upper threshold is the sample's maximum.
* Voxels of the region at or above the lower threshold are inflammation (those also above the
  upper threshold are the more certain ones; both count in the volume).
* In each slice, 8-connected pieces of fewer than 4 pixels are removed.

The raw image is used (no smoothing), as published. The constants (1.5, 0.05, 1/2, 4) are the
published ones and live in ``configs/default.yaml`` (``quantify.roi.vhi_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from bme_mri.quantify.settings import RoiSettings


@dataclass(frozen=True)
class VhiThresholds:
    """The two published thresholds (image units) and how the lower one was reached."""

    lower: float
    upper: float
    upper_quartile: float
    iqr: float
    multiple: float

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, "upper_quartile": self.upper_quartile,
                "iqr": self.iqr, "multiple": self.multiple}


def vhi_thresholds(values: np.ndarray, settings: RoiSettings) -> VhiThresholds:
    """Lower and upper thresholds from the normal-marrow sample ``values`` (see module docs)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    q1, q3 = np.percentile(values, [25.0, 75.0])
    iqr = float(q3 - q1)
    upper = float(values.max())
    multiple = settings.vhi_tukey_multiple
    step = settings.vhi_multiple_step
    if iqr > 0:
        # closed form of the published loop: raise the multiple while max - lower >= gap
        gap = settings.vhi_gap_iqr_fraction * iqr
        steps_up = int(np.floor((upper - q3 - multiple * iqr - gap) / (step * iqr))) + 1
        multiple += max(steps_up, 0) * step
        while upper - (q3 + multiple * iqr) <= 0:
            multiple -= step
    return VhiThresholds(lower=float(q3 + multiple * iqr), upper=upper, upper_quartile=float(q3),
                         iqr=iqr, multiple=float(multiple))


def vhi_lesions(image: np.ndarray, region: np.ndarray, thresholds: VhiThresholds,
                settings: RoiSettings) -> np.ndarray:
    """Voxels of ``region`` at or above the lower threshold, minus in-slice specks."""
    mask = region & (image >= thresholds.lower)
    eight = ndimage.generate_binary_structure(2, 2)
    for k in range(mask.shape[2]):
        plane = mask[:, :, k]
        if not plane.any():
            continue
        labels, n = ndimage.label(plane, structure=eight)
        sizes = np.bincount(labels.ravel())
        keep = sizes >= settings.vhi_min_pixels
        keep[0] = False
        mask[:, :, k] = keep[labels]
    return mask
