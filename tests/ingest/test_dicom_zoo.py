"""50 real MR series of five vendors (../shared/realdata/dicom_zoo, the dicom2nifti test data;
skipped when absent): every series classed as a physicist accepts it (expected_classes.json),
never as a class it must not be, and none selected for edema analysis (issue 22)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bme_mri.errors import BmeError
from bme_mri.ingest import discover, select_series

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
ZOO = REALDATA / "dicom_zoo"
EXPECTED = ZOO / "expected_classes.json"

pytestmark = pytest.mark.skipif(not EXPECTED.is_file(), reason=f"dicom_zoo not present at {ZOO}")


def _entries() -> list[dict]:
    return json.loads(EXPECTED.read_text()) if EXPECTED.is_file() else []


_CACHE: dict[str, object] = {}


def _discovered(folder: str, settings):
    if folder not in _CACHE:  # *_implicit folders hold the same series as their twins
        _CACHE[folder] = discover(ZOO / folder, settings)
    return _CACHE[folder]


@pytest.mark.parametrize("entry", _entries(), ids=[e["folder"] for e in _entries()])
def test_every_zoo_series_is_classed_as_accepted_and_never_analysed(entry, settings):
    discovery = _discovered(entry["folder"], settings)
    stacks = [s for s in discovery.all_stacks() if s.series_uid == entry["series_uid"]]
    assert stacks, f"{entry['folder']}: series not found"
    for stack in stacks:
        got = stack.sequence.value
        assert got in entry["accept"], f"{entry['folder']}: {got} ({stack.classification_reason}); {entry['why']}"
        assert got not in entry["must_not"]
        assert stack.classification_reason
    for study in discovery.studies:
        try:
            selection = select_series(study, settings)
        except BmeError:
            continue
        assert selection.analysis.series_uid != entry["series_uid"], f"{entry['folder']} selected for analysis"


def test_zoo_covers_the_vendor_traps():
    entries = _entries()
    assert len(entries) == 50
    makers = " ".join(e["manufacturer"].upper() for e in entries)
    for maker in ("GE", "PHILIPS", "SIEMENS", "HITACHI", "HYPERFINE"):
        assert maker in makers
