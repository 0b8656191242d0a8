"""``bme-mri run``: every study of a folder tree, in parallel, resumable, never stopped by one.

Output contract (see README "Output layout")::

    OUT/summary.csv                       one row per patient x study x side (+ failed studies)
    OUT/longitudinal.csv                  one row per patient x side x follow-up
    OUT/skipped_files.csv                 files that are not usable DICOM, with the reason
    OUT/<patient>/<date>_<study>/study.json   provenance, reference marrow, warnings, timings
    OUT/<patient>/<date>_<study>/labels.nii.gz  label map on the analysed series' grid
    OUT/<patient>/<date>_<study>/overlay_<side>.png
    OUT/<patient>/report.html             follow-up report (patients with >= 2 studies)

Folder names come from :func:`bme_mri.io_utils.safe_name`, so a PatientID such as
``../../x`` cannot escape OUT. A study whose ``study.json`` records the same input
fingerprint and config digest is skipped on a rerun; failed studies are retried.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.io_utils import ensure_outside, remove_stale_staging, safe_name
from bme_mri.pipeline.pool import worker_pool
from bme_mri.pipeline.tables import write_skipped_csv, write_summary_csv
from bme_mri.quantify.qc import REVIEW_CODES
from bme_mri.types import SequenceClass

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class BatchResult:
    """What a batch did: per-study records (as written to study.json) and counts."""

    out_dir: Path
    records: list[dict[str, Any]]
    n_skipped_files: int
    n_resumed: int
    longitudinal_rows: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        """Failed studies plus patients whose follow-up comparison failed."""
        return sum(1 for r in self.records if r.get("error")) + len(self.errors)

    def problem_lines(self) -> list[str]:
        """One line per failed study (patient, study date and UID, reason), one per patient
        whose follow-up comparison failed, one per side of an analysed study whose femoral head
        lies in view but was not found, one per hip not measured (a blocking QC flag: ``NOT
        MEASURED <patient> <date> <side>: <reason>``), one per hip whose fat suppression could
        not be verified, one per file ``--force`` relabelled, then one per study not analysable
        (and why)."""

        def study(r: dict[str, Any]) -> str:
            return (f"patient {r.get('patient_id') or '?'} study {r.get('study_date') or '(no date)'} "
                    f"{r.get('study_uid') or '?'}")

        def hip(r: dict[str, Any], side: dict[str, Any]) -> str:
            return f"{r.get('patient_id') or '?'} {r.get('study_date') or '(no date)'} {side.get('side')}"

        analysed = [r for r in self.records if not r.get("error")]
        lines = [f"FAILED {study(r)}: {r['error']}" for r in self.records if r.get("error")]
        lines += [f"FAILED follow-up comparison, {error}" for error in self.errors]
        lines += [f"NOT ANALYSED {study(r)} {side.get('side')} hip: {side.get('not_analysed')}"
                  for r in analysed for side in r.get("sides_not_analysed") or []]
        lines += [f"NOT MEASURED {hip(r, side)}: {_blocked_reason(side)}"
                  for r in analysed for side in r.get("sides") or [] if _blocked_reason(side)]
        lines += [f"CHECK {hip(r, side)}: {flag.get('reason')}" for r in analysed for side in r.get("sides") or []
                  for flag in (side.get("qc") or {}).get("flags") or [] if flag.get("code") in REVIEW_CODES]
        lines += [f"FORCED {study(r)}: {warning}" for r in analysed for warning in r.get("warnings") or []
                  if "because of --force" in warning]
        return lines + [f"NOT ANALYSED {study(r)}: {r['not_analysed']}" for r in self.records
                        if r.get("not_analysed") and not r.get("error")]

    @property
    def n_hips_not_measured(self) -> int:
        """Hips of analysed studies with a blocking QC flag (no edema or necrosis figure)."""
        return sum(1 for r in self.records if not r.get("error") for side in r.get("sides") or []
                   if _blocked_reason(side))

    @property
    def n_not_analysed(self) -> int:
        """Readable studies with nothing to measure (no STIR / fat-suppressed T2): not failures."""
        return sum(1 for r in self.records if r.get("not_analysed") and not r.get("error"))

    def summary_line(self) -> str:
        """One line: studies analysed / not analysable / failed, files skipped, follow-up
        comparisons made and failed. A failed follow-up comparison is counted as such, never
        as a failed study (its studies were analysed)."""
        studies_failed = sum(1 for r in self.records if r.get("error"))
        ok = len(self.records) - studies_failed - self.n_not_analysed
        not_analysed = (f"{self.n_not_analysed} not analysable (no edema-sensitive series), "
                        if self.n_not_analysed else "")
        def count(n: int, noun: str) -> str:
            return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

        n = len(self.records)
        blocked = self.n_hips_not_measured
        not_measured = f" ({count(blocked, 'hip')} not measured: quality control)" if blocked else ""
        return (f"{n} {'study' if n == 1 else 'studies'} ({self.n_resumed} kept from an earlier run): "
                f"{ok} analysed{not_measured}, {not_analysed}{studies_failed} failed; "
                f"{count(self.n_skipped_files, 'file')} skipped; "
                f"{count(self.longitudinal_rows, 'follow-up comparison')}"
                + (f" (follow-up comparison failed for {count(len(self.errors), 'patient')})"
                   if self.errors else "")
                + f"; results in {self.out_dir}")


def _blocked_reason(side: dict[str, Any]) -> str:
    """'fat not suppressed on this series (not_fat_suppressed); the reasons in summary.csv
    qc_reason' for a hip of a study record with a blocking QC flag, '' for a measured one (one
    console line per hip: the measured levels behind each flag are in the tables)."""
    from bme_mri.quantify.qc import blocking_flags

    flags = blocking_flags((side.get("qc") or {}).get("flags") or [])
    if not flags and not side.get("not_measured"):
        return ""
    codes = ", ".join(dict.fromkeys(str(f.get("code")) for f in flags))
    short = (side.get("not_measured") or f"not measured: {codes}").removeprefix("not measured: ")
    return f"{short}; the reasons in summary.csv qc_reason"


def study_dir_name(study: Any) -> tuple[str, str]:
    """(patient folder, study folder) names, sanitised from untrusted DICOM values. The study
    folder is its date and a short hash of its StudyInstanceUID (``20240408_3f9a1c2b``): short
    enough to read and type, distinct for the studies of one patient; the full UID is in
    ``study.json`` and the CSV files."""
    date = re.sub(r"[^0-9]", "", study.study_date or "")[:8] or "nodate"
    digest = hashlib.sha1(str(study.study_uid or "no_study_uid").encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return safe_name(study.patient_id, "no_patient_id"), f"{date}_{digest}"


def study_fingerprint(study: Any, config: Config) -> str:
    """Hash of the study's input files (path, size, mtime) + config digest + version."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}|{config.digest()}|{study.study_uid}".encode())
    files: list[Path] = []
    for stack in study.stacks:
        files.extend(getattr(stack, "files", None) or [])
        if getattr(stack, "nifti_path", None):
            from bme_mri.nifti import sidecar_path

            # a NIfTI's class may come from its sidecar or from --sequence: both change the result
            files.extend([stack.nifti_path, sidecar_path(stack.nifti_path)])
            digest.update(f"{stack.nifti_path}|{getattr(stack.sequence, 'value', stack.sequence)}\n".encode())
    for path in sorted(str(p) for p in files):
        try:
            stat = os.stat(path)
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}|missing\n".encode())
    return digest.hexdigest()[:24]


def _load_done(study_json: Path, fingerprint: str) -> dict[str, Any] | None:
    try:
        record = json.loads(study_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") == fingerprint and not record.get("error"):
        return record
    return None


def _init_worker(threads: int) -> None:
    """Keep each worker to its share of the cores (SimpleITK and BLAS would take them all)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(threads)


def run_batch(input_path: Path, out_dir: Path, config: Config, workers: int = 1,
              on_study: ProgressCallback | None = None,
              sequence_override: SequenceClass | None = None, force: bool = False) -> BatchResult:
    """Analyse every study under ``input_path``; write tables, masks and reports to ``out_dir``.

    ``sequence_override`` (``--sequence``) sets the class of the NIfTI files nothing identifies
    (:func:`~bme_mri.ingest.nifti_input.apply_sequence_override`); files whose sidecar or name
    give a class keep it. Given one file whose own sidecar or name says another class, it is
    refused (one line, before anything is written) unless ``force`` (``--force``).

    Never raises for a bad study: its reason lands in ``summary.csv`` and ``study.json``.
    Raises :class:`~bme_mri.errors.BmeError` only for unusable arguments (missing input,
    output inside the input).
    """
    from bme_mri.errors import BmeError
    from bme_mri.ingest import discover
    from bme_mri.ingest.found import require_images
    from bme_mri.ingest.nifti_input import apply_sequence_override
    from bme_mri.pipeline.worker import failed_record, process_study

    input_path, out_dir = Path(input_path), Path(out_dir)
    if not input_path.exists():
        raise BmeError(f"input {input_path} does not exist")
    ensure_outside(out_dir, [input_path])
    discovery = require_images(discover(input_path, config.ingest))
    apply_sequence_override(discovery, sequence_override, force=force, settings=config.ingest)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out_dir)  # half-written study folders of an interrupted run
    write_skipped_csv(out_dir / "skipped_files.csv", discovery.skipped)

    records: list[dict[str, Any]] = []
    todo: list[tuple[Any, Path, str]] = []
    n_resumed = 0
    for study in discovery.studies:
        patient_dir, study_name = study_dir_name(study)
        study_out = out_dir / patient_dir / study_name
        fingerprint = study_fingerprint(study, config)
        done = _load_done(study_out / "study.json", fingerprint)
        if done is not None:
            records.append(done)
            n_resumed += 1
        else:
            todo.append((study, study_out, fingerprint))

    total = len(discovery.studies)
    if on_study:
        on_study(len(records), total, "resumed" if records else "starting")
    if workers <= 1 or len(todo) <= 1:
        _init_worker(max(1, os.cpu_count() or 1))
        for study, study_out, fingerprint in todo:
            records.append(process_study(study, study_out, out_dir, fingerprint, config))
            if on_study:
                on_study(len(records), total, study.patient_id)
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        calls = [(process_study, (s, so, out_dir, fp, config)) for s, so, fp in todo]
        try:
            with worker_pool(workers, calls, initializer=_init_worker, initargs=(threads,)) as futures:
                by_future = dict(zip(futures, todo))
                for future in as_completed(futures):
                    study, study_out, fingerprint = by_future[future]
                    try:
                        records.append(future.result())
                    except Exception as exc:  # noqa: BLE001 - a crashed worker must not stop the batch
                        records.append(failed_record(study, study_out, out_dir, fingerprint, config,
                                                     f"worker crashed: {type(exc).__name__}: {exc}"))
                    if on_study:
                        on_study(len(records), total, study.patient_id)
        except KeyboardInterrupt:
            remove_stale_staging(out_dir)  # the terminated workers' unfinished studies
            raise

    records.sort(key=lambda r: (r.get("patient_id", ""), r.get("study_date", ""), r.get("study_uid", "")))
    write_summary_csv(out_dir / "summary.csv", records)
    result = BatchResult(out_dir, records, len(discovery.skipped), n_resumed)
    from bme_mri.pipeline.followup import run_followups

    result.longitudinal_rows, result.errors = run_followups(discovery.studies, records, out_dir, config, workers)
    return result
