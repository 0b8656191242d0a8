"""``bme-mri compare BASELINE FOLLOWUP --out DIR``: one patient's two studies -> report.

Each input is a DICOM folder (one study) or a NIfTI file. Both are analysed as in ``run``
(outputs under ``DIR/baseline`` and ``DIR/followup``), the follow-up is registered onto the
baseline per hip, and ``DIR/longitudinal.csv`` and ``DIR/report.html`` are written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.errors import BmeError
from bme_mri.ingest.nifti_input import patient_identity_note
from bme_mri.io_utils import ensure_outside, staged_folder, write_json_atomic
from bme_mri.types import SequenceClass


def _single_study(path: Path, config: Config, sequence_override: SequenceClass | None = None,
                  force: bool = False):
    from bme_mri.ingest import discover
    from bme_mri.ingest.nifti_input import apply_sequence_override

    path = Path(path)
    if not path.exists():
        raise BmeError(f"{path} does not exist")
    discovery = discover(path, config.ingest)
    apply_sequence_override(discovery, sequence_override, force=force, settings=config.ingest)
    studies = discovery.studies
    if len(studies) != 1:
        raise BmeError(f"{path} holds {len(studies)} studies; give one study folder (or NIfTI file) per visit")
    return studies[0]


def compare_pair(baseline_path: Path, followup_path: Path, out_dir: Path, config: Config,
                 sequence_override: SequenceClass | None = None,
                 on_warning: Callable[[str], None] | None = None, force: bool = False) -> Path:
    """Analyse both visits, compare them, write the report; returns the report path.

    Unless ``force``, two different patients or one study given twice is refused before
    anything is analysed (:func:`check_pair`), and so is ``--sequence stir`` on a file whose
    sidecar or name says otherwise; with ``force`` each check overridden is a warning (printed
    through ``on_warning`` and in the report), never silent.
    ``sequence_override`` (``--sequence``) sets the class of the NIfTI files of both inputs that
    nothing identifies, or of an input that is one file
    (:func:`~bme_mri.ingest.nifti_input.apply_sequence_override`).
    A study whose patient is unknown (NIfTI without PatientID or BIDS ``sub-``: patient id
    ``""``) is compared, and the report and study.json say the identity could not be checked.
    ``on_warning`` receives each of the report's warnings and notes (the CLI prints them): what
    ``--force`` overrode first, before the analysis; then the identity and date warnings, the
    hips not measured or not found, the comparison's own warnings.
    """
    from bme_mri.compare.longitudinal import write_longitudinal_csv
    from bme_mri.compare.study_pair import compare_studies
    from bme_mri.pipeline.followup import METHOD_TEXT, visit_from_analysis, write_registrations
    from bme_mri.pipeline.outputs import is_study_output_folder, write_study_outputs
    from bme_mri.pipeline.study import analyse_study
    from bme_mri.pipeline.worker import side_records
    from bme_mri.report.build import patient_report
    from bme_mri.report.html import write_patient_report

    out_dir = Path(out_dir)
    ensure_outside(out_dir, [Path(baseline_path), Path(followup_path)])
    for role in ("baseline", "followup"):  # OUT/ROLE is replaced whole: never over an input
        folder = (out_dir / role).resolve()
        for given in (baseline_path, followup_path):
            path = Path(given).resolve()
            if path == folder or folder in path.parents:
                raise BmeError(f"input {given} lies in {out_dir / role}, which compare writes the {role} "
                               "visit's results to; choose an --out folder apart from the inputs")
    overridden = check_pair(baseline_path, followup_path, config, force)
    paths = {"baseline": baseline_path, "followup": followup_path}
    studies = {role: _single_study(path, config, sequence_override, force) for role, path in paths.items()}
    # what --force overrode is said before anything is analysed (and kept for the report)
    early = list(overridden) + forced_sequence_notes(studies)
    for warning in early if on_warning is not None else ():
        on_warning(warning)
    dated = bool(studies["baseline"].study_date and studies["followup"].study_date)
    if dated and ((studies["baseline"].study_date, studies["baseline"].study_time)
                  > (studies["followup"].study_date, studies["followup"].study_time)):
        raise BmeError(f"the follow-up ({studies['followup'].study_date}) is dated before the baseline "
                       f"({studies['baseline'].study_date}); swap the two arguments")
    analyses = {}
    for role, study in studies.items():
        analysis = analyse_study(study, config)
        identity_note = patient_identity_note(study)
        if identity_note:
            analysis.warnings.append(identity_note)
        # a visit's folder is published whole, and only over bme-mri's own earlier results
        with staged_folder(out_dir / role, is_study_output_folder) as stage:
            outputs = write_study_outputs(analysis, stage, out_dir, config, final_dir=out_dir / role)
            write_json_atomic(stage / "study.json", {
                "bme_mri_version": __version__, "config_digest": config.digest(), "input": str(paths[role]),
                "patient_id": analysis.study.patient_id, "study_uid": analysis.study.study_uid,
                "study_date": analysis.study.study_date, "selection_reason": analysis.selection.reason,
                "outputs": outputs, "warnings": analysis.warnings, "timings_s": analysis.timings_s,
                **side_records(analysis), "qc": [q.to_dict() for q in analysis.qc]})
        analyses[role] = analysis
    baseline, followup = visit_from_analysis(analyses["baseline"]), visit_from_analysis(analyses["followup"])
    patient_id = analyses["baseline"].study.patient_id
    warnings = list(early)
    unknown = [role for role, a in analyses.items() if not a.study.patient_id]
    if unknown:
        warnings.append(f"patient identity of the {' and '.join(unknown)} unknown (NIfTI without PatientID "
                        "in a JSON sidecar or a BIDS sub- label): that both visits are the same patient "
                        "was not checked")
    elif analyses["followup"].study.patient_id != patient_id and not overridden:
        warnings.append(f"patient IDs differ: baseline {patient_id!r}, follow-up "
                        f"{analyses['followup'].study.patient_id!r}")
    if not dated:
        warnings.append("visit date unknown (no StudyDate in a sidecar, no dated BIDS ses- label): the "
                        "interval is not known and the order given was taken as baseline, follow-up")
    result = compare_studies(baseline, followup, config.compare, patient_id, "baseline",
                             qc_blocking=config.qc.blocking)
    write_longitudinal_csv(result.rows(), out_dir / "longitudinal.csv")
    write_registrations([result], out_dir / "registrations.json")
    report = patient_report(patient_id, [baseline, followup], [result],
                            half_width_mm=config.report.overlay_half_width_mm, method=METHOD_TEXT,
                            version=__version__, config_digest=config.digest(),
                            edema_present_ml=config.compare.status.edema_present_ml, warnings=warnings)
    for warning in report.warnings if on_warning is not None else ():
        if warning not in early:  # the report's warnings and notes: not only in the HTML
            on_warning(warning)
    return write_patient_report(report, out_dir / "report.html")


def forced_sequence_notes(studies: dict) -> list[str]:
    """One warning per NIfTI file ``--sequence`` relabelled against its own class (``--force``)."""
    return [f"{role}: {warning}" for role, study in studies.items() for stack in study.stacks
            for warning in getattr(stack, "warnings", []) if "because of --force" in warning]


_UNKNOWN_IDS = {"", "unknown", "unknown-study"}  # what discovery records when a tag is missing


def _known_ids(study) -> tuple[bool, bool]:
    """(patient ID known, study UID known): not missing, and not a NIfTI file's name standing
    in for an ID the data does not carry (no sidecar, no ``sub-``/``ses-`` in the name)."""
    stems = set()
    for stack in study.stacks:
        path = getattr(stack, "nifti_path", None)
        if path is not None:
            name = Path(path).name
            stems.add(name[: -len(".nii.gz")] if name.endswith(".nii.gz") else Path(name).stem)
    unknown = _UNKNOWN_IDS | stems
    return study.patient_id not in unknown, study.study_uid not in unknown


def pair_problems(baseline_path: Path, followup_path: Path, config: Config) -> list[str]:
    """Why the pair is not two visits of one patient, one sentence per check that fails (none
    when it is). Reads headers only: both arguments the same path, the same study
    (StudyInstanceUID), different patients (PatientID); an ID the data does not carry is not
    compared."""
    if Path(baseline_path).resolve() == Path(followup_path).resolve():
        return [f"baseline and follow-up are the same path ({baseline_path})"]
    baseline, followup = _single_study(baseline_path, config), _single_study(followup_path, config)
    (base_patient, base_study), (follow_patient, follow_study) = _known_ids(baseline), _known_ids(followup)
    problems = []
    if base_study and follow_study and baseline.study_uid == followup.study_uid:
        problems.append(f"baseline {baseline_path} and follow-up {followup_path} are the same study "
                        f"(StudyInstanceUID {baseline.study_uid})")
    if base_patient and follow_patient and baseline.patient_id != followup.patient_id:
        problems.append(f"baseline and follow-up are different patients (PatientID {baseline.patient_id!r} "
                        f"vs {followup.patient_id!r})")
    return problems


def check_pair(baseline_path: Path, followup_path: Path, config: Config, force: bool = False) -> list[str]:
    """Refuse a pair that is not two visits of one patient (a user mistake, one line).

    Raises :class:`BmeError` naming the first problem of :func:`pair_problems`. With ``force``
    (``compare --force``) nothing is refused: returns one warning per check overridden, so
    nothing is overridden silently.
    """
    problems = pair_problems(baseline_path, followup_path, config)
    if problems and not force:
        advice = ("give two visits of one patient" if "different patients" in problems[0]
                  else "give two visits")
        raise BmeError(f"{problems[0]}; {advice} (--force to compare anyway)")
    return [f"--force: {problem}; compared anyway" for problem in problems]
