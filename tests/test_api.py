"""The Python API: the example of docs/api.md runs as written, and its results are typed and
agree with the files the pipeline wrote (issue 23)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_the_api_is_exported_lazily():
    import bme_mri

    assert {"analyse_study", "compare_studies", "quantify_roi"} <= set(bme_mri.__all__)
    assert callable(bme_mri.analyse_study)


def test_docs_api_example_runs_and_returns_what_the_files_say(tmp_path, monkeypatch, capsys):
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the example's mkdtemp() lands here
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the documented example itself
    printed = capsys.readouterr().out
    study, pair = namespace["study"], namespace["pair"]
    assert [h.side for h in study.hips] == ["left", "right"] and study.error is None
    record = json.loads(study.study_json.read_text())
    for hip, side in zip(study.hips, record["sides"]):
        assert hip.edema_ml == pytest.approx(side["edema_ml"])
        assert hip.edema_ml_range[0] <= hip.edema_ml <= hip.edema_ml_range[1]
    with open(pair.longitudinal_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(c.side, c.status) for c in pair.calls] == [(r["side"], r["status"]) for r in rows]
    assert pair.report.is_file() and "report:" in printed
    from bme_mri.compare.status import Status

    assert pair.calls and all(c.status in {s.value for s in Status} for c in pair.calls)


def test_a_bad_input_is_a_bme_error(tmp_path):
    from bme_mri import analyse_study
    from bme_mri.errors import BmeError

    with pytest.raises(BmeError, match="does not exist"):
        analyse_study(tmp_path / "nothing", tmp_path / "out")


SIJ = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "sij_stir" / "1003"


@pytest.mark.skipif(not SIJ.is_dir(), reason=f"real sacroiliac STIR not present at {SIJ}")
def test_quantify_roi_returns_the_result_file_figures(tmp_path):
    from bme_mri import quantify_roi

    summary = quantify_roi(SIJ / "stir.nii.gz", SIJ / "bone_region.nii.gz", tmp_path / "roi",
                           reference=SIJ / "normal_marrow.nii.gz")
    data = json.loads(summary.result_json.read_text())
    assert summary.edema_ml == pytest.approx(data["edema_ml"]) and summary.reference_source == data["reference_source"]
    assert summary.edema_mask.is_file() and summary.bone_ml > 0
    assert summary.edema_ml_range is None or summary.edema_ml_range[0] <= summary.edema_ml <= summary.edema_ml_range[1]
