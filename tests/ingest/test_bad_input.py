"""Bad input gives one clear line naming the series and the reason; the other series are
still listed; input files are byte-identical afterwards."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

import bme_mri.ingest.fastheader as fastheader_module
import bme_mri.ingest.headers as headers_module
from bme_mri.errors import BmeError, DicomReadError, GeometryError
from bme_mri.ingest import discover, inspect_input, load_volume, render_inspect
from tests.ingest.conftest import AXIAL, CORONAL, make_geometry, tree_digest, write_series

STUDY = {"PatientID": "P1", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1", "StudyDate": "20240131"}


def _series(root: Path, name: str, number: int, description: str, direction=CORONAL, seed=0, **kw):
    tags = {**STUDY, "SeriesNumber": number, "SeriesDescription": description,
            "SeriesInstanceUID": f"1.2.826.0.1.3680043.8.498.{100 + number}", **kw.pop("tags", {})}
    return write_series(root / name, make_geometry(direction), seed=seed, tags=tags, **kw)[1]


def _edit(path: Path, change) -> None:
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture()
def bad_tree(tmp_path) -> Path:
    root = tmp_path / "input"
    _series(root, "stir", 5, "COR STIR", tags={"InversionTime": 160.0})
    _series(root, "t1", 3, "COR T1 TSE", tags={"EchoTime": 12.0, "RepetitionTime": 550.0})
    missing = _series(root, "gap", 6, "GAP STIR")
    missing[2].unlink()
    mixed = _series(root, "mixed_a", 7, "MIX T2")
    _series(root, "mixed_b", 7, "MIX T2", direction=AXIAL, file_names=[f"AX{k}.dcm" for k in range(6)])
    ct = _series(root, "ct", 8, "CT PELVIS")
    for path in ct:
        _edit(path, lambda ds: setattr(ds, "Modality", "CT"))
    no_ipp = _series(root, "noipp", 9, "NOIPP STIR")
    _edit(no_ipp[3], lambda ds: delattr(ds, "ImagePositionPatient"))
    truncated = _series(root, "trunc", 10, "TRUNC STIR")
    data = truncated[1].read_bytes()
    truncated[1].write_bytes(data[: len(data) - 100])
    shutil.copy(get_testdata_file("MR_truncated.dcm"), root / "MR_truncated.dcm")
    (root / "notes.txt").write_bytes(b"this is not DICOM\n" * 20)
    (root / "junk.dcm").write_bytes(np.random.default_rng(1).bytes(3000))
    _series(root, "locked", 11, "LOCKED T2")
    return root


def _lock(path: Path, monkeypatch) -> None:
    """Make ``path`` unreadable: chmod 000, or (as root, where chmod does not stop reads) a
    patched ``open`` in the header reader that raises PermissionError for it."""
    os.chmod(path, 0)
    if os.geteuid() == 0:
        real_open = open

        def guarded_open(file, *args, **kwargs):
            if Path(file) == path:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)
        for module in (headers_module, fastheader_module):
            monkeypatch.setattr(module, "open", guarded_open, raising=False)


def test_every_bad_series_is_one_line_naming_it_and_good_ones_still_selected(bad_tree, settings, monkeypatch):
    locked = bad_tree / "locked" / "IM0002.dcm"
    before = tree_digest(bad_tree)
    _lock(locked, monkeypatch)
    result = inspect_input(bad_tree, settings)
    stacks = {s.description: s for s in result.discovery.all_stacks()}
    expected_reasons = {
        "GAP STIR": "slice gap 6.0 mm between position",
        "MIX T2": "mixes orientations: coronal (6 slices) and axial (6 slices)",
        "CT PELVIS": "modality CT, not MR",
        "NOIPP STIR": "has no ImagePositionPatient",
        "TRUNC STIR": "IM0001.dcm is truncated",
        "LOCKED T2": "a slice is missing",
    }
    for description, reason in expected_reasons.items():
        error = stacks[description].error
        assert error is not None, description
        assert "\n" not in error
        assert stacks[description].series_uid in error and f"({description})" in error
        assert reason in error, error
    assert "expected 3.0 mm" in stacks["GAP STIR"].error
    assert stacks["COR STIR"].error is None and stacks["COR T1 TSE"].error is None
    selection = result.selections[STUDY["StudyInstanceUID"]]
    assert selection.analysis.description == "COR STIR"
    assert selection.t1.description == "COR T1 TSE"
    skipped = {p.path.name: p.reason for p in result.discovery.skipped}
    assert "not a DICOM file" in skipped["notes.txt"]
    assert "junk.dcm" in skipped
    assert "permission denied" in skipped["IM0002.dcm"]
    truncated_pydicom = [s for s in result.discovery.all_stacks() if s.files[0].name == "MR_truncated.dcm"]
    assert "truncated" in truncated_pydicom[0].error
    report = result.to_dict()
    ours = [st for pat in report["patients"] for st in pat["studies"]
            if st["study_uid"] == STUDY["StudyInstanceUID"]][0]
    assert len(ours["series"]) == 8  # every series listed, broken or not
    assert ours["analysis_stack"] == selection.analysis.stack_id
    render_inspect(result)  # renders without error
    os.chmod(locked, 0o644)
    assert tree_digest(bad_tree) == before


def test_loading_a_bad_stack_raises_one_line_bme_error(bad_tree, settings):
    before = tree_digest(bad_tree)
    discovery = discover(bad_tree, settings)
    kinds = {"GAP STIR": GeometryError, "MIX T2": GeometryError, "CT PELVIS": DicomReadError,
             "NOIPP STIR": GeometryError, "TRUNC STIR": DicomReadError}
    for stack in discovery.all_stacks():
        if stack.description in kinds:
            with pytest.raises(kinds[stack.description]) as info:
                load_volume(stack, settings)
            assert "\n" not in str(info.value) and stack.series_uid in str(info.value)
    good = [s for s in discovery.all_stacks() if s.description == "COR STIR"][0]
    assert load_volume(good, settings).array.shape == (12, 10, 6)
    assert tree_digest(bad_tree) == before


def test_lenient_mode_splits_a_mixed_series_with_a_warning(bad_tree, lenient_settings):
    discovery = discover(bad_tree, lenient_settings)
    parts = [s for s in discovery.all_stacks() if s.description == "MIX T2"]
    assert sorted(s.orientation for s in parts) == ["axial", "coronal"]
    assert len({s.stack_id for s in parts}) == 2
    volume = load_volume(parts[0], lenient_settings)
    assert any("mixes 2 orientation" in w for w in volume.meta["warnings"])


def test_missing_slice_message_gives_gap_position_and_expected_spacing(tmp_path, settings):
    paths = write_series(tmp_path / "s", make_geometry(CORONAL, shape=(8, 8, 8), spacing=(1, 1, 4.0),
                                                       origin=(0, 0, 0)))[1]
    paths[4].unlink()
    stack = discover(tmp_path / "s", settings).all_stacks()[0]
    assert stack.error.endswith("slice gap 8.0 mm between position 12.0 and 20.0 mm, expected 4.0 mm "
                                "— a slice is missing; re-export the series")


def test_duplicate_positions_are_refused(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    write_series(tmp_path / "d", geometry, tags={"SeriesInstanceUID": "1.2.3.4"})
    write_series(tmp_path / "d", geometry, seed=2, tags={"SeriesInstanceUID": "1.2.3.4"},
                 file_names=[f"B{k}.dcm" for k in range(6)])
    stack = discover(tmp_path / "d", settings).all_stacks()[0]
    assert "two slices at the same position" in stack.error


def test_inconsistent_matrix_is_refused_in_strict_mode(tmp_path, settings):
    write_series(tmp_path / "d", make_geometry(CORONAL), tags={"SeriesInstanceUID": "1.2.3.5"})
    write_series(tmp_path / "d", make_geometry(CORONAL, shape=(8, 8, 6), origin=(-30.5, 12.25, 100.0)),
                 tags={"SeriesInstanceUID": "1.2.3.5"}, file_names=[f"B{k}.dcm" for k in range(6)])
    stack = discover(tmp_path / "d", settings).all_stacks()[0]
    assert "inconsistent image size:" in stack.error
    assert "12x10 (6 slices)" in stack.error and "8x8 (6 slices)" in stack.error


def test_missing_input_and_dicomdir_are_skipped_with_reasons(tmp_path, settings):
    assert discover(tmp_path / "nope", settings).skipped[0].reason == "does not exist"
    shutil.copy(get_testdata_file("DICOMDIR"), tmp_path / "DICOMDIR")
    skipped = discover(tmp_path, settings).skipped
    assert len(skipped) == 1 and "not an image" in skipped[0].reason


def test_undecodable_pixel_data_is_a_one_line_dicom_read_error(tmp_path, settings, monkeypatch):
    folder = tmp_path / "rle"
    folder.mkdir()
    shutil.copy(get_testdata_file("MR_small_RLE.dcm"), folder / "a.dcm")
    stack = discover(folder, settings).all_stacks()[0]

    def no_decoder(self):
        raise RuntimeError("Unable to decode the pixel data: no plugins available\nmore text")
    monkeypatch.setattr(pydicom.dataset.Dataset, "pixel_array", property(no_decoder))
    with pytest.raises(DicomReadError) as info:
        load_volume(stack, settings)
    message = str(info.value)
    assert "\n" not in message and "RLE Lossless" in message and "pylibjpeg" in message
    assert isinstance(info.value, BmeError)


def test_an_implausible_slice_thickness_is_warned_about_and_not_used(tmp_path, settings):
    geometry = make_geometry(CORONAL)
    _, paths = write_series(tmp_path / "d", geometry, tags={"SeriesInstanceUID": "1.2.3.9"})
    for path in paths:  # the writer sets the grid's thickness: edit the files afterwards
        ds = pydicom.dcmread(path)
        ds.SliceThickness = "999999"
        ds.save_as(path, enforce_file_format=True)
    (stack,) = discover(tmp_path / "d", settings).all_stacks()
    assert stack.error is None
    assert any("SliceThickness 999999 mm is not a plausible MR slice" in w for w in stack.warnings)
    assert stack.geometry.spacing_mm[2] < 100.0
