"""Read the pixel values of assembled slices, once each, and apply per-slice rescale.

Native little-endian images are read straight from the byte offset recorded at discovery;
everything else (compressed syntaxes: JPEG lossless, JPEG 2000, JPEG-LS, RLE; big endian)
goes through pydicom and its decoder plug-ins (pylibjpeg, python-gdcm).
"""

from __future__ import annotations

import re

from collections import defaultdict

import numpy as np
import pydicom

from bme_mri.errors import DicomReadError
from bme_mri.ingest.models import SliceHeader
from bme_mri.types import Geometry


def _decode_with_pydicom(path, label: str) -> np.ndarray:
    try:
        ds = pydicom.dcmread(path)
    except PermissionError:
        raise DicomReadError(f"{label}: file {path.name} is unreadable (permission denied)") from None
    except Exception as exc:
        raise DicomReadError(f"{label}: file {path.name} cannot be read ({_first_line(exc)})") from exc
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    try:
        return ds.pixel_array
    except Exception as exc:
        name = getattr(syntax, "name", str(syntax))
        raise DicomReadError(
            f"{label}: cannot decode pixel data of {path.name} ({name}): {_first_line(exc)} — "
            f"{_decode_advice(syntax, str(exc))}") from exc


def _decode_advice(syntax, error: str = "") -> str:
    """What a user can do about pixel data pydicom could not decode: installing decoder
    plug-ins helps only for a known compressed syntax whose decoder is missing (or that
    pydicom's own error says lacks a plug-in)."""
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    uid = UID(str(syntax)) if syntax else None
    if uid is None or not uid.is_transfer_syntax:
        return (f"the transfer syntax {uid or '(none)'} is not a DICOM standard one, no decoder reads it: "
                "re-export the series from the scanner or PACS uncompressed (explicit VR little endian)")
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        return f"no decoder exists for {uid.name}: re-export the series uncompressed (explicit VR little endian)"
    if not decoder.is_available or re.search(r"no plugins|no plug-ins|not available|missing|dependenc", error, re.IGNORECASE):
        return (f"install a decoder plug-in for {uid.name} (pylibjpeg with its libjpeg / openjpeg plug-ins, "
                "python-gdcm) or re-export the series uncompressed")
    return ("the installed decoders support this syntax, so the file's compressed data are damaged or of a "
            "variant they do not read: re-export the series uncompressed (explicit VR little endian)")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def read_rescaled(ordered: list[SliceHeader], geometry: Geometry, label: str) -> np.ndarray:
    """float32 ``[i, j, k]`` array: slice k = ``ordered[k]``, value = stored x slope + intercept."""
    array = np.empty(geometry.shape, dtype=np.float32)
    by_file: dict[object, list[tuple[int, SliceHeader]]] = defaultdict(list)
    for k, item in enumerate(ordered):
        by_file[item.path].append((k, item))
    for path, items in by_file.items():
        if all(item.pixel_offset is not None for _, item in items):
            planes = _read_native(path, items, label)
        else:
            decoded = _decode_with_pydicom(path, label)
            planes = []
            for _, item in items:
                plane = decoded[item.frame] if item.frame is not None and decoded.ndim == 3 else decoded
                if plane.shape != (item.rows, item.columns):
                    raise DicomReadError(f"{label}: file {path.name} decodes to {plane.shape}, header "
                                         f"says {item.rows}x{item.columns}")
                planes.append(plane)
        for (k, item), plane in zip(items, planes):
            values = plane.astype(np.float64) * item.rescale_slope + item.rescale_intercept
            array[:, :, k] = values.T
    return array


def _read_native(path, items: list[tuple[int, SliceHeader]], label: str) -> list[np.ndarray]:
    planes = []
    try:
        with open(path, "rb") as handle:
            for _, item in items:
                dtype = np.dtype(item.pixel_dtype)
                count = item.rows * item.columns
                handle.seek(item.pixel_offset)
                raw = handle.read(count * dtype.itemsize)
                if len(raw) < count * dtype.itemsize:
                    raise DicomReadError(f"{label}: file {path.name} is truncated: pixel data has "
                                         f"{len(raw)} of {count * dtype.itemsize} bytes")
                planes.append(np.frombuffer(raw, dtype=dtype).reshape(item.rows, item.columns))
    except PermissionError:
        raise DicomReadError(f"{label}: file {path.name} is unreadable (permission denied)") from None
    except OSError as exc:
        if isinstance(exc, DicomReadError):
            raise
        raise DicomReadError(f"{label}: file {path.name} cannot be read ({exc.strerror or exc})") from exc
    return planes
