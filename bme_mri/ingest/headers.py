"""Read the header of one DICOM file (never its pixel data) into slice headers.

Only the tags ingest needs are decoded: by :mod:`bme_mri.ingest.fastheader` for ordinary
little-endian files, by pydicom (``specific_tags``, ``stop_before_pixels``) otherwise. The
byte offset of native pixel data is recorded, which lets discovery detect a truncated file
cheaply and lets assembly read each slice's pixels exactly once.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from bme_mri.ingest.fastheader import read_header_fast
from bme_mri.ingest.models import SliceHeader, as_float
from bme_mri.ingest.multiframe import enhanced_series_tags, frame_headers, is_enhanced

SERIES_KEYWORDS = (
    "PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "StudyTime",
    "StudyDescription", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription",
    "ProtocolName", "Manufacturer", "ManufacturerModelName", "Modality", "SOPClassUID",
    "SequenceName", "PulseSequenceName", "ScanningSequence", "SequenceVariant", "ScanOptions",
    "InversionTime", "EchoTime", "RepetitionTime", "ImageType", "MagneticFieldStrength",
    "SliceThickness", "SpacingBetweenSlices", "BodyPartExamined", "ContrastBolusAgent",
    "NumberOfTemporalPositions", "DiffusionBValue", "DiffusionDirectionality", "AcquisitionContrast",
    "EchoPulseSequence", "EchoPlanarPulseSequence",
)
SLICE_KEYWORDS = (
    "Rows", "Columns", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
    "RescaleSlope", "RescaleIntercept", "InstanceNumber", "EchoNumbers", "NumberOfFrames",
    "BitsAllocated", "BitsStored", "PixelRepresentation", "SamplesPerPixel",
    "PhotometricInterpretation", "PerFrameFunctionalGroupsSequence",
    "SharedFunctionalGroupsSequence", "DirectoryRecordSequence", "TemporalPositionIdentifier",
    "ImageComments",
)
_KEYWORDS = (*SERIES_KEYWORDS, *SLICE_KEYWORDS)
# Vendor b-value tags (s/mm^2), as dcm2niix reads them; each is trusted only for its vendor.
# (tag, name, VR, Manufacturer pattern). GE writes b + 1e9 in some software versions.
VENDOR_B_VALUE_TAGS = (
    (0x0019100C, "SiemensDiffusionBValue", "IS", "SIEMENS"),  # SIEMENS MR HEADER B_value
    (0x00431039, "GEDiffusionBValue", "IS", "GE"),  # GEMS_PARM_01 slop_int_6 (first value)
    (0x20011003, "PhilipsDiffusionBValue", "FL", "PHILIPS"),  # Philips Imaging DD 001
)
# Canon (ex-Toshiba) classic DICOM keeps the b-value of a diffusion image in ImageComments,
# 'b=1500(0.445,0.000,0.895)' (dcm2niix's Canon notes); read only for those makers.
_COMMENT_B_VALUE_MAKERS = ("CANON", "TOSHIBA")
_COMMENT_B_VALUE = re.compile(r"^\s*b\s*=\s*(\d{1,5}(?:\.\d+)?)\s*(?:\(|$)", re.IGNORECASE)
_PRIVATE = tuple((tag, name, vr) for tag, name, vr, _ in VENDOR_B_VALUE_TAGS)
PRIVATE_NAMES = tuple(name for _, name, _, _ in VENDOR_B_VALUE_TAGS)
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


def read_file_headers(path: Path) -> FileHeaders:
    """Header facts of one file; raises :class:`SkipFile` with a reason to leave it out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's value warnings: the library never prints
        try:
            return _read_file_headers(path)
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


def _read_file_headers(path: Path) -> FileHeaders:
    fast = read_header_fast(path, _KEYWORDS, private=_PRIVATE)
    if fast is not None:
        tags, syntax, pixel_offset, size = fast
        media_sop = ""
        dataset = None
    else:
        dataset, pixel_offset, size = _read_with_pydicom(path)
        meta = getattr(dataset, "file_meta", None)
        syntax = str(getattr(meta, "TransferSyntaxUID", "") or "")
        media_sop = str(getattr(meta, "MediaStorageSOPClassUID", "") or "")
        tags = {kw: dataset.get(kw) for kw in _KEYWORDS if kw in dataset}
        tags.update(_private_values(dataset))
    if media_sop == _DICOMDIR_SOP or tags.get("DirectoryRecordSequence") is not None:
        raise SkipFile("DICOMDIR index, not an image")
    if "Rows" not in tags or "Columns" not in tags:
        raise SkipFile(f"DICOM without an image ({_sop_name(tags.get('SOPClassUID'))})")
    series_tags = {kw: tags[kw] for kw in (*SERIES_KEYWORDS, *PRIVATE_NAMES) if tags.get(kw) is not None}
    enhanced = dataset is not None and is_enhanced(dataset)
    if enhanced:
        for key, value in enhanced_series_tags(dataset).items():
            series_tags.setdefault(key, value)
    problem = _truncation_problem(tags, syntax, path, pixel_offset, size)
    fast_offset = pixel_offset if problem is None and syntax in _NATIVE_LE and _native_ok(tags) else None
    if enhanced:
        slices = frame_headers(dataset, path, fast_offset)
    else:
        slices = [_single_frame_header(tags, path, fast_offset)]
    if fast_offset is not None:
        kind = "i" if _int(tags.get("PixelRepresentation"), 0) == 1 else "u"
        for item in slices:
            item.pixel_dtype = f"<{kind}{_int(tags.get('BitsAllocated'), 16) // 8}"
    return FileHeaders(series_tags, slices, problem)


def _read_with_pydicom(path: Path) -> tuple[pydicom.Dataset, int | None, int]:
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        try:
            ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=_SPECIFIC_TAGS)
        except InvalidDicomError:
            handle.seek(0)
            ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=_SPECIFIC_TAGS, force=True)
            if "SOPClassUID" not in ds or "Rows" not in ds:
                raise SkipFile("not a DICOM file (no DICM preamble, no image tags)") from None
        position = handle.tell()
        header = handle.read(12)
    if position >= size or len(header) < 8:
        return ds, None, size
    return ds, _pixel_data_start(ds, position, header), size


def _pixel_data_start(ds: pydicom.Dataset, position: int, header: bytes) -> int | None:
    """Byte offset where native little-endian pixel values start, or None."""
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    if syntax not in _NATIVE_LE or header[:4] != b"\xe0\x7f\x10\x00":
        return None
    if syntax == "1.2.840.10008.1.2.1" and header[4:6] in _LONG_VRS:
        return position + 12
    return position + 8


_SPECIFIC_TAGS = [*_KEYWORDS, *(tag for tag, _, _ in _PRIVATE)]


def _private_values(ds: pydicom.Dataset) -> dict[str, Any]:
    """The vendor b-value tags of a pydicom dataset, decoded with their known VR."""
    values: dict[str, Any] = {}
    for tag, name, vr in _PRIVATE:
        element = ds.get(tag)
        if element is None or element.value in (None, b"", ""):
            continue
        value = element.value
        if isinstance(value, bytes):
            try:
                value = (list(np.frombuffer(value[: len(value) // 4 * 4], "<f4")) if vr == "FL"
                         else value.decode("ascii", "replace").strip("\x00 ").split("\\"))
            except ValueError:
                continue
        values[name] = value
    return values


def b_value_of(tags: Mapping[str, Any]) -> float | None:
    """Diffusion b-value (s/mm^2) of one image: DiffusionBValue, else the vendor's private tag.

    A vendor tag is read only when Manufacturer names that vendor (private tags of other
    vendors can reuse the same numbers). GE's first value may carry a 1e9 offset.
    """
    standard = as_float(tags.get("DiffusionBValue"))
    if standard is not None:
        return standard
    manufacturer = str(tags.get("Manufacturer") or "").upper()
    for _, name, _, vendor in VENDOR_B_VALUE_TAGS:
        if vendor not in manufacturer or tags.get(name) is None:
            continue
        value = as_float(tags.get(name))
        if value is None:
            continue
        if value >= 1e9:
            value -= 1e9
        return value if 0 <= value < 1e5 else None
    if any(maker in manufacturer for maker in _COMMENT_B_VALUE_MAKERS):
        match = _COMMENT_B_VALUE.search(str(tags.get("ImageComments") or ""))
        if match:
            return float(match.group(1))
    return None


def _sop_name(sop: Any) -> str:
    try:
        return UID(str(sop)).name if sop else "no SOP class"
    except Exception:
        return str(sop)


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _native_ok(tags: Mapping[str, Any]) -> bool:
    """True when pixel values can be read straight from the file (little-endian, grey)."""
    bits = _int(tags.get("BitsAllocated"), 0)
    stored = _int(tags.get("BitsStored"), bits)
    return (
        bits in (8, 16, 32)
        and _int(tags.get("SamplesPerPixel"), 1) == 1
        and str(tags.get("PhotometricInterpretation", "MONOCHROME2")).strip() == "MONOCHROME2"
        and (stored == bits or _int(tags.get("PixelRepresentation"), 0) == 0)
    )


def _truncation_problem(tags: Mapping[str, Any], syntax: str, path: Path, offset: int | None,
                        size: int) -> str | None:
    """A one-line problem when a native file's pixel data is missing or shorter than needed."""
    if syntax not in _NATIVE_LE:
        return None
    if offset is None:  # the header ran to the end of the file: no pixel data element at all
        return f"file {path.name} has no pixel data (truncated or header-only)"
    frames = _int(tags.get("NumberOfFrames"), 1)
    expected = _int(tags.get("Rows"), 0) * _int(tags.get("Columns"), 0) * frames * _int(tags.get("BitsAllocated"), 16) // 8
    available = size - offset
    if available < expected:
        return f"file {path.name} is truncated: pixel data has {max(available, 0)} of {expected} bytes"
    return None


def _single_frame_header(tags: Mapping[str, Any], path: Path, pixel_offset: int | None) -> SliceHeader:
    slope = as_float(tags.get("RescaleSlope"))
    intercept = as_float(tags.get("RescaleIntercept"))
    return SliceHeader(
        path=path,
        frame=None,
        rows=int(tags["Rows"]),
        columns=int(tags["Columns"]),
        position_lps_mm=_floats(tags.get("ImagePositionPatient"), 3),
        orientation=_floats(tags.get("ImageOrientationPatient"), 6),
        pixel_spacing_mm=_floats(tags.get("PixelSpacing"), 2),
        rescale_slope=1.0 if slope is None else slope,
        rescale_intercept=0.0 if intercept is None else intercept,
        instance_number=_int_or_none(tags.get("InstanceNumber")),
        echo_number=_int_or_none(tags.get("EchoNumbers")),
        echo_time_ms=as_float(tags.get("EchoTime")),
        pixel_offset=pixel_offset,
        b_value=b_value_of(tags),
        temporal_position=_int_or_none(tags.get("TemporalPositionIdentifier")),
    )


def _floats(value: Any, count: int) -> tuple[float, ...] | None:
    if value is None or isinstance(value, (str, bytes)):
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
        if not isinstance(value, (str, int, float)) and hasattr(value, "__len__"):
            value = list(value)[0]
        return int(float(value))
    except (TypeError, ValueError, IndexError):
        return None
