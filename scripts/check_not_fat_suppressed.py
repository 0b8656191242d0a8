"""Every contrast of a ``contrasts`` phantom cohort given as STIR, as a user following the
"--sequence stir" hint would: is an image without fat suppression ever measured?

Generates the cohort (``--seed``), converts it to NIfTI, copies each series alone (no sidecar,
a name that says nothing) and runs ``bme-mri run FILE --sequence stir`` on it. Per contrast it
counts the hips found, the hips blocked by ``not_fat_suppressed``, the hips with an edema or
necrosis number in summary.csv, and the range of the subcutaneous fat / muscle ratio.

Usage::

    .venv/bin/python scripts/check_not_fat_suppressed.py --seed 612 [--workdir W] [--json R.json]

Exit status 1 when a T1, T2 or PD hip has a number, or a STIR / T2 fat-sat hip is blocked.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path

PICK = {"STIR": "_STIR.", "T2FS": "FS_run-", "T1": "_T1w.", "T2": "_T2w.", "PD": "_PDw."}
SUPPRESSED = ("STIR", "T2FS")
FIGURES = ("edema_ml", "necrosis_ml")


def contrast_of(name: str) -> str | None:
    for contrast, key in PICK.items():
        if key in name and (contrast != "T2" or "FS_" not in name):
            return contrast
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the tally here")
    args = parser.parse_args(argv)
    from bme_mri.config import load_config
    from bme_mri.ingest import convert_input
    from bme_mri.phantom.cohort import cohort_plans, generate_plans
    from bme_mri.pipeline import run_batch
    from bme_mri.types import SequenceClass

    config = load_config()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bme_fatsup_"))
    generate_plans(work / "phantom", "contrasts", cohort_plans("contrasts"), args.seed)
    convert_input(work / "phantom" / "dicom", work / "nifti", config.ingest)
    tally: dict[str, dict] = {c: {"studies": 0, "hips": 0, "blocked": 0, "with_number": 0, "fat_muscle": []}
                              for c in PICK}
    for index, path in enumerate(sorted((work / "nifti").rglob("*.nii.gz"))):
        contrast = contrast_of(path.name)
        if contrast is None:
            continue
        folder = work / "bare" / f"{index:04d}"
        folder.mkdir(parents=True)
        bare = Path(shutil.copy(path, folder / "scan.nii.gz"))
        out = work / "out" / f"{index:04d}"
        run_batch(bare, out, config, sequence_override=SequenceClass.STIR)
        entry = tally[contrast]
        entry["studies"] += 1
        with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if not row["femoral_head_ml"] and not row["qc_flags"]:
                    continue  # no head found: nothing measured either
                entry["hips"] += 1
                entry["blocked"] += "not_fat_suppressed" in row["qc_flags"].split(";")
                entry["with_number"] += any(row[key] != "" for key in FIGURES)
        for study in out.rglob("study.json"):
            for side in json.loads(study.read_text()).get("sides", []):
                ratio = ((side.get("qc") or {}).get("measures") or {}).get("fat_muscle_ratio")
                if ratio is not None:
                    entry["fat_muscle"].append(float(ratio))
    failed = False
    print(f"contrasts seed {args.seed}, every series given as STIR without sidecar (workdir {work})")
    print("contrast  studies  hips  not_fat_suppressed  with a number  fat/muscle")
    for contrast, entry in tally.items():
        ratios = entry.pop("fat_muscle")
        entry["fat_muscle_range"] = [min(ratios), max(ratios)] if ratios else None
        span = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
        print(f"{contrast:8s}  {entry['studies']:7d}  {entry['hips']:4d}  {entry['blocked']:18d}  "
              f"{entry['with_number']:13d}  {span}")
        if contrast in SUPPRESSED:
            failed |= entry["blocked"] > 0
        else:
            failed |= entry["with_number"] > 0
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "tally": tally}, indent=1))
    print("FAIL" if failed else "PASS: no number on an image without fat suppression, no fat-suppressed hip blocked")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
