"""DICOM SEG: same masks on the same source frames when read back; strict pydicom reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import yaml
from pydicom import config as pydicom_config

from bme_mri.errors import GeometryError, OutputError
from bme_mri.phantom.dicom_write import write_mr_series
from bme_mri.report.seg import segment_masks, write_dicom_seg
from bme_mri.report.settings import ReportSettings
from bme_mri.types import Geometry, Label

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


@pytest.fixture(scope="module")
def report_settings() -> ReportSettings:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    return ReportSettings.model_validate(data["report"])


@pytest.fixture
def strict_reading():
    previous = pydicom_config.settings.reading_validation_mode
    pydicom_config.settings.reading_validation_mode = pydicom_config.RAISE
    yield
    pydicom_config.settings.reading_validation_mode = previous


def _series(tmp_path: Path, seed: int = 0):
    """Oblique-ish coronal series (24 x 20 x 8), files shuffled and numbered in reverse."""
    rng = np.random.default_rng(seed)
    angle = np.radians(10.0)
    i_axis = np.array([np.cos(angle), np.sin(angle), 0.0])
    j_axis = np.array([0.0, 0.0, -1.0])
    k_axis = np.cross(i_axis, j_axis)
    geometry = Geometry((24, 20, 8), (1.5, 1.2, 4.0), (-80.0, 10.0, 30.0),
                        np.stack([i_axis, j_axis, k_axis], axis=1))
    image = rng.uniform(50, 400, geometry.shape)
    names = [f"file_{n:02d}.dcm" for n in rng.permutation(geometry.shape[2])]
    files = write_mr_series(image, geometry, tmp_path / "series",
                            {"PatientID": "P1", "StudyDate": "20240101", "Modality": "MR",
                             "SeriesDescription": "COR STIR", "SeriesNumber": 3},
                            file_names=names, instance_order="descending")
    labels = np.zeros(geometry.shape, np.uint8)
    labels[5:15, 4:14, 2:6] = Label.HEAD_MARROW
    labels[6:10, 5:9, 3:5] = Label.EDEMA
    labels[11:13, 10:12, 4] = Label.NECROSIS
    shuffled = list(rng.permutation(len(files)))
    return geometry, labels, [files[i] for i in shuffled]


def test_seg_reads_back_with_the_same_masks_on_the_same_source_frames(
        tmp_path, report_settings, strict_reading):
    import highdicom as hd

    geometry, labels, files = _series(tmp_path)
    path = write_dicom_seg(labels, geometry, files, tmp_path / "out" / "seg.dcm", report_settings,
                           version="0.1.0")
    seg = hd.seg.segread(str(path))
    assert seg.SegmentationType == "BINARY"
    assert [s.SegmentLabel for s in seg.SegmentSequence] == [
        "Femoral head", "Bone marrow edema", "Osteonecrosis"]
    expected = segment_masks(labels)
    for file in files:
        source = pydicom.dcmread(str(file))
        k = int(round(np.dot(np.asarray(source.ImagePositionPatient, float)
                             - geometry.origin_lps_mm, geometry.direction_lps[:, 2]) / 4.0))
        if not expected[:, :, k].any():
            continue
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=[source.SOPInstanceUID], segment_numbers=[1, 2, 3],
            assert_missing_frames_are_empty=True)
        # pixels: [instance, row (j), column (i), segment]
        assert np.array_equal(pixels[0].astype(bool), np.transpose(expected[:, :, k], (1, 0, 2)))
    referenced = {item.ReferencedSOPInstanceUID
                  for series in seg.ReferencedSeriesSequence
                  for item in series.ReferencedInstanceSequence}
    assert referenced == {pydicom.dcmread(str(f)).SOPInstanceUID for f in files}
    # strict read of the written file passes, with the file meta in place
    strict = pydicom.dcmread(str(path))
    for element in strict.iterall():  # strict mode validates each value on access
        _ = element.value
    assert strict.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert strict.StudyInstanceUID == pydicom.dcmread(str(files[0])).StudyInstanceUID
    assert strict.FrameOfReferenceUID == pydicom.dcmread(str(files[0])).FrameOfReferenceUID


def test_empty_lesion_segments_are_described_but_frameless(tmp_path, report_settings):
    import highdicom as hd

    geometry, labels, files = _series(tmp_path, seed=1)
    labels[labels > 0] = Label.HEAD_MARROW  # no edema, no necrosis
    seg = hd.seg.segread(str(write_dicom_seg(labels, geometry, files, tmp_path / "s.dcm",
                                             report_settings)))
    assert len(seg.SegmentSequence) == 3
    frames_per_segment = [int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
                          for f in seg.PerFrameFunctionalGroupsSequence]
    assert set(frames_per_segment) == {1}


def test_all_empty_labels_are_refused_clearly(tmp_path, report_settings):
    geometry, labels, files = _series(tmp_path, seed=2)
    with pytest.raises(OutputError, match="no DICOM SEG written"):
        write_dicom_seg(np.zeros_like(labels), geometry, files, tmp_path / "s.dcm",
                        report_settings)
    assert not (tmp_path / "s.dcm").exists()


def test_source_on_another_grid_is_refused(tmp_path, report_settings):
    geometry, labels, files = _series(tmp_path, seed=3)
    shifted = Geometry(geometry.shape, geometry.spacing_mm,
                       tuple(np.asarray(geometry.origin_lps_mm) + [0.0, 0.0, 2.0]),
                       geometry.direction_lps)
    with pytest.raises(GeometryError, match="not on a slice"):
        write_dicom_seg(labels, shifted, files, tmp_path / "s.dcm", report_settings)
