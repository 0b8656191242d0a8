#!/usr/bin/env python
"""Write the generated tables of docs/validation.md: run the checks, replace each table.

Usage::

    python scripts/validation_report.py --phantoms validation:650 followup:651 stress:652 \\
        stress-noisy:653 qc:654 [--zoo] [--cli] [--roi] [--workdir DIR] [--doc docs/validation.md]

Each section runs its command and rewrites the text between the markers
``<!-- validation_report:NAME -->`` and ``<!-- /validation_report:NAME -->`` of the document:

* ``phantoms``: ``bme-mri phantom`` + ``bme-mri validate`` for each COHORT:SEED (choose seeds
  never used before: a seed looked at while building the method is not a fresh one), one row each
  with PASS/FAIL, the failed floors and the figures of ``validation.json``;
* ``zoo``: ``scripts/check_dicom_zoo.py`` (series recognition on real headers);
* ``cli``: ``scripts/bench_cli.py`` (how fast the command answers);
* ``roi-loso`` and ``roi-scans`` (``--roi``): ``scripts/bench_real_roi.py --loso`` on the real
  sacroiliac STIR of ``../shared/realdata/sij_stir`` (10-15 minutes on 2 cores).

Sections not asked for are left as they are. Prose around the tables stays hand-written. The
speed table comes from ``scripts/bench_run.py`` (it times the code against another revision).
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REALDATA = REPO.parent / "shared" / "realdata"


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, **kwargs)


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _num(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def phantom_rows(specs: list[str], workdir: Path) -> str:
    """One Markdown row per COHORT:SEED, from its validation.json."""
    lines = ["| cohort, seed | result | head Dice | edema Dice | edema volume error (median) | necrosis Dice "
             "mean / worst | false necrosis | range holds the truth (edema / necrosis) | follow-up calls "
             "right | minutes |", "|---|---|---|---|---|---|---|---|---|---|"]
    import time

    for spec in specs:
        cohort, seed = spec.rsplit(":", 1)
        folder = workdir / f"{cohort}_{seed}"
        start = time.perf_counter()
        made = _run([sys.executable, "-m", "bme_mri.cli", "phantom", str(folder), "--cohort", cohort,
                     "--seed", seed, "--no-progress"])
        if made.returncode != 0:
            lines.append(f"| `{cohort}` {seed} | phantom failed: {made.stderr.strip()[-200:]} |" + " - |" * 8)
            continue
        _run([sys.executable, "-m", "bme_mri.cli", "validate", str(folder), "--out", str(folder) + "_val"])
        minutes = (time.perf_counter() - start) / 60.0
        report = Path(str(folder) + "_val") / "validation.json"
        if not report.is_file():
            lines.append(f"| `{cohort}` {seed} | validate wrote no validation.json |" + " - |" * 8)
            continue
        data = json.loads(report.read_text())
        m = data["metrics"]
        result = "PASS" if data["passed"] else "FAIL: " + "; ".join(str(f) for f in data.get("failures", []))[:300]
        calls = (f"{m['status_accuracy'] * m['status_calls']:.0f}/{m['status_calls']:.0f}"
                 if m.get("status_calls") else "-")
        necrosis = (f"{_num(m.get('necrosis_dice_mean'))} / {_num(m.get('necrosis_dice_worst'))}"
                    if m.get("necrosis_dice_mean") is not None else "-")
        false_necrosis = m.get("necrosis_false_positive_rate")
        lines.append(
            f"| `{cohort}` {seed} | {result} | {_num(m.get('head_dice_mean'))} | {_num(m.get('edema_dice_mean'))} | "
            f"{_num(m.get('edema_volume_error_median_pct'), 1)}% | {necrosis} | "
            f"{'-' if false_necrosis is None else f'{false_necrosis:.2f}'} | "
            f"{_pct(m.get('edema_range_coverage'))} / {_pct(m.get('necrosis_range_coverage'))} | {calls} | "
            f"{minutes:.1f} |")
    return "\n".join(lines)


def zoo_table() -> str:
    done = _run([sys.executable, "scripts/check_dicom_zoo.py"])
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()
    return f"```\npython scripts/check_dicom_zoo.py\n{summary}\n```"


def cli_table() -> str:
    done = _run([sys.executable, "scripts/bench_cli.py", "--repeats", "5"])
    return "```\npython scripts/bench_cli.py --repeats 5\n" + done.stdout.strip() + "\n```"


def roi_tables(workdir: Path) -> tuple[str, str]:
    """(LOSO table with the constants chosen on all scans, per-scan table) of bench_real_roi."""
    markdown = workdir / "roi.md"
    done = _run([sys.executable, "scripts/bench_real_roi.py", "--data", str(REALDATA / "sij_stir"), "--loso",
                 "--markdown", str(markdown)])
    if not markdown.is_file():
        raise SystemExit(f"bench_real_roi.py wrote no table: {done.stderr.strip()[-300:]}")
    per_scan, loso = markdown.read_text().strip().split("\n\n", 1)
    return loso.strip(), per_scan.strip()


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- validation_report:{name} -->", f"<!-- /validation_report:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), flags=re.S)
    if not pattern.search(text):
        raise SystemExit(f"{name}: markers {start} ... {end} not found in the document")
    return pattern.sub(lambda _m: f"{start}\n{body}\n{end}", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phantoms", nargs="*", default=[], metavar="COHORT:SEED")
    parser.add_argument("--zoo", action="store_true")
    parser.add_argument("--cli", action="store_true")
    parser.add_argument("--roi", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "validation.md")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bme_validation_"))
    workdir.mkdir(parents=True, exist_ok=True)
    sections = {}
    if args.phantoms:
        sections["phantoms"] = phantom_rows(args.phantoms, workdir)
    if args.zoo:
        sections["zoo"] = zoo_table()
    if args.cli:
        sections["cli"] = cli_table()
    if args.roi:
        sections["roi-loso"], sections["roi-scans"] = roi_tables(workdir)
    text = args.doc.read_text(encoding="utf-8")  # read after the runs: the document may be edited meanwhile
    for name, body in sections.items():
        text = replace_section(text, name, body)
    args.doc.write_text(text, encoding="utf-8")
    print(f"wrote {args.doc} (work files in {workdir})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
