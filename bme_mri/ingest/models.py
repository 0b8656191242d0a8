"""Dataclasses of the ingest stage: what discovery found, what selection chose, what
inspection and conversion report. Tag values inside are untrusted DICOM text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bme_mri.types import Geometry, SequenceClass


@dataclass(frozen=True)
class SkippedFile:
    """A file discovery did not use, and why (not DICOM, DICOMDIR, truncated, unreadable)."""

    path: Path
    reason: str


@dataclass
class SliceHeader:
    """Header facts of one 2-D image: a single-frame file, or one frame of a multi-frame file.

    Positions and directions are DICOM patient coordinates (LPS, mm).
    """

    path: Path
    frame: int | None  # 0-based frame index in an enhanced multi-frame file, else None
    rows: int
    columns: int
    position_lps_mm: tuple[float, float, float] | None  # ImagePositionPatient
    orientation: tuple[float, ...] | None  # ImageOrientationPatient (row xyz, column xyz)
    pixel_spacing_mm: tuple[float, float] | None  # (between rows, between columns)
    rescale_slope: float
    rescale_intercept: float
    instance_number: int | None
    echo_number: int | None
    echo_time_ms: float | None
    pixel_offset: int | None = None  # byte offset of this image's pixel values (native syntaxes)
    pixel_dtype: str | None = None  # numpy dtype of stored values when pixel_offset is set
    b_value: float | None = None  # diffusion b-value (s/mm^2), standard or vendor tag, else None
    temporal_position: int | None = None  # TemporalPositionIdentifier (dynamic series), else None


@dataclass
class StackInfo:
    """One image stack: a series, or the part of one with a single orientation/size/echo."""

    stack_id: str
    series_uid: str
    series_number: int | None
    description: str
    protocol: str
    manufacturer: str
    modality: str
    sequence: SequenceClass
    classification_reason: str
    orientation: str  # 'axial' | 'coronal' | 'sagittal' | 'oblique' | '' (unknown)
    rows: int
    columns: int
    n_slices: int
    pixel_spacing: tuple[float, float] | None  # mm (between rows, between columns)
    files: list[Path] = field(default_factory=list)
    nifti_path: Path | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    geometry: Geometry | None = None  # set when the headers assemble into a regular grid
    headers: dict[str, Any] = field(default_factory=dict, repr=False)  # series-level tags
    subtype: str = ""  # what an 'other' series is (bold, asl, fieldmap, ...), '' when unknown
    slices: list[SliceHeader] = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        """'series <uid> (<description>)' as used at the start of error messages."""
        return f"series {self.series_uid} ({self.description or 'no description'})"


@dataclass
class StudyInfo:
    """One study of one patient with its stacks."""

    patient_id: str
    patient_name: str
    study_uid: str
    study_date: str  # YYYY-MM-DD or ""
    study_time: str
    stacks: list[StackInfo] = field(default_factory=list)


@dataclass
class Discovery:
    """Everything found under an input path."""

    root: Path
    studies: list[StudyInfo] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def all_stacks(self) -> list[StackInfo]:
        return [stack for study in self.studies for stack in study.stacks]


@dataclass
class Selection:
    """The stack analysed in a study, its companion T1 (if any), and why."""

    analysis: StackInfo
    t1: StackInfo | None
    reason: str


@dataclass
class InspectResult:
    """What ``bme-mri inspect`` shows: the discovery, per-study selections or errors."""

    discovery: Discovery
    selections: dict[str, Selection]  # by study uid
    selection_errors: dict[str, str]  # by study uid

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: patients -> studies -> series, plus skipped files."""
        patients: dict[str, dict[str, Any]] = {}
        for study in self.discovery.studies:
            patient = patients.setdefault(study.patient_id, {
                "patient_id": study.patient_id, "patient_name": study.patient_name,
                "studies": []})
            selection = self.selections.get(study.study_uid)
            series = [_stack_dict(stack, selection) for stack in study.stacks]
            patient["studies"].append({
                "study_uid": study.study_uid,
                "study_date": study.study_date,
                "study_time": study.study_time,
                "analysis_stack": selection.analysis.stack_id if selection else None,
                "t1_stack": selection.t1.stack_id if selection and selection.t1 else None,
                "selection_reason": selection.reason if selection else None,
                "selection_error": self.selection_errors.get(study.study_uid),
                "series": series,
            })
        return {
            "root": str(self.discovery.root),
            "patients": list(patients.values()),
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.discovery.skipped],
        }


def _stack_dict(stack: StackInfo, selection: Selection | None) -> dict[str, Any]:
    role = None
    if selection is not None and selection.analysis is stack:
        role = "analysis"
    elif selection is not None and selection.t1 is stack:
        role = "t1"
    geometry = stack.geometry
    return {
        "stack_id": stack.stack_id,
        "series_uid": stack.series_uid,
        "series_number": stack.series_number,
        "description": stack.description,
        "protocol": stack.protocol,
        "manufacturer": stack.manufacturer,
        "modality": stack.modality,
        "sequence": stack.sequence.value,
        "subtype": stack.subtype or None,
        "classification_reason": stack.classification_reason,
        "b_value": as_float(stack.headers.get("DiffusionBValue")) if stack.sequence.value == "dwi" else None,
        "orientation": stack.orientation,
        "matrix": [stack.columns, stack.rows, stack.n_slices],
        "spacing_mm": list(geometry.spacing_mm) if geometry is not None else None,
        "n_files": len(stack.files) if stack.nifti_path is None else 1,
        "source": str(stack.nifti_path) if stack.nifti_path is not None else None,
        "role": role,
        "error": stack.error,
        "warnings": list(stack.warnings),
    }


@dataclass(frozen=True)
class ConvertedSeries:
    """One stack written by :func:`convert_input`: the NIfTI path, or why not."""

    stack_id: str
    path: Path | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"stack_id": self.stack_id, "path": str(self.path) if self.path else None,
                "error": self.error}


def as_float(value: Any) -> float | None:
    """A DICOM numeric value (DS/IS/str/multi-value first item) as float, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, (str, bytes))):
        items = list(value)
        if not items:
            return None
        value = items[0]
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if np.isfinite(result) else None
