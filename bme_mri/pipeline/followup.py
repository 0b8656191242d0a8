"""Follow-up stage of ``bme-mri run``: every patient with two or more analysed studies.

For each patient: rebuild each visit from its study record (the analysed series is read
again from the input; the label map from OUT), compare every follow-up with the baseline and
with the previous visit, write the patient's HTML report, and collect the rows of
``OUT/longitudinal.csv``. A patient whose comparison fails is reported in its report-less
record (``OUT/<patient>/followup_error.txt``) and the others go on.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.io_utils import safe_name, write_json_atomic, write_text_atomic
from bme_mri.pipeline.pool import worker_pool
from bme_mri.types import Side

METHOD_TEXT = (
    "Classical segmentation of the analysed STIR / fat-suppressed T2 series: femoral head located "
    "per side by a sphere fit, edema = marrow brighter than the patient's own normal marrow "
    "(reference region recorded per study), necrosis = a subchondral region enclosed by a dark "
    "band (meeting the subchondral plate). Follow-up registered rigidly onto the baseline around "
    "each femoral head (SimpleITK, mutual information on bone: lesions of either visit left out); "
    "the call uses each visit's own volumes and the thresholds of the configuration "
    "(compare.status)."
)


def visit_from_analysis(analysis: Any):
    """A :class:`~bme_mri.compare.visit.VisitResult` from an in-memory ``StudyAnalysis``."""
    from bme_mri.compare.visit import SideVolumes, VisitResult

    centres = {Side(h.side): tuple(h.center_lps_mm) for h in analysis.segmentation.heads}
    flags = {Side(q.side): tuple(q.flags) for q in getattr(analysis, "qc", [])}
    sides = {Side(m.side): SideVolumes(m.edema_ml, m.necrosis_ml, m.femoral_head_ml, centres[Side(m.side)],
                                       flags.get(Side(m.side), ()), getattr(m, "not_measured", None),
                                       getattr(m, "edema_ml_range", None))
             for m in analysis.measurements if Side(m.side) in centres}
    study = analysis.study
    not_found = {Side(m.side): m.reason for m in getattr(analysis.segmentation, "missing_heads", None) or []}
    return VisitResult(study.study_uid, study.study_date, analysis.image,
                       analysis.segmentation.labels.astype(np.uint8), sides,
                       getattr(study, "study_time", "") or "",
                       {"series_description": analysis.selection.analysis.description}, not_found)


def visit_from_record(record: dict[str, Any], study: Any, out_dir: Path, config: Config):
    """A :class:`~bme_mri.compare.visit.VisitResult` from a study record written by ``run``."""
    from bme_mri.compare.visit import SideVolumes, VisitResult
    from bme_mri.ingest import load_volume
    from bme_mri.nifti import read_nifti

    stack_id = record["series"]["stack_id"]
    stack = next(s for s in study.stacks if s.stack_id == stack_id)
    volume = load_volume(stack, config.ingest)
    labels = read_nifti(out_dir / record["outputs"]["labels"]).array.astype(np.uint8)
    centres = {h["side"]: tuple(h["center_lps_mm"]) for h in record.get("heads", [])}
    from bme_mri.quantify.qc import QcFlag

    def ml(value: Any) -> float | None:
        return None if value is None else float(value)

    sides = {
        Side(m["side"]): SideVolumes(ml(m["edema_ml"]), ml(m["necrosis_ml"]), ml(m["femoral_head_ml"]),
                                     centres[m["side"]],
                                     tuple(QcFlag.from_dict(f) for f in (m.get("qc") or {}).get("flags", [])),
                                     m.get("not_measured"),
                                     tuple(m["edema_ml_range"]) if m.get("edema_ml_range") else None)
        for m in record.get("sides", []) if m["side"] in centres
    }
    not_found = {Side(m["side"]): str(m.get("not_analysed") or "femoral head not found")
                 for m in record.get("sides_not_analysed") or []}
    return VisitResult(study.study_uid, study.study_date, volume, labels, sides,
                       getattr(study, "study_time", "") or "", {"series_description": stack.description},
                       not_found)


def registration_records(results: list[Any]) -> list[dict[str, Any]]:
    """One JSON-friendly record per compared hip: which studies, the rigid matrix (baseline LPS
    mm -> follow-up LPS mm, see :mod:`bme_mri.compare.register`), the baseline head centre it
    was computed around (LPS mm) and the quality check."""
    records = []
    for result in results:
        for side, comparison in result.sides.items():
            records.append({
                "side": side.value, "compared_with": result.compared_with,
                "baseline_study_uid": result.baseline_uid, "followup_study_uid": result.followup_uid,
                "baseline_head_center_lps_mm": comparison.baseline_center_lps_mm,
                **comparison.registration.to_dict(),
            })
    return records


def write_registrations(results: list[Any], path: Path) -> None:
    """``registrations.json``: the convention and :func:`registration_records` (atomic)."""
    write_json_atomic(path, {"convention": "matrix_lps maps baseline LPS mm to follow-up LPS mm "
                                           "(p_followup = M @ [p_baseline, 1])",
                             "registrations": registration_records(results)})


def process_patient(patient_id: str, pairs: list[tuple[dict[str, Any], Any]], out_dir: Path,
                    config: Config) -> list[Any]:
    """Compare one patient's visits; write OUT/<patient>/report.html and registrations.json
    (:func:`registration_records`); return longitudinal rows."""
    from bme_mri.compare.study_pair import compare_studies
    from bme_mri.compare.timepoints import comparisons
    from bme_mri.report.build import patient_report
    from bme_mri.report.html import write_patient_report

    visits = [visit_from_record(record, study, out_dir, config) for record, study in pairs]
    results = []
    for item in comparisons(visits, lambda v: v.study_date, lambda v: v.study_time, lambda v: v.study_uid):
        results.append(compare_studies(item.reference, item.followup, config.compare, patient_id,
                                       item.compared_with, qc_blocking=config.qc.blocking))
    report = patient_report(patient_id, visits, results, half_width_mm=config.report.overlay_half_width_mm,
                            method=METHOD_TEXT, version=__version__, config_digest=config.digest(),
                            edema_present_ml=config.compare.status.edema_present_ml)
    patient_dir = out_dir / safe_name(patient_id, "no_patient_id")
    write_registrations(results, patient_dir / "registrations.json")
    write_patient_report(report, patient_dir / "report.html")
    return [row for result in results for row in result.rows()]


def _safe_process_patient(patient_id: str, pairs, out_dir: Path, config: Config) -> tuple[list[Any], str | None]:
    """:func:`process_patient`, its failure recorded in ``OUT/<patient>/followup_error.txt``
    (and returned) instead of raised; a success removes the record an earlier run left."""
    error_file = out_dir / safe_name(patient_id, "no_patient_id") / "followup_error.txt"
    try:
        rows = process_patient(patient_id, pairs, out_dir, config)
    except Exception as exc:  # noqa: BLE001 - one patient's failure must not stop the batch
        message = f"follow-up comparison failed: {type(exc).__name__}: {exc}"
        write_text_atomic(error_file, message + "\n")
        return [], message
    error_file.unlink(missing_ok=True)
    return rows, None


def visits_by_patient(studies: list[Any], records: list[dict[str, Any]]
                      ) -> dict[str, list[tuple[dict[str, Any], Any]]]:
    """Patient ID -> the (study record, discovered study) of each of their analysed studies.

    A study is found by (PatientID, StudyInstanceUID), never by its UID alone: one stray file
    with another PatientID in a patient's study folder (a localizer re-sent from another exam)
    makes a second, pseudo-patient study with the same UID, which must not stand in for the
    patient's own. A study of unknown patient ('': a NIfTI without PatientID or BIDS sub-) is
    never assumed to be another's follow-up; `bme-mri compare` can pair such files explicitly."""
    by_key = {(s.patient_id, s.study_uid): s for s in studies}
    patients: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for record in records:
        key = (record.get("patient_id"), record.get("study_uid"))
        if not record.get("error") and record.get("sides") and key in by_key and record.get("patient_id"):
            patients[record["patient_id"]].append((record, by_key[key]))
    return patients


def run_followups(studies: list[Any], records: list[dict[str, Any]], out_dir: Path, config: Config,
                  workers: int = 1) -> tuple[int, list[str]]:
    """Write OUT/longitudinal.csv (header even when empty) and reports.

    Returns the number of rows and one message per patient whose comparison failed.
    """
    from bme_mri.compare.longitudinal import write_longitudinal_csv

    patients = visits_by_patient(studies, records)
    todo = {pid: pairs for pid, pairs in patients.items() if len(pairs) >= 2}
    rows: list[Any] = []
    if workers <= 1 or len(todo) <= 1:
        outcomes = [_safe_process_patient(pid, pairs, out_dir, config) for pid, pairs in todo.items()]
    else:
        from bme_mri.pipeline.batch import _init_worker

        threads = max(1, (os.cpu_count() or 1) // workers)
        calls = [(_safe_process_patient, (pid, pairs, out_dir, config)) for pid, pairs in todo.items()]
        with worker_pool(workers, calls, initializer=_init_worker, initargs=(threads,)) as futures:
            outcomes = [f.result() for f in futures]
    errors = []
    for patient_id, (patient_rows, error) in zip(todo, outcomes):
        rows.extend(patient_rows)
        if error:
            errors.append(f"patient {patient_id}: {error}")
    rows.sort(key=lambda r: (r.patient_id, r.side, r.followup_date, r.compared_with))
    write_longitudinal_csv(rows, out_dir / "longitudinal.csv")
    return len(rows), errors
