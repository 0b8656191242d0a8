"""Real T2 TSE and PD series given as STIR are never measured (../shared/realdata/pelvis_dicom,
ProstateX; skipped when absent): as DICOM, --sequence is refused (DICOM is classified from its
headers); after `bme-mri convert`, it is refused for the sidecar's class; forced, every hip is
blocked and no edema or necrosis number is written anywhere."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from bme_mri.cli import main
from bme_mri.config import load_config
from bme_mri.ingest import convert_input
from bme_mri.pipeline import run_batch
from bme_mri.types import SequenceClass

from tests.pipeline.helpers import lesion_numbers

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
PELVIS = REALDATA / "pelvis_dicom"
FIGURES = ("edema_ml", "edema_fraction", "necrosis_ml", "edema_headneck_ml")

pytestmark = pytest.mark.skipif(not PELVIS.is_dir(), reason=f"real exams not present at {PELVIS}")


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """Both exams through `convert`, diffusion included (it once stopped with KeyError: 'dwi')."""
    out = tmp_path_factory.mktemp("pelvis_nifti")
    results = convert_input(PELVIS, out, load_config().ingest)
    assert results and [r.error for r in results if r.error] == []
    assert any(r.path.parent.name == "dwi" for r in results)
    return out


def _t2_and_pd(converted: Path) -> list[Path]:
    files = sorted(p for p in converted.rglob("*.nii.gz") if p.name.endswith(("_T2w.nii.gz", "_PDw.nii.gz")))
    assert len(files) == 9  # 7 T2 TSE (sagittal, axial, coronal) and 2 PD reference slabs
    return files


def test_dicom_given_as_stir_is_refused_with_what_its_headers_say(tmp_path, capsys):
    code = main(["run", str(PELVIS), "--out", str(tmp_path / "out"), "--sequence", "stir", "--no-progress"])
    text = capsys.readouterr().err.strip()
    assert code == 2 and len(text.splitlines()) == 1
    assert "NIfTI files only" in text and "T2 x3" in text and "PD x1" in text
    assert not (tmp_path / "out").exists()


def test_converted_t2_and_pd_given_as_stir_are_refused_for_their_sidecar(converted, tmp_path, capsys):
    for path in _t2_and_pd(converted):
        code = main(["run", str(path), "--out", str(tmp_path / "out"), "--sequence", "stir", "--no-progress"])
        line = capsys.readouterr().err.strip()
        assert code == 2 and f"--sequence stir conflicts with {path.name}" in line, line
        assert ("says T2" in line or "says PD" in line) and "--force" in line
    assert not (tmp_path / "out").exists()


def test_forced_t2_and_pd_as_stir_give_no_edema_or_necrosis_number(converted, tmp_path):
    config = load_config()
    blocked_by: dict[str, int] = {}
    for n, path in enumerate(_t2_and_pd(converted)):
        out = tmp_path / f"out{n}"
        (record,) = run_batch(path, out, config, sequence_override=SequenceClass.STIR, force=True).records
        assert record["sides"] or record["error"], path.name
        for side in record["sides"]:
            blocking = [f["code"] for f in side["qc"]["flags"] if f["severity"] == "blocking"]
            assert blocking, (path.name, side["side"], side["qc"])
            assert all(side[key] is None for key in FIGURES), (path.name, side["side"])
            for code in blocking:
                blocked_by[code] = blocked_by.get(code, 0) + 1
        with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                assert all(row[key] == "" for key in FIGURES), (path.name, row)
        for study_json in out.rglob("study.json"):  # no edema or necrosis number under any key
            written = json.loads(study_json.read_text())
            for side in written["sides"]:
                assert lesion_numbers(side) == [], (path.name, side["side"])
                assert side["edema_ml"] is None and side["necrosis_ml"] is None
    # the image check itself speaks on the axial and coronal T2 TSE (fatty marrow and fat bright)
    assert blocked_by.get("not_fat_suppressed", 0) >= 3, blocked_by
