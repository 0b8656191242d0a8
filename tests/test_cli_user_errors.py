"""The CLI a new user meets: every user mistake is exit 2 with one line (issue 9, section 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bme_mri import __version__
from bme_mri.cli import main
from bme_mri.phantom.dicom_write import write_mr_series
from bme_mri.types import Geometry

CORONAL = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # row +L, column -S, normal +P


def _study(folder: Path, patient_id: str, study_uid: str, date: str = "20260101") -> Path:
    rng = np.random.default_rng(5)
    geometry = Geometry((16, 12, 6), (1.5, 1.5, 4.0), (-12.0, 0.0, 10.0), CORONAL)
    tags = {"PatientID": patient_id, "StudyInstanceUID": study_uid, "StudyDate": date, "SeriesNumber": 3,
            "SeriesDescription": "COR STIR", "ScanningSequence": ["SE", "IR"], "SequenceVariant": ["SK"],
            "InversionTime": 150.0, "EchoTime": 40.0, "RepetitionTime": 4000.0}
    write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, folder / "stir", tags)
    return folder


def _run(capsys, args: list[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip()


def _one_error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and "internal error" not in text
    return lines[0]


# -- compare: two patients, or one study twice ---------------------------------------------------

def test_compare_of_two_patients_is_refused_before_any_analysis(tmp_path, capsys):
    a = _study(tmp_path / "a", "P1", "1.2.826.0.1.1")
    b = _study(tmp_path / "b", "P2", "1.2.826.0.1.2", "20260401")
    code, text = _run(capsys, ["compare", str(a), str(b), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "different patients" in _one_error_line(text) and "'P1'" in text and "'P2'" in text
    assert not (tmp_path / "out" / "baseline").exists()


def test_compare_of_a_study_with_itself_is_refused(tmp_path, capsys):
    a = _study(tmp_path / "a", "P1", "1.2.826.0.1.1")
    code, text = _run(capsys, ["compare", str(a), str(a), "--out", str(tmp_path / "out")])
    assert code == 2 and "same path" in _one_error_line(text)
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    code, text = _run(capsys, ["compare", str(a), str(copy), "--out", str(tmp_path / "out")])
    assert code == 2 and "same study" in _one_error_line(text) and "1.2.826.0.1.1" in text


def test_compare_with_the_visits_swapped_is_refused_before_any_analysis(tmp_path, capsys):
    early = _study(tmp_path / "early", "P1", "1.2.826.0.1.1", "20260101")
    late = _study(tmp_path / "late", "P1", "1.2.826.0.1.2", "20260401")
    code, text = _run(capsys, ["compare", str(late), str(early), "--out", str(tmp_path / "out")])
    assert code == 2 and "swap the two arguments" in _one_error_line(text)
    assert not (tmp_path / "out" / "baseline").exists() and not (tmp_path / "out" / "followup").exists()


def test_compare_never_writes_over_an_input_inside_out(tmp_path, capsys):
    a = _study(tmp_path / "visits" / "baseline", "P1", "1.2.826.0.1.1", "20260101")
    b = _study(tmp_path / "visits" / "followup", "P1", "1.2.826.0.1.2", "20260401")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "visits").rglob("*"))
    code, text = _run(capsys, ["compare", str(a), str(b), "--out", str(tmp_path / "visits")])
    assert code == 2 and "choose an --out folder apart from the inputs" in _one_error_line(text)
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "visits").rglob("*")) == before


def test_compare_force_overrides_the_pair_check_and_says_so_for_each_check(tmp_path, capsys):
    from bme_mri.config import load_config
    from bme_mri.errors import BmeError
    from bme_mri.pipeline.pair import check_pair

    a = _study(tmp_path / "a", "P1", "1.2.826.0.1.1")
    b = _study(tmp_path / "b", "P2", "1.2.826.0.1.2")
    with pytest.raises(BmeError, match="different patients"):
        check_pair(a, b, load_config())
    # with --force the pair check is not what stops it (the noise image has no femoral head), and the
    # check it overrode is printed, one warning line, before the analysis
    code, text = _run(capsys, ["compare", str(a), str(b), "--out", str(tmp_path / "out"), "--force"])
    warned = [line for line in text.splitlines() if line.startswith("warning: --force:")]
    assert len(warned) == 1 and "different patients (PatientID 'P1' vs 'P2'); compared anyway" in warned[0]
    assert "internal error" not in text
    # the same study given twice (a copy, same patient): that check, and only that one
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    code, text = _run(capsys, ["compare", str(a), str(copy), "--out", str(tmp_path / "out2"), "--force"])
    warned = [line for line in text.splitlines() if line.startswith("warning: --force:")]
    assert len(warned) == 1 and "same study (StudyInstanceUID 1.2.826.0.1.1)" in warned[0]
    assert check_pair(a, _study(tmp_path / "c", "P1", "1.2.826.0.1.3", "20260401"), load_config(), force=True) == []


# -- user mistakes are exit 2, one line -----------------------------------------------------------

@pytest.mark.parametrize("command", ["inspect", "convert", "run"])
def test_input_without_any_dicom_or_nifti_is_exit_2_with_one_line(tmp_path, capsys, command):
    junk = tmp_path / "junk"
    (junk / "sub").mkdir(parents=True)
    (junk / "notes.txt").write_text("not an image")
    (junk / "sub" / "DICOMDIR").write_bytes(b"\0" * 200)
    args = [command, str(junk)] + ([] if command == "inspect" else ["--out", str(tmp_path / "out")])
    if command == "run":
        args.append("--no-progress")
    code, text = _run(capsys, args)
    assert code == 2
    assert _one_error_line(text) == f"error: no DICOM or NIfTI files found under {junk}"
    assert not (tmp_path / "out").exists()


def test_a_folder_with_broken_dicom_is_not_nothing_found(tmp_path, capsys):
    folder = _study(tmp_path / "a", "P1", "1.2.826.0.1.1")
    files = sorted((folder / "stir").iterdir())
    files[2].unlink()  # a missing slice: DICOM found, the series fails to assemble
    code, text = _run(capsys, ["inspect", str(folder)])
    assert code == 0
    assert "no DICOM or NIfTI" not in text


@pytest.mark.parametrize("command", ["inspect", "convert", "run"])
def test_missing_input_is_exit_2_naming_it(tmp_path, capsys, command):
    missing = tmp_path / "nope"
    args = [command, str(missing)] + ([] if command == "inspect" else ["--out", str(tmp_path / "out")])
    code, text = _run(capsys, args)
    assert code == 2 and str(missing) in _one_error_line(text) and "does not exist" in text


@pytest.mark.parametrize("command", ["convert", "run", "phantom", "demo", "compare", "quantify"])
def test_out_that_is_an_existing_file_is_exit_2(tmp_path, capsys, command):
    folder = _study(tmp_path / "a", "P1", "1.2.826.0.1.1")
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    args = {"convert": ["convert", str(folder), "--out", str(target)],
            "run": ["run", str(folder), "--out", str(target), "--no-progress"],
            "phantom": ["phantom", str(target)], "demo": ["demo", "--out", str(target)],
            "compare": ["compare", str(folder), str(folder), "--out", str(target)],
            "quantify": ["quantify", str(folder), "--roi", str(folder), "--out", str(target)]}[command]
    code, text = _run(capsys, args)
    assert code == 2 and "existing file" in _one_error_line(text)
    assert target.read_text() == "keep me"


def test_unknown_phantom_cohort_is_a_user_error_not_an_internal_one(tmp_path, capsys):
    code, text = _run(capsys, ["phantom", str(tmp_path / "p"), "--cohort", "nope"])
    assert code == 2
    assert "unknown cohort 'nope'" in _one_error_line(text) and "smoke" in text


def test_usage_error_in_process_is_exit_2_without_traceback(capsys):
    code, text = _run(capsys, ["inspect", "--no-such-option"])
    assert code == 2 and "Traceback" not in text


def test_a_failing_command_returns_its_exit_code_in_process(tmp_path):
    assert main(["inspect", str(tmp_path / "nope")]) == 2


# -- --version, phantom --list ---------------------------------------------------------------------

def test_version_prints_name_and_version(capsys):
    code, text = _run(capsys, ["--version"])
    assert code == 0 and text == f"bme-mri {__version__}"


def test_phantom_list_needs_no_output_folder(capsys):
    code, text = _run(capsys, ["phantom", "--list"])
    assert code == 0
    assert text.splitlines()[0].startswith("smoke") and "validation" in text


def test_phantom_without_output_folder_says_what_is_missing(capsys):
    code, text = _run(capsys, ["phantom"])
    assert code == 2 and "output folder" in _one_error_line(text)


# -- run: one line per failed study -----------------------------------------------------------------

def test_run_prints_each_failed_study_with_its_reason(tmp_path, capsys):
    rng = np.random.default_rng(2)
    geometry = Geometry((16, 12, 3), (1.5, 1.5, 4.0), (-12.0, 0.0, 10.0), CORONAL)  # 3 slices: never analysed
    tags = {"PatientID": "P9", "StudyInstanceUID": "1.2.826.0.1.9", "StudyDate": "20260202",
            "SeriesDescription": "COR STIR", "ScanningSequence": ["SE", "IR"], "InversionTime": 150.0,
            "EchoTime": 40.0, "RepetitionTime": 4000.0}
    write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, tmp_path / "in" / "s", tags)
    code, text = _run(capsys, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 1
    failed = [line for line in text.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1, text
    assert failed[0].startswith("FAILED patient P9 study 2026-02-02 1.2.826.0.1.9: ")
    assert len(failed[0]) > len("FAILED patient P9 study 2026-02-02 1.2.826.0.1.9: ") + 10  # a reason follows
    assert "1 failed" in text


# -- inspect --json precision ------------------------------------------------------------------------

def test_inspect_json_rounds_floats_to_three_decimals(tmp_path, capsys):
    import json

    angle = np.deg2rad(17.0)  # oblique coronal: slice spacing comes out of positions with float noise
    direction = CORONAL @ np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    geometry = Geometry((16, 12, 6), (0.4296875, 0.4296875, 3.3), (-12.3456789, 0.1, 10.0), direction)
    tags = {"PatientID": "P1", "StudyDate": "20260101", "SeriesDescription": "COR STIR",
            "ScanningSequence": ["SE", "IR"], "InversionTime": 150.0, "EchoTime": 40.0, "RepetitionTime": 4000.0}
    write_mr_series(np.random.default_rng(1).uniform(0, 500, geometry.shape), geometry, tmp_path / "in" / "s", tags)
    code, text = _run(capsys, ["inspect", str(tmp_path / "in"), "--json"])
    assert code == 0, text
    floats = []

    def collect(value):
        if isinstance(value, float):
            floats.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    payload = json.loads(text)
    collect(payload)
    spacing = payload["patients"][0]["studies"][0]["series"][0]["spacing_mm"]
    assert spacing[:2] == [0.43, 0.43] and abs(spacing[2] - 3.3) < 1e-9
    assert floats and all(round(value, 3) == value for value in floats), floats


# -- quantify names its real arguments -----------------------------------------------------------------

def test_quantify_messages_name_the_real_arguments(tmp_path, capsys):
    from bme_mri.nifti import write_nifti

    geometry = Geometry((12, 12, 6), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0), np.eye(3))
    write_nifti(np.ones(geometry.shape, np.float32), geometry, tmp_path / "knee.nii.gz")
    write_nifti(np.zeros(geometry.shape, np.uint8), geometry, tmp_path / "empty.nii.gz")
    code, text = _run(capsys, ["quantify", str(tmp_path / "knee.nii.gz"), "--roi", str(tmp_path / "nope.nii.gz"),
                               "--out", str(tmp_path / "o1")])
    assert code == 2 and _one_error_line(text).startswith("error: --roi ") and "does not exist" in text
    code, text = _run(capsys, ["quantify", str(tmp_path / "knee.nii.gz"), "--roi", str(tmp_path / "empty.nii.gz"),
                               "--out", str(tmp_path / "o2")])
    assert code == 2 and str(tmp_path / "empty.nii.gz") in _one_error_line(text) and "empty" in text
    code, text = _run(capsys, ["quantify", str(tmp_path / "gone"), "--roi", str(tmp_path / "empty.nii.gz"),
                               "--out", str(tmp_path / "o3")])
    assert code == 2 and _one_error_line(text).startswith("error: IMAGE ")
    empty_dir = tmp_path / "emptydir"
    empty_dir.mkdir()
    code, text = _run(capsys, ["quantify", str(empty_dir), "--roi", str(tmp_path / "empty.nii.gz"),
                               "--out", str(tmp_path / "o4")])
    assert code == 2 and "--image" not in text and "IMAGE" in _one_error_line(text)


# -- convert: sidecars without identifiers by default --------------------------------------------------

def _identified_study(folder: Path) -> tuple[Path, dict]:
    rng = np.random.default_rng(4)
    geometry = Geometry((16, 12, 6), (1.5, 1.5, 4.0), (-12.0, 0.0, 10.0), CORONAL)
    tags = {"PatientID": "MRN-778899", "PatientName": "Doe^Jane", "StudyInstanceUID": "1.2.826.0.1.4242",
            "SeriesInstanceUID": "1.2.826.0.1.4242.7", "StudyDate": "20260101", "SeriesNumber": 7,
            "SeriesDescription": "COR STIR", "ScanningSequence": ["SE", "IR"], "InversionTime": 150.0,
            "EchoTime": 40.0, "RepetitionTime": 4000.0}
    write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, folder / "stir", tags)
    return folder, tags


def test_convert_sidecar_carries_no_identifiers_by_default(tmp_path, capsys):
    import json

    from bme_mri.config import load_config
    from bme_mri.ingest import discover

    folder, tags = _identified_study(tmp_path / "in")
    code, text = _run(capsys, ["convert", str(folder), "--out", str(tmp_path / "out")])
    assert code == 0, text
    (sidecar_path,) = (tmp_path / "out").rglob("*.json")
    sidecar_text = sidecar_path.read_text()
    for key in ("PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID"):
        assert str(tags[key]) not in sidecar_text, key
    sidecar = json.loads(sidecar_text)
    assert {"PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID"} <= set(sidecar["bme_mri_identifiers_removed"])
    assert sidecar["StudyDate"] == "2026-01-01" and sidecar["bme_mri_sequence"] == "stir"
    again = discover(tmp_path / "out", load_config().ingest)  # still one study, dated, when read back
    assert len(again.studies) == 1 and again.studies[0].study_date == "2026-01-01"


def test_convert_keep_identifiers_keeps_them(tmp_path, capsys):
    import json

    folder, tags = _identified_study(tmp_path / "in")
    code, text = _run(capsys, ["convert", str(folder), "--out", str(tmp_path / "out"), "--keep-identifiers"])
    assert code == 0, text
    (sidecar_path,) = (tmp_path / "out").rglob("*.json")
    sidecar = json.loads(sidecar_path.read_text())
    assert sidecar["PatientID"] == "MRN-778899" and sidecar["PatientName"] == "Doe^Jane"
    assert sidecar["StudyInstanceUID"] == "1.2.826.0.1.4242" and sidecar["SeriesInstanceUID"] == "1.2.826.0.1.4242.7"
    assert "bme_mri_identifiers_removed" not in sidecar


def test_compare_check_leaves_nifti_without_identifiers_alone(tmp_path):
    from bme_mri.config import load_config
    from bme_mri.nifti import write_nifti
    from bme_mri.pipeline.pair import check_pair

    geometry = Geometry((16, 12, 6), (1.5, 1.5, 4.0), (-12.0, 0.0, 10.0), CORONAL)
    image = np.random.default_rng(0).uniform(0, 500, geometry.shape).astype(np.float32)
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    first = write_nifti(image, geometry, tmp_path / "v1" / "stir.nii.gz")  # same name, no sidecar:
    second = write_nifti(image, geometry, tmp_path / "v2" / "stir.nii.gz")  # IDs are the file name
    other = write_nifti(image, geometry, tmp_path / "v2" / "followup_stir.nii.gz")
    config = load_config()
    check_pair(first, second, config)  # no error: the IDs are stand-ins, not the data's
    check_pair(first, other, config)


def test_compare_check_ignores_missing_dicom_ids(tmp_path):
    from bme_mri.config import load_config
    from bme_mri.pipeline.pair import check_pair

    rng = np.random.default_rng(6)
    geometry = Geometry((16, 12, 6), (1.5, 1.5, 4.0), (-12.0, 0.0, 10.0), CORONAL)
    for name in ("a", "b"):  # no PatientID in either: discovery calls both 'unknown'
        tags = {"StudyInstanceUID": f"1.2.826.0.1.55.{len(name) + ord(name)}", "StudyDate": "20260101",
                "SeriesDescription": "COR STIR", "ScanningSequence": ["SE", "IR"], "InversionTime": 150.0,
                "EchoTime": 40.0, "RepetitionTime": 4000.0}
        write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, tmp_path / name / "s", tags)
    check_pair(tmp_path / "a", tmp_path / "b", load_config())


# -- --sequence against what the file says it is ---------------------------------------------------

def _t1_nifti(folder: Path, date: str = "20260101") -> Path:
    from bme_mri.nifti import write_nifti

    geometry = Geometry((16, 12, 6), (1.5, 1.5, 4.0), (-12.0, 0.0, 10.0), CORONAL)
    path = folder / "cor_t1.nii.gz"
    write_nifti(np.random.default_rng(2).uniform(0, 500, geometry.shape), geometry, path,
                sidecar={"bme_mri_sequence": "t1", "EchoTime": 0.012, "RepetitionTime": 0.5,
                         "PatientID": "P1", "StudyDate": date, "StudyInstanceUID": f"1.2.826.0.1.{date}"})
    return path


@pytest.mark.parametrize("command", ["run", "inspect", "compare"])
def test_sequence_stir_on_a_t1_file_is_refused_with_one_line(tmp_path, capsys, command):
    t1 = _t1_nifti(tmp_path / "in")
    later = _t1_nifti(tmp_path / "later", "20260401")
    args = {"run": ["run", str(t1), "--out", str(tmp_path / "out"), "--sequence", "stir"],
            "inspect": ["inspect", str(t1), "--sequence", "stir"],
            "compare": ["compare", str(t1), str(later), "--out", str(tmp_path / "out"), "--sequence", "stir"]}
    code, text = _run(capsys, args[command])
    assert code == 2
    line = _one_error_line(text)
    assert "--sequence stir conflicts with cor_t1.nii.gz: its JSON sidecar says T1" in line
    assert "EchoTime 12 ms" in line and "--force" in line
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_sequence_stir_on_dicom_is_refused_saying_what_the_headers_hold(tmp_path, capsys):
    folder = _study(tmp_path / "a", "P1", "1.2.826.0.1.1")
    code, text = _run(capsys, ["run", str(folder), "--out", str(tmp_path / "out"), "--sequence", "stir"])
    assert code == 2
    line = _one_error_line(text)
    assert "NIfTI files only" in line and "found STIR x1" in line
