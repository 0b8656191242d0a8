"""A study's folder holds exactly one run's result."""

import json
from pathlib import Path
from types import SimpleNamespace

from bme_mri.config import load_config
from bme_mri.pipeline.worker import failed_record


def test_a_failed_rerun_leaves_no_output_of_the_earlier_run_beside_its_record(tmp_path: Path):
    study_out = tmp_path / "P1" / "20240101_1.2.3"
    study_out.mkdir(parents=True)
    (study_out / "labels.nii.gz").write_bytes(b"an earlier run's labels")
    (study_out / "overlay_left.png").write_bytes(b"png")
    study = SimpleNamespace(patient_id="P1", study_uid="1.2.3", study_date="2024-01-01")
    record = failed_record(study, study_out, tmp_path, "fp", load_config(), "slice missing")
    assert sorted(p.name for p in study_out.iterdir()) == ["study.json"]
    assert json.loads((study_out / "study.json").read_text())["error"] == record["error"] == "slice missing"
    assert sorted(p.name for p in study_out.parent.iterdir()) == ["20240101_1.2.3"]


def test_a_study_folder_holding_a_users_file_is_left_alone_and_the_record_says_why(tmp_path: Path):
    study_out = tmp_path / "P1" / "20240101_1.2.3"
    study_out.mkdir(parents=True)
    (study_out / "notes.txt").write_text("mine")
    study = SimpleNamespace(patient_id="P1", study_uid="1.2.3", study_date="2024-01-01")
    record = failed_record(study, study_out, tmp_path, "fp", load_config(), "slice missing")
    assert record["error"].startswith("slice missing; refusing to replace")
    assert sorted(p.name for p in study_out.iterdir()) == ["notes.txt"]
