#!/usr/bin/env python
"""How fast bme-mri answers a user: ``--help``, ``--version`` and the commonest mistakes.

Usage::

    python scripts/bench_cli.py [--repeats 5] [--before REV]

Times, as the median of ``--repeats`` runs of ``python -m bme_mri.cli ...`` in a fresh process
each (interpreter start included, as a user sees it):

* ``--help`` and ``--version``;
* ``run`` of a path that does not exist, and of an empty folder;
* ``run`` of a folder with a file in it and a config file that does not exist.

With ``--before REV`` the same commands run on that git revision too (a temporary worktree,
removed afterwards), in turns with this checkout, so both columns come from one run on one
machine. The goal is under 1 s each (issue 23). Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cases(tmp: Path) -> dict[str, list[str]]:
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    one = tmp / "one"
    one.mkdir(exist_ok=True)
    (one / "note.txt").write_text("not an image\n")
    return {
        "--help": ["--help"],
        "--version": ["--version"],
        "missing path": ["run", str(tmp / "nowhere"), "--out", str(tmp / "o1")],
        "empty folder": ["run", str(empty), "--out", str(tmp / "o2")],
        "bad config": ["run", str(one), "--out", str(tmp / "o3"), "--config", str(tmp / "nowhere.yaml")],
    }


def time_once(root: Path, args: list[str]) -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(root))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bme_mri.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", default=None, help="a git revision to time in turns with this checkout")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        roots = {"now": REPO}
        if args.before:
            worktree = tmp / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before], cwd=REPO,
                           check=True, capture_output=True)
            roots = {"before": worktree, "now": REPO}
        try:
            table = {name: {label: [] for label in roots} for name in cases(tmp)}
            codes: dict[str, dict[str, int]] = {name: {} for name in table}
            for _ in range(args.repeats):
                for name, command in cases(tmp).items():
                    for label, root in roots.items():
                        seconds, code = time_once(root, command)
                        table[name][label].append(seconds)
                        codes[name][label] = code
            header = "".join(f"{label + ' s':>12s}" for label in roots)
            print(f"{'case':14s}{header}   exit codes (median of {args.repeats}, fresh process each)")
            for name, by_label in table.items():
                cells = "".join(f"{statistics.median(v):12.2f}" for v in by_label.values())
                print(f"{name:14s}{cells}   {codes[name]}")
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "before")], cwd=REPO,
                               capture_output=True)
                shutil.rmtree(tmp / "before", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
