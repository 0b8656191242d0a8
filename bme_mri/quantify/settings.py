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
