#!/usr/bin/env python
"""Real exams, honest answers: classify every series of real DICOM exams and run the pipeline.

Usage::

    python scripts/check_real_exams.py [--data ../shared/realdata/pelvis_dicom]

Prints one row per stack (patient, series number, description, class, b-value, why), then what
``bme-mri run`` made of each study: analysed (with its figures) or not, and why. On the two
ProstateX exams of ``shared/realdata/pelvis_dicom`` (no STIR, no fat-suppressed T2) the expected
outcome is: every diffusion-derived series classified as diffusion (dwi / adc), no study
analysed, no edema or necrosis figure. Exits 1 when that expectation fails for such a folder
(a study analysed from a non-edema-sensitive series, or a diffusion series not recognised), and
2 when the folder is absent. Not a CI test: the real scans are not part of the repository.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT = REPO.parent / "shared" / "realdata" / "pelvis_dicom"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT, help="folder of real DICOM exams")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: {args.data} is absent (real scans are kept outside the repository)")
        return 2

    from bme_mri.config import load_config
    from bme_mri.ingest import discover
    from bme_mri.pipeline import run_batch

    config = load_config()
    discovery = discover(args.data, config.ingest)
    print(f"{'patient':16s} {'#':>3s} {'description':38s} {'class':9s} {'b':>5s}  why")
    problems = []
    for study in discovery.studies:
        for stack in study.stacks:
            b_value = stack.headers.get("DiffusionBValue")
            image_type = " ".join(str(v) for v in (stack.headers.get("ImageType") or []))
            print(f"{study.patient_id[:16]:16s} {stack.series_number or '':>3} {stack.description[:38]:38s} "
                  f"{stack.sequence.value:9s} {'' if b_value is None else f'{float(b_value):g}':>5s}  "
                  f"{stack.classification_reason[:90]}{'  ERROR: ' + stack.error if stack.error else ''}")
            is_diffusion = "DIFFUSION" in image_type or "diff" in stack.description.lower()
            if is_diffusion and stack.sequence.value not in ("dwi", "adc"):
                problems.append(f"{stack.label}: diffusion series classified as {stack.sequence.value}")

    with tempfile.TemporaryDirectory() as tmp:
        result = run_batch(args.data, Path(tmp) / "out", config)
        print("\n" + result.summary_line().replace(str(Path(tmp) / "out"), "<tmp>"))
        with open(Path(tmp) / "out" / "summary.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    print(f"\n{'patient':16s} {'side':6s} {'edema_ml':>9s} {'necrosis_ml':>11s}  outcome")
    for row in rows:
        outcome = row["not_analysed"] or row["error"] or f"analysed {row['sequence']} '{row['series_description']}'"
        print(f"{row['patient_id'][:16]:16s} {row['side'] or '-':6s} {row['edema_ml'] or '-':>9s} "
              f"{row['necrosis_ml'] or '-':>11s}  {outcome}")
        if row["edema_ml"] or row["necrosis_ml"]:
            sequence = row["sequence"]
            if sequence not in ("stir", "t2fs"):
                problems.append(f"{row['patient_id']}: figures from a {sequence} series")
    has_sensitive = any(s.sequence.edema_sensitive for s in discovery.all_stacks())
    if not has_sensitive and any(row["edema_ml"] or row["necrosis_ml"] for row in rows):
        problems.append("figures reported although no series is edema-sensitive")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("\nresult:", "FAIL" if problems else "OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
