"""The Python face of bme-mri: one study, one follow-up pair, one ROI, as typed results.

Each function runs the same pipeline as the command line (``bme-mri run``, ``compare``,
``quantify``) and writes the same files into ``out``; the result says what was measured, with
its range and quality flags, and where the files are. Volumes are in ml; the frame of every
mask written is the analysed image's own grid (NIfTI, RAS affine).

    from bme_mri import analyse_study, compare_studies, quantify_roi

    study = analyse_study("exam/", "out/")          # StudyResult
    for hip in study.hips:
        print(hip.side, hip.edema_ml, hip.edema_ml_range, hip.qc_flags)
    pair = compare_studies("baseline/", "followup/", "pair/")   # Comparison
    print([(c.side, c.status) for c in pair.calls], pair.report)

Research software, not a medical device: every figure must be read by a qualified person.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bme_mri.errors import BmeError


@dataclass(frozen=True)
class HipResult:
    """One hip of one study. Volumes in ml (None when not measured); ranges (low, high) in ml;
    ``qc_flags``: the names of the quality flags raised; ``not_measured``: why there is no
    figure (a blocking flag, a head not found), else None."""

    side: str
    femoral_head_ml: float | None
    edema_ml: float | None
    edema_ml_range: tuple[float, float] | None
    edema_headneck_ml: float | None
    edema_fraction: float | None
    necrosis_ml: float | None
    necrosis_ml_range: tuple[float, float] | None
    qc_flags: list[str] = field(default_factory=list)
    not_measured: str | None = None


@dataclass(frozen=True)
class StudyResult:
    """One analysed study: its hips, or why it was not analysed, and where its files are."""

    patient_id: str
    study_uid: str
    study_date: str
    hips: list[HipResult]
    not_analysed: str | None
    error: str | None
    warnings: list[str]
    output_dir: Path | None
    study_json: Path


@dataclass(frozen=True)
class HipCall:
    """The follow-up call of one hip: ``status`` (remission, residual_edema, progression,
    necrosis, no_edema, indeterminate, ...) and its reason; edema (ml) at both visits with
    ranges; necrosis (ml); the QC flags that bear on it."""

    side: str
    status: str
    reason: str
    edema_baseline_ml: float | None
    edema_followup_ml: float | None
    edema_baseline_range: tuple[float, float] | None
    edema_followup_range: tuple[float, float] | None
    necrosis_baseline_ml: float | None
    necrosis_followup_ml: float | None
    qc_flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    """A baseline / follow-up pair: one call per hip and the report."""

    patient_id: str
    calls: list[HipCall]
    report: Path
    longitudinal_csv: Path


@dataclass(frozen=True)
class RoiSummary:
    """ROI mode: edema (ml, with its range) inside a bone mask, the method and reference used."""

    edema_ml: float
    edema_ml_range: tuple[float, float] | None
    bone_ml: float
    edema_fraction: float
    method: str
    reference_source: str
    warnings: list[str]
    result_json: Path
    edema_mask: Path


def _config(config: Any):
    from bme_mri.config import Config, load_config

    return config if isinstance(config, Config) else load_config(config)


def _pair(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if isinstance(value, (list, tuple)) and len(value) == 2 else None


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _hip(side: dict[str, Any]) -> HipResult:
    flags = [str(f.get("code")) for f in (side.get("qc") or {}).get("flags", [])]
    return HipResult(
        side=side["side"], femoral_head_ml=_number(side.get("femoral_head_ml")),
        edema_ml=_number(side.get("edema_ml")), edema_ml_range=_pair(side.get("edema_ml_range")),
        edema_headneck_ml=_number(side.get("edema_headneck_ml")),
        edema_fraction=_number(side.get("edema_fraction")), necrosis_ml=_number(side.get("necrosis_ml")),
        necrosis_ml_range=_pair(side.get("necrosis_ml_range")), qc_flags=flags,
        not_measured=side.get("not_measured"))


def analyse_study(path: str | Path, out: str | Path, config: Any = None, sequence: str | None = None,
                  force: bool = False) -> StudyResult:
    """Analyse the one study in ``path`` (a DICOM folder or a NIfTI file) into ``out``, as
    ``bme-mri run`` does; a rerun resumes. ``config``: a :class:`~bme_mri.config.Config`, a
    YAML path or None (defaults); ``sequence``: what a NIfTI file nothing identifies is
    (``stir``, ``t2fs``). Raises :class:`~bme_mri.errors.BmeError` when ``path`` holds no study or
    more than one (use :func:`bme_mri.pipeline.run_batch` for a tree)."""
    from bme_mri.pipeline import run_batch
    from bme_mri.types import SequenceClass

    override = SequenceClass(sequence) if sequence else None
    result = run_batch(Path(path), Path(out), _config(config), sequence_override=override, force=force)
    if len(result.records) != 1:
        raise BmeError(f"{path} holds {len(result.records)} studies; analyse_study takes one "
                       "(bme_mri.pipeline.run_batch or `bme-mri run` take a tree)")
    record = result.records[0]
    output_dir = Path(result.out_dir) / record["output_dir"] if record.get("output_dir") else None
    hips = [_hip(side) for side in record.get("sides") or []]
    hips += [HipResult(side=m["side"], femoral_head_ml=None, edema_ml=None, edema_ml_range=None,
                       edema_headneck_ml=None, edema_fraction=None, necrosis_ml=None, necrosis_ml_range=None,
                       not_measured=m.get("not_analysed"))
             for m in record.get("sides_not_analysed") or []]
    return StudyResult(
        patient_id=str(record.get("patient_id") or ""), study_uid=str(record.get("study_uid") or ""),
        study_date=str(record.get("study_date") or ""), hips=hips, not_analysed=record.get("not_analysed"),
        error=record.get("error"), warnings=list(record.get("warnings") or []), output_dir=output_dir,
        study_json=(output_dir / "study.json") if output_dir else Path(result.out_dir) / "summary.csv")


def compare_studies(baseline: str | Path, followup: str | Path, out: str | Path, config: Any = None,
                    sequence: str | None = None, force: bool = False) -> Comparison:
    """Compare one patient's baseline and follow-up (DICOM folders or NIfTI files) into ``out``,
    as ``bme-mri compare`` does: one :class:`HipCall` per hip, the HTML report's path."""
    from bme_mri.pipeline.pair import compare_pair
    from bme_mri.types import SequenceClass

    override = SequenceClass(sequence) if sequence else None
    report = Path(compare_pair(Path(baseline), Path(followup), Path(out), _config(config),
                               sequence_override=override, force=force))
    table = report.parent / "longitudinal.csv"
    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    def span(row: dict[str, str], visit: str) -> tuple[float, float] | None:
        low, high = _number(row.get(f"edema_{visit}_low_ml")), _number(row.get(f"edema_{visit}_high_ml"))
        return (low, high) if low is not None and high is not None else None

    calls = [HipCall(side=row["side"], status=row["status"], reason=row["reason"],
                     edema_baseline_ml=_number(row.get("edema_baseline_ml")),
                     edema_followup_ml=_number(row.get("edema_followup_ml")),
                     edema_baseline_range=span(row, "baseline"), edema_followup_range=span(row, "followup"),
                     necrosis_baseline_ml=_number(row.get("necrosis_baseline_ml")),
                     necrosis_followup_ml=_number(row.get("necrosis_followup_ml")),
                     qc_flags=[f for f in (row.get("qc_flags") or "").split(";") if f])
             for row in rows]
    patient = rows[0]["patient_id"] if rows else ""
    return Comparison(patient_id=patient, calls=calls, report=report, longitudinal_csv=table)


def quantify_roi(image: str | Path, roi: str | Path, out: str | Path, reference: str | Path | None = None,
                 config: Any = None, method: str | None = None) -> RoiSummary:
    """ROI mode, as ``bme-mri quantify``: edema inside the bone mask ``roi`` of ``image``
    (NIfTI or a DICOM series folder), reference marrow from ``reference`` (a normal-marrow
    mask) or found automatically; ``method``: ``hysteresis`` or ``vhi``."""
    from bme_mri.pipeline.roi import run_roi

    path = Path(run_roi(Path(image), Path(roi), Path(reference) if reference else None, Path(out),
                        _config(config), method=method))
    data = json.loads(path.read_text(encoding="utf-8"))
    return RoiSummary(edema_ml=float(data["edema_ml"]), edema_ml_range=_pair(data.get("edema_ml_range")),
                      bone_ml=float(data["bone_ml"]), edema_fraction=float(data["edema_fraction"]),
                      method=data["method"], reference_source=data["reference_source"],
                      warnings=list(data.get("warnings") or []), result_json=path,
                      edema_mask=path.parent / data["edema_mask"])
