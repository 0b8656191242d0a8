"""NIfTI as input, headers only: class precedence, identity, orientation, refused affines."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from bme_mri.errors import BmeError, SequenceConflictError, SeriesSelectionError
from bme_mri.ingest import discover, inspect_input, select_series
from bme_mri.ingest.nifti_input import SEQUENCE_FIELD, apply_sequence_override, selection_hint
from bme_mri.nifti import read_nifti, write_nifti
from bme_mri.types import Geometry, SequenceClass
from tests.ingest.conftest import CORONAL, make_geometry, write_series


def _nifti(path: Path, sidecar: dict | None = None, geometry: Geometry | None = None) -> Path:
    geometry = geometry or make_geometry(CORONAL)
    write_nifti(np.random.default_rng(0).uniform(0, 100, geometry.shape), geometry, path, sidecar=sidecar)
    return path


def _only_stack(root: Path, settings):
    discovery = discover(root, settings)
    assert len(discovery.studies) == 1 and len(discovery.studies[0].stacks) == 1
    return discovery, discovery.studies[0], discovery.studies[0].stacks[0]


def test_a_nifti_whose_name_and_sidecar_say_nothing_is_other_with_unknown_patient(tmp_path, settings):
    _, study, stack = _only_stack(_nifti(tmp_path / "a1.nii.gz"), settings)
    assert stack.sequence == SequenceClass.OTHER
    assert study.patient_id == "" and study.study_date == ""
    with pytest.raises(SeriesSelectionError):
        select_series(study, settings)
    hint = selection_hint(study)
    assert "a1.nii.gz" in hint and "--sequence stir" in hint and SEQUENCE_FIELD in hint


def test_two_anonymous_files_in_one_folder_are_two_studies(tmp_path, settings):
    _nifti(tmp_path / "in" / "stir.nii.gz")
    _nifti(tmp_path / "in" / "other" / "stir.nii.gz")
    studies = discover(tmp_path / "in", settings).studies
    assert len(studies) == 2 and len({s.study_uid for s in studies}) == 2


def test_sequence_precedence_is_option_then_sidecar_field_then_tags(tmp_path, settings):
    # the tags say STIR (TI 160 ms), the sidecar field says t1, the option says t2fs
    path = _nifti(tmp_path / "in" / "scan.nii.gz", sidecar={"InversionTime": 0.16, SEQUENCE_FIELD: "t1"})
    discovery, _, stack = _only_stack(path, settings)
    assert stack.sequence == SequenceClass.T1 and SEQUENCE_FIELD in stack.classification_reason
    with pytest.raises(SequenceConflictError):  # the sidecar's own class is not given up silently
        apply_sequence_override(discovery, SequenceClass.T2FS, settings=settings)
    assert apply_sequence_override(discovery, SequenceClass.T2FS, force=True, settings=settings) == 1
    assert stack.sequence == SequenceClass.T2FS and "--sequence t2fs" in stack.classification_reason
    path.with_name("scan.json").write_text(json.dumps({"InversionTime": 0.16}))
    _, _, stack = _only_stack(tmp_path / "in", settings)
    assert stack.sequence == SequenceClass.STIR and "TI 160 ms" in stack.classification_reason


T1_SIDECAR = {"SeriesDescription": "COR T1", "EchoTime": 0.013, "RepetitionTime": 0.48,
              "ScanningSequence": "SE", "ScanOptions": "FAST_GEMS"}


def test_sequence_stir_on_a_file_whose_sidecar_says_t1_is_refused_naming_the_conflict(tmp_path, settings):
    path = _nifti(tmp_path / "in" / "cor_t1.nii.gz", sidecar=T1_SIDECAR)
    discovery, _, stack = _only_stack(path, settings)
    with pytest.raises(SequenceConflictError) as refused:
        apply_sequence_override(discovery, SequenceClass.STIR, settings=settings)
    message = str(refused.value)
    assert message.startswith("--sequence stir conflicts with cor_t1.nii.gz: its JSON sidecar says T1")
    assert "EchoTime 13 ms" in message and "no inversion" in message and "without FS" in message
    assert message.endswith("pass --force to measure it anyway") and "\n" not in message
    assert stack.sequence == SequenceClass.T1  # nothing changed
    assert apply_sequence_override(discovery, SequenceClass.STIR, force=True, settings=settings) == 1
    assert stack.sequence == SequenceClass.STIR and "--force" in stack.classification_reason
    assert any("conflicts with cor_t1.nii.gz" in w and "--force" in w for w in stack.warnings)


@pytest.mark.parametrize("force", [False, True])
def test_sequence_on_a_folder_names_only_the_files_nothing_identifies(tmp_path, settings, force):
    # a folder with a T1w (its sidecar says so), a STIR (its name says so) and a file nothing names
    folder = tmp_path / "in"
    _nifti(folder / "sub-1_T1w.nii.gz", sidecar={**T1_SIDECAR, "PatientID": "P1", "StudyInstanceUID": "1.2"})
    _nifti(folder / "sub-1_STIR.nii.gz", sidecar={"SeriesDescription": "COR STIR", "PatientID": "P1",
                                                  "StudyInstanceUID": "1.2"})
    _nifti(folder / "scan.nii.gz", sidecar={"PatientID": "P1", "StudyInstanceUID": "1.2"})
    discovery = discover(folder, settings)
    assert apply_sequence_override(discovery, SequenceClass.STIR, force=force, settings=settings) == 1
    classes = {s.nifti_path.name: s for s in discovery.all_stacks()}
    assert classes["sub-1_T1w.nii.gz"].sequence == SequenceClass.T1  # never relabelled, --force or not
    assert classes["sub-1_STIR.nii.gz"].sequence == SequenceClass.STIR
    assert classes["scan.nii.gz"].sequence == SequenceClass.STIR
    assert "nothing in the file's sidecar or name" in classes["scan.nii.gz"].classification_reason
    assert any("--sequence stir not applied to sub-1_T1w.nii.gz" in w for w in classes["sub-1_T1w.nii.gz"].warnings)
    selection = inspect_input(folder, settings, sequence_override=SequenceClass.STIR, force=force).selections
    assert next(iter(selection.values())).t1.nifti_path.name == "sub-1_T1w.nii.gz"  # the T1 stays the T1


@pytest.mark.parametrize("sidecar, option", [
    (None, SequenceClass.STIR),                            # nothing says what it is: what --sequence is for
    ({SEQUENCE_FIELD: "t2fs"}, SequenceClass.STIR),        # both fat-suppressed
    (T1_SIDECAR, SequenceClass.PD),                        # not a class that gets measured
])
def test_sequence_option_without_conflict_is_taken(tmp_path, settings, sidecar, option):
    path = _nifti(tmp_path / "in" / "scan.nii.gz", sidecar=sidecar)
    discovery, _, stack = _only_stack(path, settings)
    assert apply_sequence_override(discovery, option, settings=settings) == 1 and stack.sequence == option
    assert not any("conflicts" in w for w in stack.warnings)


@pytest.mark.parametrize("name, sidecar", [
    ("pd_spair_cor.nii.gz", None), ("pd_fs_cor.nii.gz", None), ("PDW_SPAIR.nii.gz", None),
    ("cor_pd_tse_fs.nii.gz", None), ("pd_sag_fatsat.nii.gz", None),
    ("cor_pd.nii.gz", {"EchoTime": 0.03, "RepetitionTime": 3.0, "ScanningSequence": "SE", "ScanOptions": ["PFP", "FS"]}),
])
def test_a_fat_suppressed_pd_does_not_conflict_with_sequence_stir_or_t2fs(tmp_path, settings, name, sidecar):
    path = _nifti(tmp_path / "in" / name, sidecar=sidecar)
    discovery, _, stack = _only_stack(path, settings)
    assert stack.sequence == SequenceClass.PD  # the classifier's class stays what it was
    for option in (SequenceClass.T2FS, SequenceClass.STIR):
        assert apply_sequence_override(discovery, option, settings=settings) == 1  # no --force needed
        assert stack.sequence == option and not any("conflicts" in w for w in stack.warnings)


def test_a_misspelt_sidecar_field_is_a_warning_not_a_class(tmp_path, settings):
    _nifti(tmp_path / "x.nii.gz", sidecar={SEQUENCE_FIELD: "stirr", "SeriesDescription": "COR T1"})
    _, _, stack = _only_stack(tmp_path / "x.nii.gz", settings)
    assert stack.sequence == SequenceClass.T1
    assert any("'stirr'" in w and "ignored" in w for w in stack.warnings)


def test_inspect_with_sequence_override_selects_the_anonymous_file(tmp_path, settings):
    _nifti(tmp_path / "in" / "a1.nii.gz")
    refused = inspect_input(tmp_path / "in", settings)
    assert "--sequence stir" in next(iter(refused.selection_errors.values()))
    result = inspect_input(tmp_path / "in", settings, sequence_override=SequenceClass.STIR)
    assert not result.selection_errors
    assert next(iter(result.selections.values())).analysis.sequence == SequenceClass.STIR


def test_sequence_override_refuses_an_input_without_nifti(tmp_path, settings):
    write_series(tmp_path / "dicom", make_geometry(CORONAL))
    discovery = discover(tmp_path / "dicom", settings)
    with pytest.raises(BmeError, match="NIfTI files only"):
        apply_sequence_override(discovery, SequenceClass.STIR)
    with pytest.raises(BmeError, match="not one of"):
        apply_sequence_override(discovery, "stirr")
    assert apply_sequence_override(discovery, None) == 0


def test_identity_comes_from_the_sidecar_before_bids_folders(tmp_path, settings):
    folder = tmp_path / "sub-P7" / "ses-20240301" / "anat"
    _nifti(folder / "scan_STIR.nii.gz")
    _, study, _ = _only_stack(tmp_path, settings)
    assert (study.patient_id, study.study_uid, study.study_date) == ("P7", "sub-P7_ses-20240301", "2024-03-01")
    _nifti(folder / "scan_STIR.nii.gz", sidecar={"PatientID": "REAL", "AcquisitionDateTime": "2024-03-02T10:11:12"})
    _, study, _ = _only_stack(tmp_path, settings)
    assert (study.patient_id, study.study_date) == ("REAL", "2024-03-02")


def test_same_session_bids_names_of_two_patients_are_two_studies(tmp_path, settings):
    _nifti(tmp_path / "sub-A_ses-1_STIR.nii.gz")
    _nifti(tmp_path / "sub-B_ses-1_STIR.nii.gz")
    studies = discover(tmp_path, settings).studies
    assert sorted((s.patient_id, s.study_uid) for s in studies) == [("A", "sub-A_ses-1"), ("B", "sub-B_ses-1")]


def test_a_nifti_without_qform_or_sform_is_listed_but_never_analysed(tmp_path, settings):
    image = nib.Nifti1Image(np.ones((8, 8, 8), np.float32), np.diag([1.0, 1.0, 3.0, 1.0]))
    image.set_sform(None, code=0)
    image.set_qform(None, code=0)
    nib.save(image, str(tmp_path / "COR_STIR.nii.gz"))
    _, study, stack = _only_stack(tmp_path / "COR_STIR.nii.gz", settings)
    assert stack.sequence == SequenceClass.STIR and "left and right are unknown" in stack.error
    with pytest.raises(SeriesSelectionError, match="left and right are unknown"):
        select_series(study, settings)
    assert any("left/right are unknown" in w for w in read_nifti(tmp_path / "COR_STIR.nii.gz").meta["warnings"])


def test_a_sheared_affine_is_refused(tmp_path, settings):
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    affine[0, 1] = 0.4  # j axis leans into x: not a rectangular grid
    nib.save(nib.Nifti1Image(np.ones((8, 8, 8), np.float32), affine), str(tmp_path / "COR_STIR.nii.gz"))
    _, _, stack = _only_stack(tmp_path / "COR_STIR.nii.gz", settings)
    assert stack.geometry is None and "sheared" in stack.error


@pytest.mark.parametrize("codes", [("L", "A", "S"), ("R", "S", "A"), ("P", "I", "R")])
def test_a_reoriented_nifti_keeps_its_plane_and_lps_geometry(tmp_path, settings, codes):
    geometry = make_geometry(CORONAL, shape=(12, 10, 6), spacing=(0.9, 0.9, 4.0))
    _nifti(tmp_path / "a" / "COR_STIR.nii.gz", geometry=geometry)
    image = nib.load(str(tmp_path / "a" / "COR_STIR.nii.gz"))
    transform = nib.orientations.ornt_transform(nib.orientations.io_orientation(image.affine),
                                                nib.orientations.axcodes2ornt(codes))
    (tmp_path / "b").mkdir()
    nib.save(image.as_reoriented(transform), str(tmp_path / "b" / "COR_STIR.nii.gz"))
    _, _, original = _only_stack(tmp_path / "a", settings)
    _, _, turned = _only_stack(tmp_path / "b", settings)
    assert nib.aff2axcodes(nib.load(str(tmp_path / "b" / "COR_STIR.nii.gz")).affine) == codes
    assert original.orientation == turned.orientation == "coronal"
    # the same voxel centres in LPS mm (the corners of both grids are the same 8 points)
    np.testing.assert_allclose(np.sort(original.geometry.corners_lps(), axis=0),
                               np.sort(turned.geometry.corners_lps(), axis=0), atol=1e-4)


def test_an_unclassified_mask_is_skipped_and_never_takes_the_sequence_option(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    mask = np.zeros(geometry.shape, np.uint16)
    mask[3:8, 2:6, 1:4] = 1
    image = nib.Nifti1Image(mask, geometry.affine_ras)
    nib.save(image, str(tmp_path / "bone_region.nii.gz"))
    _nifti(tmp_path / "scan.nii.gz")  # a real (many-valued) image that nothing names: kept
    discovery = discover(tmp_path, settings)
    assert [s.path.name for s in discovery.skipped] == ["bone_region.nii.gz"]
    assert "mask / label map (2 distinct values: 0, 1)" in discovery.skipped[0].reason
    assert apply_sequence_override(discovery, SequenceClass.STIR) == 1
    assert [s.nifti_path.name for s in discovery.all_stacks()] == ["scan.nii.gz"]


def test_a_named_stir_with_few_values_is_still_an_image(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    nib.save(nib.Nifti1Image(np.ones(geometry.shape, np.uint16), geometry.affine_ras),
             str(tmp_path / "COR_STIR.nii.gz"))
    _, _, stack = _only_stack(tmp_path, settings)
    assert stack.sequence == SequenceClass.STIR  # only files nothing identifies are checked


def test_two_files_of_one_series_are_two_stacks(tmp_path, settings):
    sidecar = {"PatientID": "P1", "StudyInstanceUID": "1.2", "SeriesInstanceUID": "1.2.3",
               "SeriesDescription": "COR STIR"}
    _nifti(tmp_path / "stir_e1.nii.gz", sidecar=sidecar)
    _nifti(tmp_path / "stir_e2.nii.gz", sidecar=sidecar)
    stacks = discover(tmp_path, settings).all_stacks()
    assert len(stacks) == 2 and len({s.stack_id for s in stacks}) == 2
    assert {s.series_uid for s in stacks} == {"1.2.3"}


def test_anonymised_converter_files_of_one_folder_form_one_study(tmp_path, settings):
    for name, description in (("t2_tirm_cor_2", "t2_tirm_cor"), ("t1_tse_cor_3", "t1_tse_cor")):
        _nifti(tmp_path / "visit1" / f"{name}.nii.gz", sidecar={"SeriesDescription": description})
    _nifti(tmp_path / "visit2" / "t2_tirm_cor_2.nii.gz", sidecar={"SeriesDescription": "t2_tirm_cor"})
    studies = discover(tmp_path, settings).studies
    assert sorted(len(s.stacks) for s in studies) == [1, 2]
    assert all(s.patient_id == "" for s in studies)
    visit1 = next(s for s in studies if len(s.stacks) == 2)
    selection = select_series(visit1, settings)
    assert selection.analysis.sequence == SequenceClass.STIR and selection.t1 is not None


def test_dcm2niix_diffusion_files_are_one_refused_4d_stack_without_junk(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    image = nib.Nifti1Image(np.random.default_rng(1).uniform(0, 9, geometry.shape + (3,)).astype(np.float32),
                            geometry.affine_ras)
    nib.save(image, str(tmp_path / "ep2d_diff_6.nii.gz"))
    (tmp_path / "ep2d_diff_6.bval").write_text("0 500 1000\n")
    (tmp_path / "ep2d_diff_6.bvec").write_text("0 1 0\n0 0 1\n0 0 0\n")
    (tmp_path / "ep2d_diff_6.json").write_text(json.dumps({"SeriesDescription": "ep2d_diff"}))
    discovery, _, stack = _only_stack(tmp_path, settings)
    assert discovery.skipped == []
    assert "4-D (3 volumes" in stack.error


def test_no_hint_when_every_nifti_was_classified(tmp_path, settings):
    _nifti(tmp_path / "t2_tse_cor.nii.gz", sidecar={"SeriesDescription": "t2_tse_cor", "EchoTime": 0.1,
                                                    "RepetitionTime": 5.0})
    _, study, stack = _only_stack(tmp_path, settings)
    assert stack.sequence == SequenceClass.T2
    with pytest.raises(SeriesSelectionError):
        select_series(study, settings)
    assert selection_hint(study) == ""


def test_a_nifti_with_nan_slices_is_refused_with_where_they_are(tmp_path, settings):
    from bme_mri.errors import ImageValueError
    from bme_mri.ingest import load_volume

    geometry = make_geometry(CORONAL)
    array = np.random.default_rng(0).uniform(0, 100, geometry.shape).astype(np.float32)
    array[:, :, 1] = np.nan
    write_nifti(array, geometry, tmp_path / "stir.nii.gz", sidecar={"PatientID": "P1"})
    _, _, stack = _only_stack(tmp_path, settings)
    with pytest.raises(ImageValueError, match=r"not finite numbers \(NaN or infinite\) in slice 1"):
        load_volume(stack, settings)
