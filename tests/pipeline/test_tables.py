"""summary.csv rows: each hip carries the threshold and reference applied to it."""

from __future__ import annotations

import csv

from bme_mri.pipeline.tables import summary_rows, write_summary_csv


def _record() -> dict:
    def side(name: str, threshold: float, median: float) -> dict:
        return {"side": name, "femoral_head_ml": 40.0, "edema_ml": 2.0, "edema_fraction": 0.05,
                "necrosis_ml": 0.0, "edema_headneck_ml": 2.5, "edema_threshold": threshold,
                "reference": {"median": median, "edema_threshold": median * 1.2}}

    return {"patient_id": "P1", "study_uid": "1.2.3", "study_date": "2026-01-01", "error": None,
            "series": {"series_uid": "1.2.3.4", "sequence": "stir", "description": "COR STIR"},
            # study-level reference: one side's (here the left's) base values
            "reference_marrow": {"median": 100.0, "edema_threshold": 130.0},
            "sides": [side("right", 180.0, 140.0), side("left", 130.0, 100.0)]}


def test_each_row_carries_the_threshold_applied_to_its_own_hip():
    rows = {row["side"]: row for row in summary_rows([_record()])}
    assert rows["right"]["edema_threshold"] == 180.0
    assert rows["left"]["edema_threshold"] == 130.0
    assert rows["right"]["reference_median"] == 140.0
    assert rows["left"]["reference_median"] == 100.0


def test_summary_csv_writes_per_side_thresholds(tmp_path):
    write_summary_csv(tmp_path / "summary.csv", [_record()])
    with open(tmp_path / "summary.csv", newline="") as handle:
        rows = {row["side"]: row for row in csv.DictReader(handle)}
    assert float(rows["right"]["edema_threshold"]) != float(rows["left"]["edema_threshold"])
    assert float(rows["right"]["edema_threshold"]) == 180.0


def test_failed_study_keeps_one_row_with_its_error():
    record = {**_record(), "error": "no STIR", "sides": []}
    (row,) = summary_rows([record])
    assert row["error"] == "no STIR" and row.get("side") is None


def test_batch_problem_lines_name_each_failed_and_unanalysable_study(tmp_path):
    from bme_mri.pipeline.batch import BatchResult

    records = [_record(),
               {**_record(), "patient_id": "P2", "study_uid": "9.8", "error": "no femoral head found"},
               {**_record(), "patient_id": "P3", "study_uid": "7.6", "sides": [],
                "not_analysed": "no STIR or fat-suppressed T2: found dwi x4"}]
    result = BatchResult(tmp_path, records, 0, 0, errors=["patient P4: registration failed"])
    assert result.problem_lines() == [
        "FAILED patient P2 study 2026-01-01 9.8: no femoral head found",
        "FAILED follow-up comparison, patient P4: registration failed",
        "NOT ANALYSED patient P3 study 2026-01-01 7.6: no STIR or fat-suppressed T2: found dwi x4",
    ]


def test_summary_line_counts_a_failed_follow_up_apart_from_the_studies(tmp_path):
    from bme_mri.pipeline.batch import BatchResult

    records = [_record(), {**_record(), "study_uid": "2.2"}, {**_record(), "study_uid": "3.3"},
               {**_record(), "patient_id": "P2", "study_uid": "9.8", "error": "no femoral head found"}]
    line = BatchResult(tmp_path, records, 0, 0, errors=["patient P1: registration failed"]).summary_line()
    assert "3 analysed, 1 failed;" in line and "(follow-up comparison failed for 1 patient)" in line


def test_a_successful_follow_up_removes_the_error_an_earlier_run_recorded(tmp_path, monkeypatch):
    from bme_mri.config import load_config
    from bme_mri.pipeline import followup

    error_file = tmp_path / "P1" / "followup_error.txt"
    monkeypatch.setattr(followup, "process_patient", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    assert followup._safe_process_patient("P1", [], tmp_path, load_config())[1].endswith("RuntimeError: boom")
    assert error_file.is_file()
    monkeypatch.setattr(followup, "process_patient", lambda *a: ["row"])
    assert followup._safe_process_patient("P1", [], tmp_path, load_config()) == (["row"], None)
    assert not error_file.exists()


def test_follow_up_visits_are_found_by_patient_and_study_uid_not_the_uid_alone():
    """Issue 24: a stray file with another PatientID in a patient's study folder makes a second
    study with the same StudyInstanceUID; it must not stand in for the patient's own study."""
    from bme_mri.ingest.models import StudyInfo
    from bme_mri.pipeline.followup import visits_by_patient

    own = [StudyInfo("P1", "", "1.1", "2024-01-01", ""), StudyInfo("P1", "", "1.2", "2024-04-01", "")]
    stray = StudyInfo("OTHER", "", "1.2", "2024-04-01", "")  # discovered after the patient's own
    records = [{"patient_id": "P1", "study_uid": "1.1", "sides": [{}]},
               {"patient_id": "P1", "study_uid": "1.2", "sides": [{}]},
               {"patient_id": "OTHER", "study_uid": "1.2", "sides": [], "not_analysed": "localizer only"}]
    visits = visits_by_patient([*own, stray], records)
    assert list(visits) == ["P1"] and [study for _, study in visits["P1"]] == own
