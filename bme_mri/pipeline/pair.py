"""``bme-mri compare BASELINE FOLLOWUP --out DIR``: one patient's two studies -> report.

Each input is a DICOM folder (one study) or a NIfTI file. Both are analysed as in ``run``
(outputs under ``DIR/baseline`` and ``DIR/followup``), the follow-up is registered onto the
baseline per hip, and ``DIR/longitudinal.csv`` and ``DIR/report.html`` are written.
"""

from __future__ import annotations

from pathlib import Path

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.errors import BmeError
from bme_mri.io_utils import ensure_outside, write_json_atomic


def _single_study(path: Path, config: Config):
    from bme_mri.ingest import discover

    path = Path(path)
    if not path.exists():
        raise BmeError(f"{path} does not exist")
    studies = discover(path, config.ingest).studies
    if len(studies) != 1:
        raise BmeError(f"{path} holds {len(studies)} studies; give one study folder (or NIfTI file) per visit")
    return studies[0]


def compare_pair(baseline_path: Path, followup_path: Path, out_dir: Path, config: Config) -> Path:
    """Analyse both visits, compare them, write the report; returns the report path."""
    from bme_mri.compare.longitudinal import write_longitudinal_csv
    from bme_mri.compare.study_pair import compare_studies
    from bme_mri.pipeline.followup import METHOD_TEXT, visit_from_analysis, write_registrations
    from bme_mri.pipeline.outputs import write_study_outputs
    from bme_mri.pipeline.study import analyse_study
    from bme_mri.report.build import patient_report
    from bme_mri.report.html import write_patient_report

    out_dir = Path(out_dir)
    ensure_outside(out_dir, [Path(baseline_path), Path(followup_path)])
    analyses = {}
    for role, path in (("baseline", baseline_path), ("followup", followup_path)):
        analysis = analyse_study(_single_study(path, config), config)
        outputs = write_study_outputs(analysis, out_dir / role, out_dir, config)
        write_json_atomic(out_dir / role / "study.json", {
            "bme_mri_version": __version__, "config_digest": config.digest(), "input": str(path),
            "patient_id": analysis.study.patient_id, "study_uid": analysis.study.study_uid,
            "study_date": analysis.study.study_date, "selection_reason": analysis.selection.reason,
            "outputs": outputs, "warnings": analysis.warnings, "timings_s": analysis.timings_s,
            "qc": [q.to_dict() for q in analysis.qc]})
        analyses[role] = analysis
    baseline, followup = visit_from_analysis(analyses["baseline"]), visit_from_analysis(analyses["followup"])
    if (baseline.study_date, baseline.study_time) > (followup.study_date, followup.study_time):
        raise BmeError(f"the follow-up ({followup.study_date}) is dated before the baseline "
                       f"({baseline.study_date}); swap the two arguments")
    patient_id = analyses["baseline"].study.patient_id
    warnings = []
    if analyses["followup"].study.patient_id != patient_id:
        warnings.append(f"patient IDs differ: baseline {patient_id!r}, follow-up "
                        f"{analyses['followup'].study.patient_id!r}")
    result = compare_studies(baseline, followup, config.compare, patient_id, "baseline",
                             qc_blocking=config.qc.blocking)
    write_longitudinal_csv([s.row for s in result.sides.values()], out_dir / "longitudinal.csv")
    write_registrations([result], out_dir / "registrations.json")
    report = patient_report(patient_id, [baseline, followup], [result],
                            half_width_mm=config.report.overlay_half_width_mm, method=METHOD_TEXT,
                            version=__version__, config_digest=config.digest(),
                            edema_present_ml=config.compare.status.edema_present_ml, warnings=warnings)
    return write_patient_report(report, out_dir / "report.html")
