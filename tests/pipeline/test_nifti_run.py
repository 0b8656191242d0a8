"""NIfTI input end to end: run and compare on NIfTI converted from the smoke phantom's DICOM.

The DICOM reference is the session's validated smoke run (``smoke_validation``); the NIfTI
files are ``convert``'s output of the same DICOM, so the two runs see the same voxels.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from bme_mri.cli import app
from bme_mri.config import load_config
from bme_mri.ingest import convert_input
from bme_mri.pipeline import run_batch
from bme_mri.pipeline.followup import run_followups
from bme_mri.pipeline.pair import compare_pair


@pytest.fixture(scope="module")
def converted(smoke_cohort, tmp_path_factory) -> Path:
    """The smoke cohort as BIDS-like NIfTI with JSON sidecars (``bme-mri convert``)."""
    out = tmp_path_factory.mktemp("smoke_nifti")
    results = convert_input(smoke_cohort / "dicom", out, load_config().ingest)
    assert results and all(r.error is None for r in results)
    return out


@pytest.fixture(scope="module")
def dicom_records(smoke_validation) -> dict[tuple[str, str], dict]:
    """study.json of the DICOM smoke run, by (patient id, study date)."""
    report, _ = smoke_validation
    run_dir = report.json_path.parent / "run"
    records = [json.loads(p.read_text()) for p in run_dir.glob("*/*/study.json")]
    assert records, f"no study.json under {run_dir}"
    return {(r["patient_id"], r["study_date"]): r for r in records}


def _one_patient(converted: Path) -> Path:
    return sorted(converted.glob("sub-*"))[0]


def _files(session: Path, suffix: str) -> list[Path]:
    return sorted(session.rglob(f"*_{suffix}.nii.gz"))


def _assert_same_heads(nifti: dict, dicom: dict) -> None:
    """Head centres within one voxel (LPS mm) and volumes within 0.1 ml, side by side."""
    voxel_mm = max(dicom["geometry"]["spacing_mm"])
    centres = {h["side"]: np.asarray(h["center_lps_mm"]) for h in dicom["heads"]}
    assert {h["side"] for h in nifti["heads"]} == set(centres) == {"left", "right"}
    for head in nifti["heads"]:
        assert np.linalg.norm(np.asarray(head["center_lps_mm"]) - centres[head["side"]]) <= voxel_mm
    assert centres["left"][0] > centres["right"][0]  # LPS +x is the patient's left
    volumes = {m["side"]: m for m in dicom["sides"]}
    for side in nifti["sides"]:
        for key in ("femoral_head_ml", "edema_ml", "necrosis_ml"):
            assert side[key] == pytest.approx(volumes[side["side"]][key], abs=0.1), (side["side"], key)


def _assert_no_seg_and_said_so(record: dict) -> None:
    assert record["outputs"]["dicom_seg"] is None
    assert "no DICOM source" in record["outputs"]["dicom_seg_note"]
    assert not any("SEG" in w for w in record["warnings"])


def test_run_on_a_nifti_folder_matches_the_dicom_run(converted, dicom_records, tmp_path):
    patient = _one_patient(converted)
    result = run_batch(patient, tmp_path / "out", load_config())
    assert len(result.records) == 2 and result.n_failed == 0
    for record in result.records:
        _assert_no_seg_and_said_so(record)
        _assert_same_heads(record, dicom_records[(record["patient_id"], record["study_date"])])
        assert record["series"]["sequence"] == "stir"
        source = next(p for p in _files(patient, "STIR") if record["study_date"].replace("-", "") in p.name)
        labels = nib.load(str(tmp_path / "out" / record["outputs"]["labels"]))
        np.testing.assert_allclose(labels.affine, nib.load(str(source)).affine, atol=1e-4)
        for overlay in record["outputs"]["overlays"]:
            assert (tmp_path / "out" / overlay).stat().st_size > 0
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    assert len(rows) == 4 and all(not r["error"] and r["edema_ml"] for r in rows)
    longitudinal = list(csv.DictReader((tmp_path / "out" / "longitudinal.csv").open()))
    assert {r["side"] for r in longitudinal} == {"left", "right"}
    assert all(r["status"] and r["interval_days"] for r in longitudinal)
    assert (tmp_path / "out" / rows[0]["patient_id"] / "report.html").is_file()


@pytest.mark.parametrize("codes", [("L", "A", "S")])  # flipped handedness and permuted axes (RSA etc.: tests/ingest)
def test_a_flipped_or_permuted_nifti_gives_the_dicom_heads_and_keeps_its_affine(
        converted, dicom_records, tmp_path, codes):
    session = sorted(_one_patient(converted).glob("ses-*"))[0]
    for source in _files(session, "STIR") + _files(session, "T1w"):
        image = nib.load(str(source))
        transform = nib.orientations.ornt_transform(nib.orientations.io_orientation(image.affine),
                                                    nib.orientations.axcodes2ornt(codes))
        target = tmp_path / "in" / source.name
        target.parent.mkdir(exist_ok=True)
        nib.save(image.as_reoriented(transform), str(target))
        shutil.copy(source.with_name(source.name.replace(".nii.gz", ".json")),
                    target.with_name(target.name.replace(".nii.gz", ".json")))
    stir = _files(tmp_path / "in", "STIR")[0]
    assert nib.aff2axcodes(nib.load(str(stir)).affine) == codes
    record = run_batch(tmp_path / "in", tmp_path / "out", load_config()).records[0]
    assert record["error"] is None, record["error"]
    assert record["t1_series"] is not None  # the reoriented T1 partners the reoriented STIR
    _assert_same_heads(record, dicom_records[(record["patient_id"], record["study_date"])])
    _assert_no_seg_and_said_so(record)
    labels = nib.load(str(tmp_path / "out" / record["outputs"]["labels"]))
    np.testing.assert_allclose(labels.affine, nib.load(str(stir)).affine, atol=1e-4)
    # read back through the file's own affine, the head on the patient's left (RAS -x) has the
    # left hip's volume: left stays the patient's left in labels.nii.gz
    data = np.asarray(labels.dataobj)
    points_ras = nib.affines.apply_affine(labels.affine, np.argwhere(data >= 1))
    centres = {h["side"]: np.asarray(h["center_lps_mm"]) for h in record["heads"]}
    midline_ras_x = -(centres["left"][0] + centres["right"][0]) / 2.0
    voxel_ml = float(np.prod(labels.header.get_zooms()[:3])) / 1000.0
    volumes = {m["side"]: m["femoral_head_ml"] for m in record["sides"]}
    assert np.sum(points_ras[:, 0] < midline_ras_x) * voxel_ml == pytest.approx(volumes["left"], rel=0.02)
    assert np.sum(points_ras[:, 0] > midline_ras_x) * voxel_ml == pytest.approx(volumes["right"], rel=0.02)


def test_an_unnamed_nifti_is_refused_with_a_hint_then_analysed_with_sequence(converted, tmp_path):
    stirs = _files(_one_patient(converted), "STIR")
    anonymous = tmp_path / "in"
    anonymous.mkdir()
    for name, source in zip(("a1.nii.gz", "b2.nii.gz"), stirs):
        shutil.copy(source, anonymous / name)
    refused = run_batch(anonymous / "a1.nii.gz", tmp_path / "refused", load_config())
    assert refused.n_failed == 0 and refused.n_not_analysed == 1  # not analysable, with the way out
    assert "--sequence stir" in refused.records[0]["not_analysed"] and not refused.records[0]["sides"]

    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(anonymous / "a1.nii.gz"), str(anonymous / "b2.nii.gz"),
                                 "--out", str(tmp_path / "cmp"), "--sequence", "stir"])
    assert result.exit_code == 0, result.output
    assert "patient identity" in result.output and "not checked" in result.output
    report = (tmp_path / "cmp" / "report.html").read_text()
    assert "not checked" in report
    baseline = json.loads((tmp_path / "cmp" / "baseline" / "study.json").read_text())
    assert baseline["patient_id"] == ""
    _assert_no_seg_and_said_so(baseline)
    assert len(list(csv.DictReader((tmp_path / "cmp" / "longitudinal.csv").open()))) == 2


def test_compare_two_nifti_visits_with_sidecars_writes_the_report(converted, tmp_path):
    baseline, followup = _files(_one_patient(converted), "STIR")
    warnings: list[str] = []
    report = compare_pair(baseline, followup, tmp_path / "cmp", load_config(), on_warning=warnings.append)
    assert report.is_file() and warnings == []
    record = json.loads((tmp_path / "cmp" / "followup" / "study.json").read_text())
    assert record["patient_id"].startswith("BME") and record["study_date"]
    _assert_no_seg_and_said_so(record)
    rows = list(csv.DictReader((tmp_path / "cmp" / "longitudinal.csv").open()))
    assert {r["side"] for r in rows} == {"left", "right"} and all(r["interval_days"] for r in rows)


def test_run_never_pairs_studies_of_unknown_patients(tmp_path):
    records = [{"error": None, "sides": [{"side": "left"}], "study_uid": uid, "patient_id": ""}
               for uid in ("u1", "u2")]
    studies = [type("Study", (), {"study_uid": uid, "patient_id": ""})() for uid in ("u1", "u2")]
    assert run_followups(studies, records, tmp_path, load_config()) == (0, [])
    assert (tmp_path / "longitudinal.csv").read_text().startswith("patient_id,")


def test_sequence_option_with_a_bad_value_is_one_line(converted, tmp_path):
    result = CliRunner().invoke(app, ["run", str(_one_patient(converted)), "--out", str(tmp_path / "o"),
                                      "--sequence", "stirr"])
    assert result.exit_code == 2 and "not a sequence class" in result.output
    assert "Traceback" not in result.output


def _dcm2niix() -> str | None:
    local = Path(sys.executable).parent / "dcm2niix"
    return str(local) if local.exists() else shutil.which("dcm2niix")


def test_dcm2niix_output_of_a_study_is_one_study_with_the_dicom_heads(smoke_cohort, dicom_records, tmp_path):
    exe = _dcm2niix()
    if exe is None:
        pytest.skip("dcm2niix not installed (it comes with the test extras: pip install -e .[test])")
    study_dir = sorted((smoke_cohort / "dicom").glob("*/*"))[0]
    out = tmp_path / "niix"
    out.mkdir()
    subprocess.run([exe, "-b", "y", "-z", "y", "-f", "%p_%s", "-o", str(out), str(study_dir)],
                   check=True, capture_output=True)
    assert not any("PatientID" in json.loads(p.read_text()) for p in out.glob("*.json"))  # anonymised BIDS
    result = run_batch(out, tmp_path / "run", load_config())
    assert len(result.records) == 1  # localizers, T1 and STIR of one folder form one study
    record = result.records[0]
    assert record["error"] is None and record["patient_id"] == "" and record["t1_series"] is not None
    dicom = next(r for (pid, _), r in dicom_records.items() if study_dir.parent.name == pid
                 and r["study_date"].replace("-", "") == study_dir.name.split("_")[0])
    _assert_same_heads(record, dicom)
    _assert_no_seg_and_said_so(record)
