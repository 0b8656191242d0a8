"""Benchmark ``bme-mri run``: median wall time per study, peak memory, --workers 2 vs 1,
and one two-visit patient end to end (both studies, registration, report; cohort ``bench_pair``).

Usage::

    .venv/bin/python scripts/bench_run.py [--cohort bench] [--seed 4242] [--repeats 3] [--config C.yaml]

``--config`` is passed to every ``bme-mri`` call (e.g. ``segment: {method: learned}`` to time
the learned segmenter); the segmentation time per study (``timings_s.segment`` of study.json)
is reported beside the total.

Each measured run is a fresh process (``bme-mri run``), so peak memory (ru_maxrss of the
children) covers ingest -> segment -> quantify -> write for the whole run. Prints medians.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run_cli(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS of the child in MB) of one ``bme-mri`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bme_mri.cli", *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"bme-mri {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak_kb, before) / 1024.0


def _study_times(out: Path, key: str = "total") -> list[float]:
    """``timings_s[key]`` of every study.json under ``out`` (seconds)."""
    times = []
    for study_json in out.rglob("study.json"):
        record = json.loads(study_json.read_text())
        value = (record.get("timings_s") or {}).get(key)
        if value is not None:
            times.append(value)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", default="bench")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--pair-only", action="store_true",
                        help="only the two-visit patient (skip the 10-study throughput runs)")
    parser.add_argument("--config", type=Path, default=None, help="YAML merged over the defaults, for every run")
    args = parser.parse_args()
    extra = ["--config", str(args.config.resolve())] if args.config else []

    from bme_mri.phantom import generate_cohort

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bme_bench_run_"))
    cohort_dir = work / f"{args.cohort}_{args.seed}"
    if not args.pair_only and not (cohort_dir / "truth" / "cohort.json").is_file():
        generate_cohort(cohort_dir, cohort=args.cohort, seed=args.seed)
    dicom = cohort_dir / "dicom"

    results: dict[str, dict[str, float]] = {}
    for workers in (() if args.pair_only else (1, 2)):
        walls, peaks, per_study, per_segment = [], [], [], []
        for repeat in range(args.repeats):
            out = work / f"out_w{workers}_{repeat}"
            shutil.rmtree(out, ignore_errors=True)
            wall, peak = _run_cli(["run", str(dicom), "--out", str(out), "--workers", str(workers),
                                   "--no-progress", *extra])
            walls.append(wall)
            peaks.append(peak)
            per_study.extend(_study_times(out))
            per_segment.extend(_study_times(out, "segment"))
        n_studies = len(list((work / f"out_w{workers}_0").rglob("study.json")))
        results[f"workers={workers}"] = {
            "studies": n_studies,
            "median_wall_s": statistics.median(walls),
            "median_study_s": statistics.median(per_study) if per_study else float("nan"),
            "median_segment_s": statistics.median(per_segment) if per_segment else float("nan"),
            "throughput_studies_per_min": 60.0 * n_studies / statistics.median(walls),
            "peak_rss_mb": max(peaks),
        }

    # a two-visit patient end to end: `compare` on its two study folders, and `run` over both
    pair_dir = work / f"bench_pair_{args.seed}"
    if not (pair_dir / "truth" / "cohort.json").is_file():
        generate_cohort(pair_dir, cohort="bench_pair", seed=args.seed)
    patient = json.loads((pair_dir / "truth" / "cohort.json").read_text())["patients"][0]
    base, follow = (pair_dir / s["dicom_dir"] for s in patient["studies"][:2])
    pair_times, pair_run_times = [], []
    for repeat in range(args.repeats):
        out = work / f"pair_compare_{repeat}"
        shutil.rmtree(out, ignore_errors=True)
        pair_times.append(_run_cli(["compare", str(base), str(follow), "--out", str(out), *extra])[0])
        out = work / f"pair_run_{repeat}"
        shutil.rmtree(out, ignore_errors=True)
        pair_run_times.append(_run_cli(["run", str(pair_dir / "dicom"), "--out", str(out),
                                        "--workers", "1", "--no-progress", *extra])[0])
        if not (out / "longitudinal.csv").is_file() or not list(out.glob("*/report.html")):
            raise SystemExit(f"the two-visit run in {out} wrote no longitudinal.csv / report.html")

    print(f"cohort {args.cohort} seed {args.seed}, {args.repeats} repeats, workdir {work}")
    if results:
        print(f"{'run':12s} {'studies':>7s} {'median wall s':>14s} {'median s/study':>15s} "
              f"{'segment s':>10s} {'studies/min':>12s} {'peak RSS MB':>12s}")
    for name, row in results.items():
        print(f"{name:12s} {row['studies']:7d} {row['median_wall_s']:14.1f} {row['median_study_s']:15.2f} "
              f"{row['median_segment_s']:10.2f} {row['throughput_studies_per_min']:12.1f} {row['peak_rss_mb']:12.0f}")
    if results:
        speedup = results["workers=1"]["median_wall_s"] / results["workers=2"]["median_wall_s"]
        print(f"throughput --workers 2 vs 1: x{speedup:.2f}")
    print(f"two-visit patient end to end, incl. process start (cohort bench_pair seed {args.seed}): "
          f"'bme-mri compare' median {statistics.median(pair_times):.1f} s, "
          f"'bme-mri run --workers 1' median {statistics.median(pair_run_times):.1f} s")


if __name__ == "__main__":
    main()
