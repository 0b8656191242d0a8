#!/usr/bin/env python
"""Series recognition on real headers of five vendors: class every series of
``../shared/realdata/dicom_zoo`` and compare with the classes a physicist accepts
(``expected_classes.json``).

Usage::

    python scripts/check_dicom_zoo.py [--data ../shared/realdata/dicom_zoo]

Prints one row per series (folder, vendor, class, accepted classes, the classifier's reason) and
the count classed right. A series counts as right when every stack of it has an accepted class,
none has a class it must not have, and no study selects it for edema analysis. Exits 1 when any
series is wrong, 2 when the folder is absent. Not a CI test: the real headers are not part of
the repository (tests/ingest/test_dicom_zoo.py runs the same check where they are present).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT = REPO.parent / "shared" / "realdata" / "dicom_zoo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args(argv)
    expected_path = args.data / "expected_classes.json"
    if not expected_path.is_file():
        print(f"no {expected_path}", file=sys.stderr)
        return 2
    from bme_mri.config import load_config
    from bme_mri.errors import BmeError
    from bme_mri.ingest import discover, select_series

    settings = load_config().ingest
    discovered: dict[str, object] = {}
    right = 0
    entries = json.loads(expected_path.read_text())
    for entry in entries:
        folder = entry["folder"]
        if folder not in discovered:
            discovered[folder] = discover(args.data / folder, settings)
        discovery = discovered[folder]
        stacks = [s for s in discovery.all_stacks() if s.series_uid == entry["series_uid"]]
        labels = sorted({s.sequence.value + (f"/{s.subtype}" if s.subtype else "") for s in stacks})
        classes = {s.sequence.value for s in stacks}
        selected = False
        for study in discovery.studies:
            try:
                selected |= select_series(study, settings).analysis.series_uid == entry["series_uid"]
            except BmeError:
                pass
        ok = bool(stacks) and classes <= set(entry["accept"]) and not classes & set(entry["must_not"]) \
            and not selected
        right += ok
        reason = stacks[0].classification_reason if stacks else "series not found"
        print(f"{'ok ' if ok else 'BAD'} {folder:40s} {entry['manufacturer'][:12]:12s} {','.join(labels):22s} "
              f"accept {','.join(entry['accept']):12s} {'SELECTED ' if selected else ''}| {reason[:110]}")
    print(f"{right}/{len(entries)} series classed as accepted, none selected for analysis"
          if right == len(entries) else f"{right}/{len(entries)} series classed as accepted")
    return 0 if right == len(entries) else 1


if __name__ == "__main__":
    raise SystemExit(main())
