"""A study with no edema-sensitive series: one row saying why, no figures, not a failure."""

from __future__ import annotations

import csv
import json

import numpy as np

from bme_mri.config import load_config
from bme_mri.phantom.dicom_write import write_mr_series
from bme_mri.pipeline import run_batch
from bme_mri.types import Geometry

STUDY = {"PatientID": "PROST1", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.900", "StudyDate": "20110707"}


def _exam_without_stir(root):
    geometry = Geometry((16, 16, 6), (2.0, 2.0, 3.0), (-16.0, -16.0, 0.0), np.eye(3))
    rng = np.random.default_rng(0)
    write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, root / "t2", {
        **STUDY, "SeriesDescription": "t2_tse_tra", "SeriesNumber": 4, "RepetitionTime": 5660.0,
        "EchoTime": 104.0}, rng=rng)
    for n, b in enumerate((50, 800)):  # one multi-b diffusion series
        write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, root / "dwi", {
            **STUDY, "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.901", "SeriesNumber": 6,
            "SeriesDescription": "ep2d_diff_tra", "ScanningSequence": "EP", "DiffusionBValue": float(b),
            "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW"]}, rng=rng, instance_offset=100 * n,
            file_names=[f"b{b}_{k}.dcm" for k in range(6)])
    write_mr_series(rng.uniform(0, 3000, geometry.shape), geometry, root / "adc", {
        **STUDY, "SeriesDescription": "ep2d_diff_tra_ADC", "SeriesNumber": 7, "ScanningSequence": "EP",
        "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "ADC"]}, rng=rng)


def test_study_without_edema_sensitive_series_gets_one_row_with_the_reason_and_no_figures(tmp_path):
    _exam_without_stir(tmp_path / "in")
    result = run_batch(tmp_path / "in", tmp_path / "out", load_config())
    assert result.n_failed == 0 and result.n_not_analysed == 1
    assert "1 not analysable" in result.summary_line()
    with open(tmp_path / "out" / "summary.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["not_analysed"] == ("no STIR or fat-suppressed T2 (no edema-sensitive series): "
                                   "found T2 x1, diffusion x2, ADC/diffusion map x1")
    assert not any(row[k] for k in ("edema_ml", "necrosis_ml", "femoral_head_ml", "side", "error"))
    (study_json,) = (tmp_path / "out").rglob("study.json")
    record = json.loads(study_json.read_text())
    assert record["not_analysed"] == row["not_analysed"] and record["sides"] == []
    assert sorted(s["sequence"] for s in record["series_found"]) == ["adc", "dwi", "dwi", "t2"]


def test_a_rerun_does_not_redo_a_not_analysable_study(tmp_path):
    _exam_without_stir(tmp_path / "in")
    run_batch(tmp_path / "in", tmp_path / "out", load_config())
    again = run_batch(tmp_path / "in", tmp_path / "out", load_config())
    assert again.n_resumed == 1 and again.n_not_analysed == 1


def test_a_stir_with_no_femoral_head_found_has_a_row_per_side_in_view(tmp_path):
    # a 360 mm wide coronal STIR of nothing head-like: both hips lie in its field, neither is found
    geometry = Geometry((180, 60, 16), (2.0, 2.0, 5.0), (-180.0, -40.0, 60.0),
                        np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T)  # i +x, j -z, k +y
    rng = np.random.default_rng(1)
    write_mr_series(rng.normal(300.0, 10.0, geometry.shape), geometry, tmp_path / "in" / "stir", {
        **STUDY, "SeriesDescription": "COR STIR", "SeriesNumber": 3, "InversionTime": 150.0,
        "EchoTime": 40.0, "RepetitionTime": 4000.0}, rng=rng)
    result = run_batch(tmp_path / "in", tmp_path / "out", load_config())
    assert result.n_failed == 1  # still a failure of this study: rerun retries it
    with open(tmp_path / "out" / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["side"] for r in rows] == ["right", "left"]
    for row in rows:
        assert row["not_analysed"].startswith(f"femoral head not found: the field of view reaches the "
                                              f"{row['side']} hip")
        assert "no femoral head found in series" in row["error"]
        assert not any(row[k] for k in ("edema_ml", "necrosis_ml", "femoral_head_ml", "edema_fraction"))
    (study_json,) = (tmp_path / "out").rglob("study.json")
    record = json.loads(study_json.read_text())
    assert [s["side"] for s in record["sides_not_analysed"]] == ["right", "left"] and record["sides"] == []


def test_a_side_without_a_head_is_a_row_beside_the_measured_one():
    from bme_mri.pipeline.tables import summary_rows

    record = {"patient_id": "P", "study_uid": "1", "study_date": "2024-01-01", "error": None,
              "sides": [{"side": "right", "femoral_head_ml": 52.0, "edema_ml": 3.0, "edema_fraction": 0.06,
                         "necrosis_ml": 0.0, "edema_headneck_ml": 3.1, "qc": {"flags": []}}],
              "sides_not_analysed": [{"side": "left", "not_analysed": "femoral head not found: the left head "
                                                                      "was expected near LPS (90, 5, 0) mm"}]}
    rows = summary_rows([record])
    assert [r["side"] for r in rows] == ["right", "left"]
    assert rows[1]["not_analysed"].startswith("femoral head not found") and rows[1].get("edema_ml") is None
    assert rows[0]["edema_ml"] == 3.0 and not rows[0].get("not_analysed")


def test_run_names_a_side_whose_head_was_not_found(tmp_path):
    from bme_mri.pipeline.batch import BatchResult

    record = {"patient_id": "P", "study_uid": "1.2", "study_date": "2024-01-01", "error": None,
              "sides": [{"side": "right"}],
              "sides_not_analysed": [{"side": "left", "not_analysed": "femoral head not found: expected near x"}]}
    lines = BatchResult(tmp_path, [record], 0, 0).problem_lines()
    assert lines == ["NOT ANALYSED patient P study 2024-01-01 1.2 left hip: femoral head not found: expected near x"]


def test_run_names_every_hip_it_did_not_measure_and_every_hip_it_could_not_check(tmp_path):
    from bme_mri.pipeline.batch import BatchResult

    blocked = {"side": "left", "edema_ml": None, "necrosis_ml": None,
               "not_measured": "not measured: fat not suppressed on this series (not_fat_suppressed)",
               "qc": {"flags": [{"code": "not_fat_suppressed", "severity": "blocking", "reason": "fat 2.1 x muscle"},
                                {"code": "low_snr", "severity": "warning", "reason": "snr 5"}]}}
    unverified = {"side": "right", "edema_ml": 20.0, "necrosis_ml": 0.0, "not_measured": None,
                  "qc": {"flags": [{"code": "fat_suppression_unverified", "severity": "warning",
                                    "reason": "could not verify fat suppression: no skin in the field of view"}]}}
    record = {"patient_id": "P", "study_uid": "1.2", "study_date": "2024-01-01", "error": None,
              "sides": [unverified, blocked], "sides_not_analysed": [],
              "warnings": ["--sequence stir conflicts with x.nii.gz: ...; measured as STIR because of --force (...)"]}
    result = BatchResult(tmp_path, [record], 0, 0)
    lines = result.problem_lines()
    assert ("NOT MEASURED P 2024-01-01 left: fat not suppressed on this series (not_fat_suppressed); "
            "the reasons in summary.csv qc_reason") in lines
    assert "CHECK P 2024-01-01 right: could not verify fat suppression: no skin in the field of view" in lines
    assert any(line.startswith("FORCED patient P study 2024-01-01 1.2: --sequence stir conflicts") for line in lines)
    assert not any("low_snr" in line for line in lines)  # a plain warning stays in the tables
    assert "1 analysed (1 hip not measured: quality control), 0 failed" in result.summary_line()
