"""Walk an input file or folder, read headers only, and group patient -> study -> stack.

A SeriesInstanceUID is split into several stacks where it mixes echoes (always), or
orientations / image sizes (localizers always; other series only when ``ingest.strict`` is
false — in strict mode such a series stays one stack whose assembly error says what is mixed).
Every stack's geometry is assembled from its headers here, so a missing slice or a mixed
orientation is known before any pixel is read.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bme_mri.errors import GeometryError
from bme_mri.ingest.classify import classify_stack
from bme_mri.ingest.geometry import assemble_geometry, orientation_of
from bme_mri.ingest.headers import FileHeaders, SkipFile, read_file_headers
from bme_mri.ingest.models import Discovery, SkippedFile, SliceHeader, StackInfo, StudyInfo, as_float
from bme_mri.ingest.settings import IngestSettings
from bme_mri.ingest.nifti_input import nifti_companions
from bme_mri.types import SequenceClass


def _iter_files(root: Path, settings: IngestSettings) -> list[Path]:
    if root.is_file():
        return [root]
    found: list[Path] = []
    for folder, dirs, names in os.walk(root, followlinks=settings.follow_symlinks):
        dirs.sort()
        for name in sorted(names):
            found.append(Path(folder) / name)
    return found


def is_nifti_path(path: Path, settings: IngestSettings) -> bool:
    """True when ``path``'s name ends in one of ``settings.nifti_suffixes`` (case-insensitive)."""
    name = path.name.lower()
    return any(name.endswith(suffix.lower()) for suffix in settings.nifti_suffixes)


def _date(value: Any) -> str:
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return text
    return ""


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def discover(root: Path, settings: IngestSettings) -> Discovery:
    """Find every image stack under ``root`` (a file or folder) from headers only.

    Non-DICOM files, DICOMDIR and unreadable files are listed in ``Discovery.skipped`` with
    a reason; ``.nii``/``.nii.gz`` files become single-stack series (JSON sidecar if present).
    """
    root = Path(root)
    discovery = Discovery(root=root)
    if not root.exists():
        discovery.skipped.append(SkippedFile(root, "does not exist"))
        return discovery
    skip_names = {name.lower() for name in settings.skip_names}
    studies: dict[tuple[str, str], StudyInfo] = {}
    series_files: dict[tuple[str, str], dict[str, list[FileHeaders]]] = defaultdict(lambda: defaultdict(list))
    files = _iter_files(root, settings)
    nifti_files = {p for p in files if is_nifti_path(p, settings)}
    sidecars = {c for p in nifti_files for c in nifti_companions(p)}  # .json, .bval, .bvec
    for path in files:
        if path in sidecars:
            continue
        if path.name.lower() in skip_names:
            discovery.skipped.append(SkippedFile(path, f"{path.name}: index/auxiliary file, not an image"))
            continue
        if path in nifti_files:
            try:
                study, stack = _nifti_stack(path, settings)
            except SkipFile as exc:
                discovery.skipped.append(SkippedFile(path, str(exc)))
                continue
            key = (study.patient_id, study.study_uid)
            studies.setdefault(key, study).stacks.append(stack)
            continue
        try:
            headers = read_file_headers(path)
        except SkipFile as exc:
            discovery.skipped.append(SkippedFile(path, str(exc)))
            continue
        tags = headers.series_tags
        key = (_str(tags.get("PatientID")) or "unknown", _str(tags.get("StudyInstanceUID")) or "unknown-study")
        if key not in studies:
            studies[key] = StudyInfo(
                patient_id=key[0], patient_name=_str(tags.get("PatientName")), study_uid=key[1],
                study_date=_date(tags.get("StudyDate")), study_time=_str(tags.get("StudyTime")))
        series_files[key][_str(tags.get("SeriesInstanceUID")) or "unknown-series"].append(headers)
    for key, by_series in series_files.items():
        for series_uid, file_headers in by_series.items():
            studies[key].stacks.extend(_series_stacks(series_uid, file_headers, settings))
    for study in studies.values():
        study.stacks.sort(key=lambda s: (s.series_number if s.series_number is not None else 1 << 30, s.stack_id))
    discovery.studies = sorted(studies.values(), key=lambda s: (s.patient_id, s.study_date, s.study_time, s.study_uid))
    return discovery


def _split_keys(slices: list[SliceHeader], tolerance: float, oblique_deg: float
                ) -> tuple[list[str], list[str], list[str]]:
    """Per slice: acquisition key (echo, diffusion b-value, dynamic phase), size key,
    orientation key."""
    echo = [str(s.echo_number) if s.echo_number is not None else
            (f"{s.echo_time_ms:g}" if s.echo_time_ms is not None else "") for s in slices]
    bval = [f"{s.b_value:g}" if s.b_value is not None else "" for s in slices]
    phase = [str(s.temporal_position) if s.temporal_position is not None else "" for s in slices]
    keys = []
    for e, b, t in zip(echo, bval, phase):
        parts = []
        if len(set(echo)) > 1:
            parts.append(f"e{e}")
        if len(set(bval)) > 1:  # a multi-b diffusion acquisition: one stack per b-value
            parts.append(f"b{b}")
        if len(set(phase)) > 1:  # a dynamic series: one stack per phase
            parts.append(f"t{t}")
        keys.append("_".join(parts))
    echo = keys
    size = [f"{s.columns}x{s.rows}" for s in slices]
    clusters: list[np.ndarray] = []
    orient = []
    for s in slices:
        if s.orientation is None:
            orient.append("")
            continue
        iop = np.asarray(s.orientation, float)
        for n, ref in enumerate(clusters):
            if np.max(np.abs(iop - ref)) <= tolerance:
                break
        else:
            clusters.append(iop)
            n = len(clusters) - 1
        orient.append(f"{orientation_of(s.orientation, oblique_deg)}{n}")
    return echo, size, orient


def series_facts(slices: list[SliceHeader]) -> dict[str, Any]:
    """What only the whole series tells the classifier (:func:`classify_stack`):
    ``SeriesBValues`` (every b-value, s/mm^2), ``SeriesTemporalPositions`` (distinct temporal
    positions) and ``SeriesRepeatedPositions`` (images at each slice position with the same
    orientation, echo, b-value and phase, when every position has that many and more than one:
    a time series or diffusion directions, as fMRI and DTI write them; one stray duplicate is not)."""
    facts: dict[str, Any] = {}
    b_values = sorted({s.b_value for s in slices if s.b_value is not None})
    if b_values:
        facts["SeriesBValues"] = tuple(b_values)
    phases = {s.temporal_position for s in slices if s.temporal_position is not None}
    if len(phases) > 1:
        facts["SeriesTemporalPositions"] = len(phases)
    counts: dict[tuple, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
    for s in slices:
        if s.position_lps_mm is None:
            continue
        acquisition = (tuple(round(v, 3) for v in s.orientation) if s.orientation else None,
                       s.echo_number, s.echo_time_ms, s.b_value, s.temporal_position)
        counts[acquisition][tuple(round(v, 2) for v in s.position_lps_mm)] += 1
    uniform = [min(c.values()) for c in counts.values() if len(set(c.values())) == 1]
    if uniform and max(uniform) > 1:  # every position of an acquisition the same number of times: 4-D
        facts["SeriesRepeatedPositions"] = max(uniform)
    return facts


def _series_stacks(series_uid: str, file_headers: list[FileHeaders], settings: IngestSettings) -> list[StackInfo]:
    slices = [s for fh in file_headers for s in fh.slices]
    tags = {**file_headers[0].series_tags, **series_facts(slices)}
    problems = [fh.problem for fh in file_headers if fh.problem]
    series_class = classify_stack(tags, settings).sequence
    echo, size, orient = _split_keys(slices, settings.geometry.orientation_tolerance,
                                     settings.geometry.oblique_tolerance_deg)
    split_geometry = series_class == SequenceClass.LOCALIZER or not settings.strict
    keys = []
    for e, sz, o in zip(echo, size, orient):
        parts = [e] if e else []
        if split_geometry and len(set(orient)) > 1:
            parts.append(o)
        if split_geometry and len(set(size)) > 1:
            parts.append(sz)
        keys.append("_".join(parts))
    groups: dict[str, list[SliceHeader]] = defaultdict(list)
    for key, item in zip(keys, slices):
        groups[key].append(item)
    note = None
    if len(groups) > 1 and (len(set(orient)) > 1 or len(set(size)) > 1) and series_class != SequenceClass.LOCALIZER:
        note = f"series mixes {len(set(orient))} orientation(s) / {len(set(size))} image size(s); split into {len(groups)} stacks"
    stacks = []
    for key, group in groups.items():
        stack_tags = dict(tags)
        if key and group[0].echo_time_ms is not None:
            stack_tags["EchoTime"] = group[0].echo_time_ms
        if group[0].b_value is not None:
            stack_tags["DiffusionBValue"] = group[0].b_value
        if key and group[0].temporal_position is not None:
            stack_tags["TemporalPositionIdentifier"] = group[0].temporal_position
        stack = _make_stack(f"{series_uid}_{key}" if key else series_uid, series_uid, stack_tags, group, settings)
        if note:
            stack.warnings.append(note)
        if problems and stack.error is None:
            stack.error = f"{stack.label}: {problems[0]} — re-export the series"
        stacks.append(stack)
    return stacks


def _make_stack(stack_id: str, series_uid: str, tags: dict[str, Any], slices: list[SliceHeader],
                settings: IngestSettings) -> StackInfo:
    found = classify_stack(tags, settings)
    first = slices[0]
    number = tags.get("SeriesNumber")
    stack = StackInfo(
        stack_id=stack_id, series_uid=series_uid,
        series_number=int(number) if number not in (None, "") else None,
        description=_str(tags.get("SeriesDescription")), protocol=_str(tags.get("ProtocolName")),
        manufacturer=_str(tags.get("Manufacturer")), modality=_str(tags.get("Modality")),
        sequence=found.sequence, classification_reason=found.reason, subtype=found.subtype,
        orientation=orientation_of(first.orientation, settings.geometry.oblique_tolerance_deg)
        if first.orientation else "",
        rows=first.rows, columns=first.columns, n_slices=len(slices),
        pixel_spacing=first.pixel_spacing_mm, files=sorted({s.path for s in slices}),
        headers=tags, slices=slices)
    quiet = found.sequence == SequenceClass.DERIVED  # screenshots and reformats: listed, never used
    if stack.modality != "MR":
        if not quiet:
            stack.error = (f"{stack.label}: modality {stack.modality or 'missing'}, not MR — listed but "
                           "never analysed")
        return stack
    for key in ("SliceThickness", "SpacingBetweenSlices"):
        value = as_float(tags.get(key))
        if value is not None and not 0.0 < value <= settings.geometry.max_slice_thickness_mm:
            stack.warnings.append(f"{key} {value:g} mm is not a plausible MR slice (0-"
                                  f"{settings.geometry.max_slice_thickness_mm:g} mm): not used; the slice "
                                  "spacing comes from the slice positions")
    fallback = next((v for v in (as_float(tags.get("SpacingBetweenSlices")), as_float(tags.get("SliceThickness")))
                     if v is not None and 0.0 < v <= settings.geometry.max_slice_thickness_mm), None)
    try:
        assembly = assemble_geometry(slices, stack.label, settings, fallback)
    except GeometryError as exc:
        repeats = int(tags.get("SeriesRepeatedPositions") or 0)
        if quiet:
            stack.warnings.append(f"not assembled (derived images, never analysed): {exc}")
        elif repeats >= 2 and found.sequence.value not in ("stir", "t2fs", "t2", "t1", "pd"):
            kind = f"{found.sequence.value}/{found.subtype}" if found.subtype else found.sequence.value
            stack.error = (f"{stack.label}: {repeats} images at every slice position, a 4-D {kind} series "
                           "(time points, diffusion directions or repeats); bme-mri reads 3-D volumes only and "
                           "never analyses it (dcm2niix converts 4-D series)")
        else:
            stack.error = str(exc)
        return stack
    stack.geometry = assembly.geometry
    stack.warnings.extend(assembly.warnings)
    return stack


def _nifti_stack(path: Path, settings: IngestSettings) -> tuple[StudyInfo, StackInfo]:
    """One NIfTI file as a study with one stack (see :mod:`bme_mri.ingest.nifti_input`)."""
    from bme_mri.ingest.nifti_input import nifti_stack

    return nifti_stack(path, settings)
