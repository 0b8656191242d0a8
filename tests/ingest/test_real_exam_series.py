"""Real exam folders: multi-b diffusion split by b-value, non-image objects skipped quietly,
a study without edema-sensitive series reported for what it holds (issue 9)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from bme_mri.errors import NoEdemaSeriesError, SeriesSelectionError
from bme_mri.ingest import discover, select_series
from bme_mri.types import SequenceClass

from tests.ingest.conftest import AXIAL, make_geometry, write_series

DWI_TAGS = {"SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.77", "SeriesDescription": "ep2d_diff_tra",
            "SeriesNumber": 6, "ScanningSequence": "EP", "Manufacturer": "SIEMENS",
            "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW"]}


def _write_multi_b(folder: Path, b_values, *, standard: bool, syntax=ExplicitVRLittleEndian) -> None:
    geometry = make_geometry(AXIAL)
    for n, b in enumerate(b_values):
        tags = dict(DWI_TAGS)
        if standard:
            tags["DiffusionBValue"] = float(b)
        _, paths = write_series(folder, geometry, seed=n, tags=tags,
                                file_names=[f"b{b}_{k}.dcm" for k in range(geometry.shape[2])],
                                instance_offset=100 * n)
        if not standard:  # Siemens keeps the b-value in its private header (0019,100C), IS
            for path in paths:
                ds = pydicom.dcmread(path)
                ds.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0C, "IS", str(b))
                ds.file_meta.TransferSyntaxUID = syntax  # implicit VR: the reader must know the VR
                ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("standard,syntax", [(True, ExplicitVRLittleEndian), (False, ExplicitVRLittleEndian),
                                             (False, ImplicitVRLittleEndian)],
                         ids=["DiffusionBValue", "siemens-private-explicit", "siemens-private-implicit"])
def test_multi_b_diffusion_series_is_split_by_b_value_not_an_error(tmp_path, settings, standard, syntax):
    _write_multi_b(tmp_path, [50, 400, 800], standard=standard, syntax=syntax)
    stacks = discover(tmp_path, settings).all_stacks()
    assert len(stacks) == 3
    assert all(s.error is None and s.n_slices == 6 for s in stacks), [s.error for s in stacks]
    assert all(s.sequence == SequenceClass.DWI for s in stacks)
    assert sorted(float(s.headers["DiffusionBValue"]) for s in stacks) == [50.0, 400.0, 800.0]


def test_without_b_values_the_repeats_are_still_reported_as_duplicates(tmp_path, settings):
    geometry = make_geometry(AXIAL)
    for n in range(2):
        write_series(tmp_path, geometry, seed=n, tags=DWI_TAGS, instance_offset=100 * n,
                     file_names=[f"r{n}_{k}.dcm" for k in range(geometry.shape[2])])
    (stack,) = discover(tmp_path, settings).all_stacks()
    assert stack.sequence == SequenceClass.DWI and "2 images at every slice position, a 4-D dwi series" in stack.error


def _non_image(path: Path, sop_class: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2.3", generate_uid()
    ds.Modality = "SR"
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("sop_class,name", [
    ("1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR"),
    ("1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy Presentation State"),
    ("1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection"),
    ("1.3.12.2.1107.5.9.1", "Siemens raw data"),
])
def test_non_image_objects_are_skipped_with_their_reason(tmp_path, settings, sop_class, name):
    _non_image(tmp_path / "obj.dcm", sop_class)
    discovery = discover(tmp_path, settings)
    assert discovery.studies == []
    (skipped,) = discovery.skipped
    assert "without an image" in skipped.reason


def test_study_without_edema_sensitive_series_says_what_it_has(tmp_path, settings):
    geometry = make_geometry(AXIAL)
    write_series(tmp_path / "t2", geometry, tags={"SeriesDescription": "t2_tse_tra", "SeriesNumber": 3,
                                                  "RepetitionTime": 4000.0, "EchoTime": 100.0})
    _write_multi_b(tmp_path / "dwi", [50, 800], standard=True)
    write_series(tmp_path / "adc", geometry, tags={
        "SeriesDescription": "ep2d_diff_tra_ADC", "SeriesNumber": 7, "ScanningSequence": "EP",
        "ImageType": ["DERIVED", "PRIMARY", "DIFFUSION", "ADC"]})
    (study,) = discover(tmp_path, settings).studies
    with pytest.raises(NoEdemaSeriesError) as caught:
        select_series(study, settings)
    message = str(caught.value)
    assert message.startswith("no STIR or fat-suppressed T2")
    assert "T2 x1" in message and "diffusion x2" in message and "ADC/diffusion map x1" in message
    assert isinstance(caught.value, SeriesSelectionError)  # callers catching the parent still work


def test_a_broken_stir_is_a_failure_not_a_missing_series(tmp_path, settings):
    geometry = make_geometry(AXIAL)
    write_series(tmp_path, geometry, tags={"SeriesDescription": "COR STIR", "InversionTime": 150.0},
                 file_names=[f"s{k}.dcm" for k in range(6)])
    (tmp_path / "s3.dcm").unlink()  # a missing slice in the middle
    (study,) = discover(tmp_path, settings).studies
    with pytest.raises(SeriesSelectionError) as caught:
        select_series(study, settings)
    assert not isinstance(caught.value, NoEdemaSeriesError)
