"""NIfTI input, conversion to BIDS-like NIfTI, and the inspect report."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from rich.console import Console

from bme_mri.errors import OutputError
from bme_mri.ingest import convert_input, discover, inspect_input, load_volume, render_inspect, select_series
from bme_mri.nifti import write_nifti
from bme_mri.types import SequenceClass
from tests.ingest.conftest import AXIAL, CORONAL, make_geometry, tree_digest, write_series


def test_nifti_file_is_a_series_with_sidecar_identity(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    array = np.random.default_rng(0).uniform(0, 100, geometry.shape)
    write_nifti(array, geometry, tmp_path / "in" / "scan.nii.gz",
                sidecar={"PatientID": "P9", "StudyInstanceUID": "9.9", "StudyDate": "20230102",
                         "SeriesDescription": "COR STIR", "InversionTime": 0.16})
    discovery = discover(tmp_path / "in", settings)
    assert discovery.skipped == []  # the sidecar is not reported as junk
    study = discovery.studies[0]
    assert (study.patient_id, study.study_uid, study.study_date) == ("P9", "9.9", "2023-01-02")
    stack = study.stacks[0]
    assert stack.sequence == SequenceClass.STIR and stack.orientation == "coronal"
    assert select_series(study, settings).analysis is stack
    volume = load_volume(stack, settings)
    assert volume.geometry.same_grid(geometry)
    np.testing.assert_allclose(volume.array, array, rtol=1e-6)
    assert volume.meta["stack_id"] == stack.stack_id and volume.meta["warnings"] == []


def test_nifti_without_sidecar_takes_identity_from_file_name(tmp_path, settings):
    geometry = make_geometry(AXIAL)
    write_nifti(np.ones(geometry.shape), geometry, tmp_path / "sub-07_ses-base_acq-axial_STIR.nii")
    study = discover(tmp_path / "sub-07_ses-base_acq-axial_STIR.nii", settings).studies[0]
    assert (study.patient_id, study.study_uid, study.study_date) == ("07", "sub-07_ses-base", "")
    assert study.stacks[0].sequence == SequenceClass.STIR


@pytest.fixture()
def dicom_tree(tmp_path):
    study = {"PatientID": "../../evil id", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.55", "StudyDate": "20240131"}
    write_series(tmp_path / "in" / "a", make_geometry(CORONAL), seed=1,
                 tags={**study, "SeriesNumber": 5, "SeriesDescription": "COR STIR", "InversionTime": 150.0,
                       "EchoTime": 40.0, "RepetitionTime": 4000.0, "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.55.5"})
    write_series(tmp_path / "in" / "b", make_geometry(CORONAL), seed=2,
                 tags={**study, "SeriesNumber": 3, "SeriesDescription": "COR T1",
                       "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.55.3"})
    gap = write_series(tmp_path / "in" / "c", make_geometry(AXIAL), seed=3,
                       tags={**study, "SeriesNumber": 8, "SeriesDescription": "AX T2",
                             "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.55.8"})[1]
    gap[3].unlink()
    return tmp_path / "in"


def test_convert_writes_bids_like_nifti_with_sidecars_and_reports_failures(tmp_path, settings, dicom_tree):
    before = tree_digest(dicom_tree)
    results = convert_input(dicom_tree, tmp_path / "out", settings)
    assert tree_digest(dicom_tree) == before
    by_id = {r.stack_id.rsplit(".", 1)[-1]: r for r in results}
    assert by_id["8"].path is None and "slice gap" in by_id["8"].error
    stir = by_id["5"].path
    assert stir.parent.parent.parent.parent == tmp_path / "out"  # the hostile patient id stays inside
    assert stir.name.startswith("sub-evil_id_") and stir.name.endswith("_ses-20240131_acq-coronal_run-5_STIR.nii.gz")
    assert by_id["3"].path.name.endswith("_acq-coronal_run-3_T1w.nii.gz")
    sidecar = json.loads(stir.with_name(stir.name.replace(".nii.gz", ".json")).read_text())
    assert sidecar["bme_mri_sequence"] == "stir" and sidecar["InversionTime"] == pytest.approx(0.15)
    original = load_volume([s for s in discover(dicom_tree, settings).all_stacks() if s.series_number == 5][0], settings)
    again = discover(tmp_path / "out", settings)
    assert len(again.studies) == 1 and again.studies[0].study_date == "2024-01-31"
    converted = select_series(again.studies[0], settings).analysis
    volume = load_volume(converted, settings)
    assert volume.geometry.same_grid(original.geometry, tol_mm=1e-4)
    np.testing.assert_allclose(volume.array, original.array, rtol=1e-6)


def test_every_sequence_class_has_a_file_suffix():
    from bme_mri.ingest.convert import SUFFIX

    assert set(SUFFIX) == {c.value for c in SequenceClass}


def test_convert_writes_a_diffusion_series_under_dwi_with_its_b_value(tmp_path, settings):
    # a diffusion stack used to stop the whole conversion with KeyError: 'dwi' (files left behind)
    study = {"PatientID": "P2", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.77", "StudyDate": "20240131"}
    write_series(tmp_path / "in" / "dwi", make_geometry(AXIAL), seed=4,
                 tags={**study, "SeriesNumber": 6, "SeriesDescription": "ep2d_diff_tra",
                       "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW"], "ScanningSequence": "EP",
                       "DiffusionBValue": 800, "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.77.6"})
    write_series(tmp_path / "in" / "stir", make_geometry(CORONAL), seed=5,
                 tags={**study, "SeriesNumber": 5, "SeriesDescription": "COR STIR", "InversionTime": 150.0,
                       "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.77.5"})
    results = convert_input(tmp_path / "in", tmp_path / "out", settings)
    assert [r.error for r in results] == [None, None]
    paths = sorted(r.path.relative_to(tmp_path / "out").as_posix() for r in results)
    assert paths == ["sub-P2/ses-20240131/anat/sub-P2_ses-20240131_acq-coronal_run-5_STIR.nii.gz",
                     "sub-P2/ses-20240131/dwi/sub-P2_ses-20240131_acq-axialb800_run-6_dwi.nii.gz"]
    back = discover(tmp_path / "out", settings).all_stacks()
    assert sorted(s.sequence.value for s in back) == ["dwi", "stir"]


def test_convert_refuses_an_output_inside_the_input(settings, dicom_tree):
    with pytest.raises(OutputError):
        convert_input(dicom_tree, dicom_tree / "out", settings)


def test_inspect_reports_json_and_renders(settings, dicom_tree):
    result = inspect_input(dicom_tree, settings)
    report = json.loads(json.dumps(result.to_dict()))
    study = report["patients"][0]["studies"][0]
    roles = {s["description"]: s["role"] for s in study["series"]}
    assert roles == {"COR STIR": "analysis", "COR T1": "t1", "AX T2": None}
    gap = [s for s in study["series"] if s["description"] == "AX T2"][0]
    assert "a slice is missing" in gap["error"]
    stir = [s for s in study["series"] if s["description"] == "COR STIR"][0]
    assert stir["matrix"] == [12, 10, 6] and stir["spacing_mm"] == pytest.approx([0.9, 1.1, 3.0])
    assert study["selection_reason"] == "coronal STIR 'COR STIR' #5"
    console = Console(file=io.StringIO(), width=200)
    console.print(render_inspect(result))
    text = console.file.getvalue()
    assert "analyse: coronal STIR 'COR STIR' #5" in text and "a slice is missing" in text
