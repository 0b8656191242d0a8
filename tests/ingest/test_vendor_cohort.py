"""Acceptance: series selection on a phantom cohort mixing three vendors' conventions,
distractor series and a repeated STIR (slow: generates the whole `vendors` cohort)."""

from __future__ import annotations

import json

import pytest

from bme_mri.config import load_config
from bme_mri.ingest import inspect_input


@pytest.mark.slow
def test_inspect_picks_the_stir_in_every_study_of_the_vendors_cohort(tmp_path):
    from bme_mri.phantom import generate_cohort

    manifest = json.loads(generate_cohort(tmp_path, cohort="vendors", seed=303).read_text())
    result = inspect_input(tmp_path / "dicom", load_config().ingest)
    picked = {uid: sel.analysis.series_uid for uid, sel in
              ((s.study_uid, result.selections.get(s.study_uid)) for s in result.discovery.studies) if sel}
    expected = {st["study_uid"]: st["stir_series_uid"] for p in manifest["patients"] for st in p["studies"]}
    assert len(expected) >= 9
    assert picked == expected
