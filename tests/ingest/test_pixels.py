"""Pixel values: per-slice rescale, compressed syntaxes, enhanced multi-frame MR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

from bme_mri.ingest import discover, load_volume
from tests.ingest.conftest import CORONAL, oblique_direction, make_geometry, write_series


def _only_volume(folder: Path, settings):
    stacks = discover(folder, settings).all_stacks()
    assert len(stacks) == 1 and stacks[0].error is None, [s.error for s in stacks]
    return load_volume(stacks[0], settings)


def test_per_slice_rescale_is_applied_slice_by_slice(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    truth, paths = write_series(tmp_path / "s", geometry, seed=4, per_slice_rescale=True)
    slopes = {float(pydicom.dcmread(p, stop_before_pixels=True).RescaleSlope) for p in paths}
    assert len(slopes) == len(paths)  # really a different slope per slice
    volume = _only_volume(tmp_path / "s", settings)
    assert volume.array.dtype == np.float32
    np.testing.assert_allclose(volume.array, truth, atol=max(slopes))
    # change one slice's slope and intercept: only that slice changes, exactly as stored*m+b
    ds = pydicom.dcmread(paths[2])
    stored = ds.pixel_array.astype(np.float64)
    ds.RescaleSlope, ds.RescaleIntercept = "2.5", "-100"
    ds.save_as(paths[2], enforce_file_format=True)
    edited = _only_volume(tmp_path / "s", settings)
    k = int(np.argmin([abs(float(np.dot(np.asarray(geometry.index_to_lps([0, 0, kk])), CORONAL[:, 2]))
                          - float(np.dot(ds.ImagePositionPatient, CORONAL[:, 2]))) for kk in range(6)]))
    np.testing.assert_allclose(edited.array[:, :, k], (stored * 2.5 - 100).T.astype(np.float32), rtol=1e-6)
    others = [kk for kk in range(6) if kk != k]
    np.testing.assert_array_equal(edited.array[:, :, others], volume.array[:, :, others])


def _transcode(source: Path, target: Path, syntax) -> None:
    """Recompress ``source`` with GDCM, keeping pydicom's header (GDCM drops MR rescale tags)."""
    gdcm = pytest.importorskip("gdcm", reason="python-gdcm needed to write compressed test files")
    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(syntax))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    writer.SetFileName(str(target))
    assert writer.Write()
    compressed = pydicom.dcmread(target)
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = compressed.file_meta.TransferSyntaxUID
    ds.PixelData = compressed.PixelData
    ds["PixelData"].VR = "OB"
    ds.save_as(target, enforce_file_format=True)


@pytest.mark.parametrize("syntax_name", ["JPEGLosslessProcess14_1", "JPEG2000Lossless", "JPEGLSLossless",
                                         "RLELossless"])
def test_compressed_syntaxes_decode_to_the_uncompressed_values(tmp_path, settings, syntax_name):
    gdcm = pytest.importorskip("gdcm", reason="python-gdcm needed to write compressed test files")
    geometry = make_geometry(oblique_direction(15.0))
    _, paths = write_series(tmp_path / "plain", geometry, seed=5, per_slice_rescale=True)
    (tmp_path / "packed").mkdir()
    for path in paths:
        _transcode(path, tmp_path / "packed" / path.name, getattr(gdcm.TransferSyntax, syntax_name))
    syntax = pydicom.dcmread(tmp_path / "packed" / paths[0].name).file_meta.TransferSyntaxUID
    assert syntax.is_compressed
    plain = _only_volume(tmp_path / "plain", settings)
    packed = _only_volume(tmp_path / "packed", settings)
    assert packed.geometry.same_grid(plain.geometry, tol_mm=1e-6)
    np.testing.assert_array_equal(packed.array, plain.array)


def _enhanced_from(paths: list[Path], target: Path, frame_order: list[int]) -> None:
    """An enhanced MR multi-frame file holding the given single-frame slices (frames shuffled)."""
    slices = [pydicom.dcmread(p) for p in paths]
    first = slices[0]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
    ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    for keyword in ("PatientID", "StudyInstanceUID", "StudyDate", "SeriesNumber", "SeriesDescription",
                    "FrameOfReferenceUID", "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation",
                    "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation"):
        setattr(ds, keyword, getattr(first, keyword))
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    ds.Modality = "MR"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.NumberOfFrames = len(slices)
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = first.PixelSpacing
    measures.SliceThickness = first.SliceThickness
    orientation = Dataset()
    orientation.ImageOrientationPatient = first.ImageOrientationPatient
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for index in frame_order:
        src = slices[index]
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = src.ImagePositionPatient
        transform = Dataset()
        transform.RescaleSlope = src.RescaleSlope
        transform.RescaleIntercept = src.RescaleIntercept
        transform.RescaleType = "US"
        content = Dataset()
        content.InStackPositionNumber = index + 1
        item.PlanePositionSequence = Sequence([position])
        item.PixelValueTransformationSequence = Sequence([transform])
        item.FrameContentSequence = Sequence([content])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = np.stack([slices[i].pixel_array for i in frame_order]).tobytes()
    ds.save_as(target, enforce_file_format=True)


def test_enhanced_multiframe_reads_like_its_single_frame_twin(tmp_path, settings):
    geometry = make_geometry(oblique_direction(25.0))
    _, paths = write_series(tmp_path / "single", geometry, seed=6, per_slice_rescale=True)
    (tmp_path / "multi").mkdir()
    _enhanced_from(paths, tmp_path / "multi" / "enhanced.dcm", frame_order=[3, 0, 5, 1, 4, 2])
    single = _only_volume(tmp_path / "single", settings)
    stack = discover(tmp_path / "multi", settings).all_stacks()[0]
    assert stack.n_slices == 6 and stack.files == [tmp_path / "multi" / "enhanced.dcm"]
    multi = load_volume(stack, settings)
    assert multi.geometry.same_grid(single.geometry, tol_mm=1e-4)
    np.testing.assert_array_equal(multi.array, single.array)
    assert multi.meta["n_files"] == 1 and multi.meta["sequence"] == "stir"


def test_fast_native_reader_matches_pydicom_decoding(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    _, paths = write_series(tmp_path / "s", geometry, seed=7, per_slice_rescale=True)
    stack = discover(tmp_path / "s", settings).all_stacks()[0]
    assert all(s.pixel_offset is not None for s in stack.slices)
    fast = load_volume(stack, settings).array
    for item in stack.slices:
        item.pixel_offset = None  # force the pydicom path
    slow = load_volume(stack, settings).array
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("syntax, advice", [
    ("1.2.3.4.5", "not a DICOM standard one"),  # a private / made-up syntax: no plug-in can help
    ("1.2.840.10008.1.2.4.50", "damaged"),  # JPEG baseline, decoder installed, the data are junk
])
def test_an_undecodable_series_says_what_can_help(tmp_path, settings, syntax, advice):
    from bme_mri.errors import BmeError

    geometry = make_geometry(CORONAL)
    _, paths = write_series(tmp_path / "s", geometry, seed=2)
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(syntax)
        ds.PixelData = pydicom.encaps.encapsulate([b"\xff\xd8 not a jpeg \xff\xd9"])
        ds["PixelData"].VR = "OB"
        ds.save_as(path, enforce_file_format=False)
    stacks = discover(tmp_path / "s", settings).all_stacks()
    with pytest.raises(BmeError) as err:
        for stack in stacks:
            if stack.error:
                raise BmeError(stack.error)
            load_volume(stack, settings)
    assert advice in str(err.value) and "install a decoder plug-in" not in str(err.value)
