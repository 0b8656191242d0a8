"""Discovery: grouping and splitting of series, and the fast header reader vs pydicom."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from bme_mri.ingest import discover
from bme_mri.ingest.fastheader import read_header_fast
from bme_mri.ingest.headers import SERIES_KEYWORDS, SLICE_KEYWORDS
from bme_mri.types import SequenceClass
from tests.ingest.conftest import AXIAL, CORONAL, SAGITTAL, make_geometry, write_series


def test_three_plane_localizer_is_split_into_one_stack_per_plane(tmp_path, settings):
    tags = {"SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.9", "SeriesDescription": "3-plane loc",
            "SeriesNumber": 1, "ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]}
    for name, direction in (("c", CORONAL), ("a", AXIAL), ("s", SAGITTAL)):
        write_series(tmp_path, make_geometry(direction, shape=(8, 8, 1)), tags=tags, file_names=[f"{name}.dcm"])
    study = discover(tmp_path, settings).studies[0]
    assert sorted(s.orientation for s in study.stacks) == ["axial", "coronal", "sagittal"]
    assert len({s.stack_id for s in study.stacks}) == 3
    assert all(s.sequence == SequenceClass.LOCALIZER and s.error is None for s in study.stacks)
    assert study.study_date == "2024-01-31"


def test_two_echoes_in_one_series_become_two_stacks(tmp_path, settings):
    geometry = make_geometry(AXIAL)
    base = {"SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.10", "SeriesDescription": "PD+T2 dual echo",
            "RepetitionTime": 3000.0}
    write_series(tmp_path, geometry, tags={**base, "EchoTime": 20.0, "EchoNumbers": 1},
                 file_names=[f"e1_{k}.dcm" for k in range(6)])
    write_series(tmp_path, geometry, tags={**base, "EchoTime": 90.0, "EchoNumbers": 2},
                 file_names=[f"e2_{k}.dcm" for k in range(6)])
    stacks = discover(tmp_path, settings).all_stacks()
    assert len(stacks) == 2 and all(s.error is None and s.n_slices == 6 for s in stacks)
    assert {s.stack_id.rsplit("_", 1)[1] for s in stacks} == {"e1", "e2"}


# every .dcm bundled with the installed pydicom (local files only; nothing is downloaded)
BUNDLED = Path(get_testdata_file("MR_small.dcm")).parent
PYDICOM_FILES = sorted(p.name for p in BUNDLED.glob("*.dcm"))


@pytest.mark.parametrize("name", PYDICOM_FILES)
def test_fast_header_reader_agrees_with_pydicom_or_defers_to_it(name):
    path = BUNDLED / name
    keywords = (*SERIES_KEYWORDS, *SLICE_KEYWORDS)
    fast = read_header_fast(path, keywords)
    if fast is None:
        return  # unusual file: the caller reads it with pydicom
    values, syntax, _, size = fast
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        theirs_by_keyword = {k: ds.get(k) for k in keywords if k in ds}
    assert syntax == ds.file_meta.TransferSyntaxUID and size == path.stat().st_size
    present = [k for k in keywords if k in ds and ds[k].VR != "SQ" and ds[k].value not in (None, "")]
    assert sorted(values) == sorted(present)
    for keyword in present:
        theirs = theirs_by_keyword[keyword]
        ours = values[keyword]
        if isinstance(ours, list):
            assert [str(v).strip() for v in ours] == [str(v).strip() for v in theirs], keyword
        else:
            assert str(ours).strip() == str(theirs).strip(), keyword
