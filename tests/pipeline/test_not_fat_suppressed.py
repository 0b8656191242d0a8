"""A series without fat suppression given as STIR is never measured: one `contrasts` phantom study
(the same anatomy as STIR, T2 fat-sat, T1, T2 and PD; edema in the left hip), converted to NIfTI.

Given as STIR with no sidecar to contradict it (a user following the "--sequence stir" hint),
the T1, T2 and PD get a blocking not_fat_suppressed flag on both hips and no edema or necrosis
number in summary.csv or study.json; with their sidecar, --sequence stir is refused. The STIR
and the T2 fat-sat, edema included, are measured as before.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from bme_mri.cli import main
from bme_mri.config import load_config
from bme_mri.ingest import convert_input
from bme_mri.phantom.cohort import cohort_plans, generate_plans
from bme_mri.pipeline import run_batch
from bme_mri.types import SequenceClass

from tests.pipeline.helpers import lesion_numbers

SEED = 305  # a contrasts seed not used for choosing any threshold
FIGURES = ("edema_ml", "edema_fraction", "necrosis_ml", "edema_headneck_ml")


@pytest.fixture(scope="module")
def contrasts(tmp_path_factory) -> dict[str, Path]:
    """The study's NIfTI files by contrast (STIR, T2FS, T1, T2, PD), each with its sidecar."""
    root = tmp_path_factory.mktemp("contrasts")
    generate_plans(root / "phantom", "contrasts", cohort_plans("contrasts")[:1], SEED)
    results = convert_input(root / "phantom" / "dicom", root / "nifti", load_config().ingest)
    assert all(r.error is None for r in results)
    files = {p.name: p for p in (root / "nifti").rglob("*.nii.gz")}
    pick = {"STIR": "_STIR.", "T2FS": "FS_run-", "T1": "_T1w.", "T2": "_T2w.", "PD": "_PDw."}
    out = {}
    for contrast, key in pick.items():
        (name,) = [n for n in files if key in n and (contrast != "T2" or "FS_" not in n)]
        out[contrast] = files[name]
    return out


def _bare_copy(path: Path, folder: Path) -> Path:
    """The image alone, renamed so that nothing says what it is (no sidecar, no class in the name)."""
    folder.mkdir(parents=True)
    return Path(shutil.copy(path, folder / "scan.nii.gz"))


def _summary(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("contrast", ["T1", "T2", "PD"])
def test_a_series_without_fat_suppression_given_as_stir_is_flagged_and_not_measured(contrasts, contrast, tmp_path):
    bare = _bare_copy(contrasts[contrast], tmp_path / "in")
    result = run_batch(bare, tmp_path / "out", load_config(), sequence_override=SequenceClass.STIR)
    (record,) = result.records
    assert not record["error"] and {s["side"] for s in record["sides"]} == {"left", "right"}
    for side in record["sides"]:
        flags = {f["code"]: f for f in side["qc"]["flags"]}
        assert flags["not_fat_suppressed"]["severity"] == "blocking", (contrast, side["qc"]["measures"])
        assert all(side[key] is None for key in FIGURES) and side["not_measured"]
        assert lesion_numbers(side) == []  # no withheld figure kept under any key
    (labels_json,) = (tmp_path / "out").rglob("labels.json")  # the label map says it too
    legend = json.loads(labels_json.read_text())
    assert sorted(legend["not_measured"]) == ["left", "right"]
    assert all(text.startswith("NOT MEASURED (not measured: ") and "(not_fat_suppressed)" in text
               for text in legend["not_measured"].values())
    rows = _summary(tmp_path / "out")
    assert len(rows) == 2
    for row in rows:
        assert all(row[key] == "" for key in FIGURES) and "not_fat_suppressed (blocking)" in row["qc_reason"]


def test_the_sidecar_of_a_t1_refuses_sequence_stir_unless_forced(contrasts, tmp_path, capsys):
    code = main(["run", str(contrasts["T1"]), "--out", str(tmp_path / "out"), "--sequence", "stir", "--no-progress"])
    line = capsys.readouterr().err.strip()
    assert code == 2 and "--sequence stir conflicts with" in line and "says T1" in line
    assert not (tmp_path / "out").exists()
    code = main(["run", str(contrasts["T1"]), "--out", str(tmp_path / "out"), "--sequence", "stir",
                 "--force", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr()
    assert "(2 hips not measured: quality control)" in printed.out  # not "1 analysed" alone
    not_measured = [line for line in printed.err.splitlines() if line.startswith("NOT MEASURED ")]
    assert len(not_measured) == 2 and all("not_fat_suppressed" in line for line in not_measured)
    assert any(line.startswith("FORCED ") and "--force" in line for line in printed.err.splitlines())
    for row in _summary(tmp_path / "out"):  # forced, and still not measured
        assert row["edema_ml"] == "" and "not_fat_suppressed" in row["qc_flags"]
    (study_json,) = (tmp_path / "out").rglob("study.json")
    assert any("--force" in w for w in json.loads(study_json.read_text())["warnings"])


@pytest.mark.parametrize("contrast", ["STIR", "T2FS"])
def test_fat_suppressed_series_with_edema_are_measured(contrasts, contrast, tmp_path):
    result = run_batch(contrasts[contrast], tmp_path / "out", load_config())
    (record,) = result.records
    sides = {s["side"]: s for s in record["sides"]}
    for side in sides.values():
        assert "not_fat_suppressed" not in {f["code"] for f in side["qc"]["flags"]}, side["qc"]["measures"]
    assert sides["left"]["edema_ml"] > 5.0  # the edema hip, bright marrow under dark fat: measured
