"""Enhanced multi-frame MR: per-frame geometry and rescale from the functional groups.

Each frame becomes one :class:`~bme_mri.ingest.models.SliceHeader`; values are looked up in
``PerFrameFunctionalGroupsSequence[frame]`` first, then ``SharedFunctionalGroupsSequence``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from bme_mri.ingest.models import SliceHeader, as_float


def is_enhanced(ds: Dataset) -> bool:
    """True when ``ds`` carries per-frame functional groups (enhanced multi-frame)."""
    return "PerFrameFunctionalGroupsSequence" in ds


def _group_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """The first item of functional group ``sequence`` for ``frame`` (per-frame, else shared)."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and frame < len(per_frame):
        group = per_frame[frame].get(sequence)
        if group:
            return group[0]
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        group = shared[0].get(sequence)
        if group:
            return group[0]
    return None


def frame_headers(ds: Dataset, path: Path, pixel_offset: int | None) -> list[SliceHeader]:
    """One :class:`SliceHeader` per frame of an enhanced multi-frame image."""
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    rows, columns = int(ds.Rows), int(ds.Columns)
    frame_bytes = rows * columns * int(ds.get("BitsAllocated", 16)) // 8
    headers = []
    for frame in range(n_frames):
        position = _group_item(ds, frame, "PlanePositionSequence")
        orientation = _group_item(ds, frame, "PlaneOrientationSequence")
        measures = _group_item(ds, frame, "PixelMeasuresSequence")
        transform = _group_item(ds, frame, "PixelValueTransformationSequence")
        echo = _group_item(ds, frame, "MREchoSequence")
        content = _group_item(ds, frame, "FrameContentSequence")
        diffusion = _group_item(ds, frame, "MRDiffusionSequence")
        ipp = position.get("ImagePositionPatient") if position is not None else None
        iop = orientation.get("ImageOrientationPatient") if orientation is not None else None
        spacing = measures.get("PixelSpacing") if measures is not None else None
        slope = as_float(transform.get("RescaleSlope")) if transform is not None else None
        intercept = as_float(transform.get("RescaleIntercept")) if transform is not None else None
        headers.append(SliceHeader(
            path=path,
            frame=frame,
            rows=rows,
            columns=columns,
            position_lps_mm=tuple(float(v) for v in ipp) if ipp else None,
            orientation=tuple(float(v) for v in iop) if iop else None,
            pixel_spacing_mm=tuple(float(v) for v in spacing) if spacing else None,
            rescale_slope=1.0 if slope is None else slope,
            rescale_intercept=0.0 if intercept is None else intercept,
            instance_number=_content_int(content, "InStackPositionNumber"),
            echo_number=None,
            echo_time_ms=as_float(echo.get("EffectiveEchoTime")) if echo is not None else None,
            pixel_offset=None if pixel_offset is None else pixel_offset + frame * frame_bytes,
            b_value=as_float(diffusion.get("DiffusionBValue")) if diffusion is not None else None,
            temporal_position=_content_int(content, "TemporalPositionIndex"),
        ))
    return headers


def _content_int(content: Dataset | None, keyword: str) -> int | None:
    if content is None or content.get(keyword) is None:
        return None
    try:
        return int(content.get(keyword))
    except (TypeError, ValueError):
        return None


def enhanced_series_tags(ds: Dataset) -> dict[str, Any]:
    """Acquisition tags that enhanced MR keeps inside functional groups, flattened to the
    classic keywords (RepetitionTime, EchoTime, InversionTime, ScanningSequence) for
    classification. Only keys absent at the top level are returned."""
    tags: dict[str, Any] = {}
    timing = _group_item(ds, 0, "MRTimingAndRelatedParametersSequence")
    if timing is not None and timing.get("RepetitionTime") is not None:
        tags["RepetitionTime"] = timing.get("RepetitionTime")
    echo = _group_item(ds, 0, "MREchoSequence")
    if echo is not None and echo.get("EffectiveEchoTime") is not None:
        tags["EchoTime"] = echo.get("EffectiveEchoTime")
    modifier = _group_item(ds, 0, "MRModifierSequence")
    if modifier is not None:
        if str(modifier.get("InversionRecovery", "")).upper() == "YES":
            tags["ScanningSequence"] = "IR"
        times = modifier.get("InversionTimes")
        if times:
            tags["InversionTime"] = times
    diffusion = _group_item(ds, 0, "MRDiffusionSequence")
    if diffusion is not None and diffusion.get("DiffusionBValue") is not None:
        tags["DiffusionBValue"] = diffusion.get("DiffusionBValue")
    if diffusion is not None and diffusion.get("DiffusionDirectionality"):
        tags["DiffusionDirectionality"] = diffusion.get("DiffusionDirectionality")
    frame_type = _group_item(ds, 0, "MRImageFrameTypeSequence")
    if frame_type is not None and frame_type.get("AcquisitionContrast"):
        tags["AcquisitionContrast"] = frame_type.get("AcquisitionContrast")
    if ds.get("PulseSequenceName"):
        tags["SequenceName"] = ds.get("PulseSequenceName")
    tags.update({k: v for k, v in _philips_frame_tags(ds).items() if k not in tags and k not in ds})
    return tags


# Philips enhanced MR repeats the classic acquisition tags per frame in a private item
# (2005,140F) of each per-frame group; dcm2niix reads it too. Only these keywords are taken.
_PHILIPS_FRAME_ITEM = 0x2005140F
_PHILIPS_FRAME_KEYWORDS = ("ScanningSequence", "SequenceVariant", "ScanOptions", "ContrastBolusAgent")


def _philips_frame_tags(ds: Dataset) -> dict[str, Any]:
    """The classic tags of the first frame's Philips private item, {} when absent."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if not per_frame or "PHILIPS" not in str(ds.get("Manufacturer", "")).upper():
        return {}
    element = per_frame[0].get(_PHILIPS_FRAME_ITEM)
    try:
        item = element.value[0] if element is not None and element.value else None
    except (TypeError, IndexError, AttributeError):
        return {}
    if item is None or not hasattr(item, "get"):
        return {}
    return {k: item.get(k) for k in _PHILIPS_FRAME_KEYWORDS if item.get(k) not in (None, "")}
