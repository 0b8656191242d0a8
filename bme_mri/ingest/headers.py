"""Read the header of one DICOM file (never its pixel data) into slice headers.

Only the tags ingest needs are parsed (pydicom ``specific_tags``). The byte offset of the
pixel data is recorded for native (uncompressed) syntaxes, which lets discovery detect a
truncated file cheaply and lets assembly read each slice's pixels exactly once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from bme_mri.ingest.models import SliceHeader, as_float
from bme_mri.ingest.multiframe import enhanced_series_tags, frame_headers, is_enhanced

SERIES_KEYWORDS = (
    "PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "StudyTime",
    "StudyDescription", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription",
    "ProtocolName", "Manufacturer", "ManufacturerModelName", "Modality", "SOPClassUID",
    "SequenceName", "PulseSequenceName", "ScanningSequence", "SequenceVariant", "ScanOptions",
    "InversionTime", "EchoTime", "RepetitionTime", "ImageType", "MagneticFieldStrength",
    "SliceThickness", "SpacingBetweenSlices", "BodyPartExamined",
)
SLICE_KEYWORDS = (
    "Rows", "Columns", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
    "RescaleSlope", "RescaleIntercept", "InstanceNumber", "EchoNumbers", "NumberOfFrames",
    "BitsAllocated", "BitsStored", "PixelRepresentation", "SamplesPerPixel",
    "PhotometricInterpretation", "PerFrameFunctionalGroupsSequence",
    "SharedFunctionalGroupsSequence",
)
_NATIVE_LE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN", b"SQ", b"UT", b"UC", b"UR"}
_DICOMDIR_SOP = "1.2.840.10008.1.3.10"


class SkipFile(Exception):
    """Raised for a file discovery leaves out; ``str()`` is the reason."""


@dataclass
class FileHeaders:
    """What one file contributes: series-level tags, its slice(s), and a known problem."""

    series_tags: dict[str, Any]
    slices: list[SliceHeader]
    problem: str | None = None  # e.g. truncated pixel data: the file's series cannot load
    notes: list[str] = field(default_factory=list)


def _read_dataset(path: Path) -> tuple[pydicom.Dataset, int | None, int]:
    tags = [*SERIES_KEYWORDS, *SLICE_KEYWORDS]
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        try:
            ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=tags)
        except InvalidDicomError:
            handle.seek(0)
            ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=tags, force=True)
            if "SOPClassUID" not in ds or "Rows" not in ds:
                raise SkipFile("not a DICOM file (no DICM preamble, no image tags)") from None
        position = handle.tell()
        header = handle.read(12)
    if position >= size or len(header) < 8:
        return ds, None, size
    return ds, _pixel_data_start(ds, position, header, size), size


def _pixel_data_start(ds: pydicom.Dataset, position: int, header: bytes, size: int) -> int | None:
    """Byte offset where native pixel values start, or None (compressed / not found)."""
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    if syntax not in _NATIVE_LE or header[:4] != b"\xe0\x7f\x10\x00":
        return None
    if syntax == "1.2.840.10008.1.2.1":
        if header[4:6] in _LONG_VRS:
            return position + 12
        return position + 8
    return position + 8


def read_file_headers(path: Path) -> FileHeaders:
    """Header facts of one file; raises :class:`SkipFile` with a reason to leave it out."""
    try:
        ds, pixel_offset, size = _read_dataset(path)
    except SkipFile:
        raise
    except PermissionError:
        raise SkipFile("unreadable: permission denied") from None
    except IsADirectoryError:
        raise SkipFile("is a directory") from None
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from None
    except InvalidDicomError:
        raise SkipFile("not a DICOM file") from None
    except Exception as exc:  # pydicom raises many types on corrupt headers
        raise SkipFile(f"corrupt DICOM header ({type(exc).__name__}: {exc})"[:200]) from None
    meta_sop = str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "") or "")
    if meta_sop == _DICOMDIR_SOP or "DirectoryRecordSequence" in ds:
        raise SkipFile("DICOMDIR index, not an image")
    if "Rows" not in ds or "Columns" not in ds:
        raise SkipFile(f"DICOM without an image ({_sop_name(ds)})")
    series_tags = {kw: ds.get(kw) for kw in SERIES_KEYWORDS if ds.get(kw) is not None}
    if is_enhanced(ds):
        for key, value in enhanced_series_tags(ds).items():
            series_tags.setdefault(key, value)
    problem = _truncation_problem(ds, path, pixel_offset, size)
    fast_offset = pixel_offset if _native_ok(ds) else None
    if is_enhanced(ds):
        slices = frame_headers(ds, path, fast_offset)
    else:
        slices = [_single_frame_header(ds, path, fast_offset)]
    return FileHeaders(series_tags, slices, problem)


def _sop_name(ds: pydicom.Dataset) -> str:
    sop = ds.get("SOPClassUID")
    try:
        return UID(str(sop)).name if sop else "no SOP class"
    except Exception:
        return str(sop)


def _native_ok(ds: pydicom.Dataset) -> bool:
    """True when pixel values can be read straight from the file (little-endian, grey)."""
    bits = int(ds.get("BitsAllocated", 0) or 0)
    stored = int(ds.get("BitsStored", bits) or bits)
    signed = int(ds.get("PixelRepresentation", 0) or 0)
    return (
        bits in (8, 16, 32)
        and int(ds.get("SamplesPerPixel", 1) or 1) == 1
        and str(ds.get("PhotometricInterpretation", "MONOCHROME2")) == "MONOCHROME2"
        and (stored == bits or signed == 0)
    )


def _truncation_problem(ds: pydicom.Dataset, path: Path, offset: int | None, size: int) -> str | None:
    """A one-line problem when a native file's pixel data is missing or shorter than needed."""
    if offset is None:
        syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
        if syntax in _NATIVE_LE:
            # reading stopped at the end of the file: there is no pixel data element at all
            return f"file {path.name} has no pixel data (truncated or header-only)"
        return None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    expected = int(ds.Rows) * int(ds.Columns) * frames * int(ds.get("BitsAllocated", 16)) // 8
    available = size - offset
    if available < expected:
        return (f"file {path.name} is truncated: pixel data has {max(available, 0)} of "
                f"{expected} bytes")
    return None


def _single_frame_header(ds: pydicom.Dataset, path: Path, pixel_offset: int | None) -> SliceHeader:
    ipp = ds.get("ImagePositionPatient")
    iop = ds.get("ImageOrientationPatient")
    spacing = ds.get("PixelSpacing")
    slope = as_float(ds.get("RescaleSlope"))
    intercept = as_float(ds.get("RescaleIntercept"))
    instance = ds.get("InstanceNumber")
    echo_number = ds.get("EchoNumbers")
    return SliceHeader(
        path=path,
        frame=None,
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        position_lps_mm=_floats(ipp, 3),
        orientation=_floats(iop, 6),
        pixel_spacing_mm=_floats(spacing, 2),
        rescale_slope=1.0 if slope is None else slope,
        rescale_intercept=0.0 if intercept is None else intercept,
        instance_number=_int_or_none(instance),
        echo_number=_int_or_none(echo_number),
        echo_time_ms=as_float(ds.get("EchoTime")),
        pixel_offset=pixel_offset,
    )


def _floats(value: Any, count: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        items = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return items if len(items) == count else None


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (list, tuple)) or hasattr(value, "__len__") and not isinstance(value, str):
            value = list(value)[0]
        return int(value)
    except (TypeError, ValueError, IndexError):
        return None
