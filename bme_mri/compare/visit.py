"""Inputs of the comparison: one analysed visit, independent of the segmenter's classes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bme_mri.quantify.qc import QcFlag, is_measured
from bme_mri.types import Side, Volume


@dataclass(frozen=True)
class SideVolumes:
    """Measurements of one hip at one visit.

    Attributes
    ----------
    edema_ml : edema inside the femoral head (ml); None when not measured (a blocking QC flag).
    necrosis_ml : necrosis (ml); None when not measured.
    femoral_head_ml : femoral head, labels 1-3 together (ml); None when the head fit failed.
    center_lps_mm : femoral head centre, LPS mm, on this visit's volume.
    qc_flags : this hip's quality-control flags at this visit
        (:class:`bme_mri.quantify.qc.QcFlag`); blocking ones make its calls indeterminate.
    edema_range_ml : (low, high) of ``edema_ml`` (ml; :mod:`bme_mri.segment.ranges`); None
        when unknown (the volume alone is then taken as exact).
    """

    edema_ml: float | None
    necrosis_ml: float | None
    femoral_head_ml: float | None
    center_lps_mm: tuple[float, float, float]
    qc_flags: tuple[QcFlag, ...] = ()
    not_measured: str | None = None  # why edema / necrosis are None
    edema_range_ml: tuple[float, float] | None = None

    @property
    def measured(self) -> bool:
        """Whether this hip's edema and necrosis were measured: figures present and no blocking
        QC flag (blocked means not measured)."""
        return is_measured(self.edema_ml, self.necrosis_ml, self.qc_flags)


@dataclass
class VisitResult:
    """One analysed study: the series used, its label map and per-side measurements.

    Attributes
    ----------
    study_uid : StudyInstanceUID (untrusted text).
    study_date : 'YYYY-MM-DD' or 'YYYYMMDD' ('' when unknown).
    volume : the analysed series (LPS geometry).
    labels : uint8 label map on ``volume``'s grid (:class:`~bme_mri.types.Label`).
    sides : per-side measurements; a side not in the field of view is absent.
    study_time : StudyTime (DICOM TM) for ordering same-day visits.
    not_found : sides whose femoral head lies in the field of view but was not found, with the
        reason ("femoral head not found: ..."); absent from ``sides`` too.
    """

    study_uid: str
    study_date: str
    volume: Volume
    labels: np.ndarray
    sides: dict[Side, SideVolumes]
    study_time: str = ""
    meta: dict = field(default_factory=dict)
    not_found: dict[Side, str] = field(default_factory=dict)

    def absence(self, side: Side) -> str:
        """Why ``side`` has no measurement at this visit: its 'femoral head not found: ...'
        reason, else 'outside the field of view' (the head does not lie in the imaged volume)."""
        return self.not_found.get(side) or "outside the field of view"

    def __post_init__(self) -> None:
        if tuple(self.labels.shape) != tuple(self.volume.geometry.shape):
            raise ValueError(f"study {self.study_uid}: labels {self.labels.shape} are not on the "
                             f"volume grid {self.volume.geometry.shape}")
