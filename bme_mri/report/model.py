"""What a clinician report contains: plain dataclasses, filled by the pipeline, rendered by
:mod:`bme_mri.report.html`. Text fields may come from DICOM and are untrusted: the renderer
escapes every one of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DISCLAIMER = (
    "Research software, not a medical device. The volumes and calls in this report were "
    "produced automatically and have not been approved for clinical use; every number must be "
    "read, with the images, by a qualified person before it informs any clinical decision."
)


@dataclass(frozen=True)
class SideMeasurement:
    """One hip at one visit (ml); edema and necrosis None when not measured (``not_measured``
    says why: a blocking quality-control flag)."""

    edema_ml: float | None
    necrosis_ml: float | None
    femoral_head_ml: float | None = None
    qc_flags: tuple[tuple[str, str, str], ...] = ()  # (code, severity, reason) per QC flag
    not_measured: str = ""
    edema_range_ml: tuple[float, float] | None = None  # (low, high) of edema_ml


@dataclass(frozen=True)
class VisitSummary:
    """One study: its date ('YYYY-MM-DD') and per-side volumes ('left'/'right' -> ml)."""

    study_uid: str
    study_date: str
    sides: dict[str, SideMeasurement]
    series_description: str = ""
    not_found: dict[str, str] = field(default_factory=dict)  # side -> 'femoral head not found: ...'


@dataclass(frozen=True)
class SideCall:
    """The status of one hip at one follow-up, with its reason."""

    side: str
    baseline_date: str
    followup_date: str
    status: str
    reason: str
    compared_with: str = "baseline"
    registration_ok: bool | None = None
    registration_message: str = ""


@dataclass(frozen=True)
class ReportImage:
    """A PNG to embed: bytes, or a path read when the report is written."""

    caption: str
    png: bytes | Path


@dataclass
class PatientReport:
    """Everything one patient's HTML report shows.

    Attributes
    ----------
    patient_id : as in the DICOM (untrusted; escaped when rendered).
    visits : studies in time order (the first is the baseline).
    calls : status per side and follow-up.
    images : overlay PNGs (baseline and follow-up side by side), in display order.
    method : a paragraph describing the method (segmentation, registration, thresholds).
    version : bme-mri version.
    config_digest : :meth:`bme_mri.config.Config.digest` of the configuration used.
    warnings : anything the reader must know (failed registration, missing side, ...).
    edema_present_ml : drawn as a dotted line on the chart when given (remission threshold).
    generated : timestamp text shown in the footer ('' to omit, e.g. for reproducible files).
    """

    patient_id: str
    visits: list[VisitSummary]
    calls: list[SideCall]
    images: list[ReportImage] = field(default_factory=list)
    method: str = ""
    version: str = ""
    config_digest: str = ""
    warnings: list[str] = field(default_factory=list)
    edema_present_ml: float | None = None
    generated: str = ""
