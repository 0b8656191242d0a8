"""NIfTI files as input: one stack per file, identity from the JSON sidecar or BIDS names.

A ``.nii`` / ``.nii.gz`` file becomes one :class:`~bme_mri.ingest.models.StackInfo` of one
:class:`~bme_mri.ingest.models.StudyInfo`. What the file is (its
:class:`~bme_mri.types.SequenceClass`) is decided in this order:

1. the sidecar field ``"bme_mri_sequence"`` (written by ``bme-mri convert``; a user may add it
   to a dcm2niix sidecar);
2. the DICOM classification rules applied to the sidecar's tags (BIDS / dcm2niix names:
   ``InversionTime`` etc. in seconds) and the file name.

Nothing known -> ``other``, never analysed; :func:`selection_hint` then tells the user how to
say what the file is: ``--sequence`` on the command line (:func:`apply_sequence_override`)
names the files nothing identifies, and a single file given alone. Such a file that holds only a few integer values
(``ingest.nifti_label_map_max_values``) is a mask or label map: it is listed as skipped, so
neither ``--sequence`` nor the hint ever applies to it.

Identity: ``PatientID`` / ``StudyInstanceUID`` / ``StudyDate`` from the sidecar, else the BIDS
``sub-`` / ``ses-`` entities of the file name or its folders (a ``ses-`` label of 8 digits is
read as the date), else unknown: the patient id is then ``""`` (a follow-up cannot be checked
to be the same patient), and the study is the file's folder when the file has a JSON sidecar
(a converter's output: dcm2niix run on one study writes its series into one folder), else the
file itself (a folder of bare files may hold many patients).

Geometry: the NIfTI affine maps voxels to RAS mm; :class:`~bme_mri.types.Geometry` keeps LPS
(``Geometry.from_affine_ras``). A file with neither a qform nor an sform (left and right
unknown) or with a sheared affine is listed with an error and never analysed.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from bme_mri.errors import BmeError, SequenceConflictError
from bme_mri.ingest.classify import classify_stack
from bme_mri.ingest.headers import SkipFile
from bme_mri.ingest.models import Discovery, StackInfo, StudyInfo, as_float
from bme_mri.ingest.select import study_contents
from bme_mri.ingest.settings import IngestSettings
from bme_mri.nifti import sidecar_path
from bme_mri.types import Geometry, SequenceClass

SEQUENCE_FIELD = "bme_mri_sequence"  # sidecar key naming the SequenceClass of a NIfTI file
_BIDS_ENTITY = re.compile(r"^(sub|ses)-([A-Za-z0-9]+)$")
_THICK_SLICE_RATIO = 1.2  # spacing ratio above which an array axis is read as the slice axis
_SHEAR_TOLERANCE = 1e-3  # |cos| between voxel axes above this: the affine is sheared (not a grid)


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any) -> str:
    """YYYY-MM-DD from 'YYYYMMDD', 'YYYY-MM-DD' or an ISO date-time; '' otherwise."""
    text = _str(value)
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if len(text) >= 10 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text[:10]):
        return text[:10]
    return ""


def nifti_stem(path: Path) -> str:
    """``sub-1_STIR.nii.gz`` -> ``sub-1_STIR``."""
    name = Path(path).name
    for ext in (".nii.gz", ".nii"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return Path(path).stem


def nifti_companions(path: Path) -> list[Path]:
    """Files that belong to a NIfTI file and are not images: its JSON sidecar, dcm2niix's
    diffusion ``.bval`` / ``.bvec``."""
    side = sidecar_path(path)
    return [side, side.with_suffix(".bval"), side.with_suffix(".bvec")]


def bids_entities(path: Path) -> dict[str, str]:
    """``sub`` and ``ses`` labels from the file name, else from its parent folders."""
    found: dict[str, str] = {}
    for part in nifti_stem(path).split("_"):
        match = _BIDS_ENTITY.match(part)
        if match:
            found.setdefault(match.group(1), match.group(2))
    for folder in list(Path(path).parents)[:3]:
        match = _BIDS_ENTITY.match(folder.name)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def _read_sidecar(path: Path) -> tuple[dict[str, Any], list[str]]:
    side = sidecar_path(path)
    if not side.is_file():
        return {}, []
    try:
        loaded = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [f"JSON sidecar {side.name} unreadable ({type(exc).__name__}); ignored"]
    if not isinstance(loaded, dict):
        return {}, [f"JSON sidecar {side.name} is not a JSON object; ignored"]
    return loaded, []


def _study_of(path: Path, sidecar: dict[str, Any]) -> StudyInfo:
    bids = bids_entities(path)
    patient = _str(sidecar.get("PatientID")) or bids.get("sub", "")
    study_uid = _str(sidecar.get("StudyInstanceUID"))
    if not study_uid and "sub" in bids:
        study_uid = f"sub-{bids['sub']}" + (f"_ses-{bids['ses']}" if "ses" in bids else "")
    if not study_uid and sidecar:  # a converter's output (dcm2niix writes one folder per study)
        folder = Path(path).resolve().parent
        study_uid = f"nifti-folder-{folder.name}-{hashlib.sha1(str(folder).encode()).hexdigest()[:8]}"
    if not study_uid:  # nothing ties this file to others: it is a study of its own
        digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:8]
        study_uid = f"nifti-{nifti_stem(path)}-{digest}"
    date = (_date(sidecar.get("StudyDate")) or _date(sidecar.get("AcquisitionDate"))
            or _date(sidecar.get("AcquisitionDateTime")) or _date(bids.get("ses")))
    return StudyInfo(patient_id=patient, patient_name=_str(sidecar.get("PatientName")), study_uid=study_uid,
                     study_date=date, study_time=_str(sidecar.get("StudyTime") or sidecar.get("AcquisitionTime")))


def _classify(stem: str, sidecar: dict[str, Any], settings: IngestSettings
              ) -> tuple[SequenceClass, str, dict[str, Any], list[str]]:
    # BIDS / dcm2niix sidecar keys are DICOM keywords: every classification rule sees them all
    tags = {k: v for k, v in sidecar.items() if isinstance(v, (str, int, float, list)) and not isinstance(v, bool)}
    tags.setdefault("SeriesDescription", stem)
    for key in ("EchoTime", "RepetitionTime", "InversionTime"):  # BIDS sidecars use seconds
        value = as_float(sidecar.get(key))
        if value is not None:
            tags[key] = value * 1000.0
    warnings: list[str] = []
    named = sidecar.get(SEQUENCE_FIELD)
    if named is not None:
        values = {c.value for c in SequenceClass}
        text = _str(named).lower()
        if text in values:
            return SequenceClass(text), f"{SEQUENCE_FIELD} '{text}' in the JSON sidecar", tags, warnings
        warnings.append(f"sidecar {SEQUENCE_FIELD} {_str(named)!r} is not one of {', '.join(sorted(values))}; "
                        "ignored, the file was classified from its tags and name")
    found = classify_stack(tags, settings)
    return found.sequence, found.reason, tags, warnings


def _label_values(image: Any, max_values: int) -> list[float] | None:
    """The distinct values of a NIfTI holding at most ``max_values`` integers, else None.

    Only called for 3-D files nothing else identifies (class ``other``): reads their pixels once.
    """
    try:
        data = np.asarray(image.dataobj)
    except Exception:  # noqa: BLE001 - unreadable pixels: let loading report it later
        return None
    if data.size == 0:
        return None
    values = np.unique(data[np.isfinite(data)] if data.dtype.kind == "f" else data)
    if values.size > max_values or not np.all(np.equal(np.mod(values, 1), 0)):
        return None
    return [float(v) for v in values]


def nifti_stack(path: Path, settings: IngestSettings) -> tuple[StudyInfo, StackInfo]:
    """One NIfTI file as a study with one stack (headers; only a file nothing identifies has its
    pixels read, to tell a mask from an image).

    Raises
    ------
    SkipFile
        The file is not readable NIfTI, or is a mask / label map (listed in ``skipped_files.csv``).
    """
    import nibabel as nib

    try:
        image = nib.load(str(path))
        shape = tuple(int(v) for v in image.shape)
        affine = np.asarray(image.affine, float)
        header = image.header
        codes = (int(header["qform_code"]), int(header["sform_code"])) if "sform_code" in header else (1, 1)
    except Exception as exc:  # nibabel raises many types for a bad file
        raise SkipFile(f"not a readable NIfTI file ({type(exc).__name__})") from None
    sidecar, warnings = _read_sidecar(path)
    stem = nifti_stem(path)
    sequence, reason, tags, class_warnings = _classify(stem, sidecar, settings)
    if sequence == SequenceClass.OTHER and (len(shape) == 3 or shape[3:] == (1,)):
        values = _label_values(image, settings.nifti_label_map_max_values)
        if values is not None:
            raise SkipFile(f"a mask / label map ({len(values)} distinct values: "
                           f"{', '.join(f'{v:g}' for v in values[:6])}{' ...' if len(values) > 6 else ''}), "
                           "not an image")
    series_uid = _str(sidecar.get("SeriesInstanceUID")) or f"nifti:{path.name}"
    # one file = one stack: dcm2niix writes several files per series (echoes, phase), and a tree may
    # hold a series both as DICOM and as NIfTI; the file name keeps their stack ids apart
    stack_id = series_uid if series_uid == f"nifti:{path.name}" else f"{series_uid}#{path.name}"
    number = sidecar.get("SeriesNumber")
    stack = StackInfo(
        stack_id=stack_id, series_uid=series_uid,
        series_number=int(number) if isinstance(number, (int, float, str)) and str(number).isdigit() else None,
        description=_str(tags.get("SeriesDescription")), protocol=_str(tags.get("ProtocolName")),
        manufacturer=_str(tags.get("Manufacturer")), modality=_str(sidecar.get("Modality")) or "MR",
        sequence=sequence, classification_reason=reason, orientation="",
        rows=shape[1] if len(shape) > 1 else 0, columns=shape[0], n_slices=shape[2] if len(shape) > 2 else 1,
        pixel_spacing=None, files=[path], nifti_path=path, headers=tags,
        warnings=warnings + class_warnings)
    study = _study_of(path, sidecar)
    squeezed = shape[:3] if len(shape) == 4 and shape[3] == 1 else shape
    if len(squeezed) == 4:
        stack.error = (f"{stack.label}: NIfTI {path.name} is 4-D ({shape[3]} volumes of {shape[:3]}: "
                       "diffusion, dynamic or multi-echo); one 3-D image is analysed, not a series of them")
        return study, stack
    if len(squeezed) != 3:
        stack.error = f"{stack.label}: NIfTI {path.name} has shape {shape}, expected a 3-D image"
        return study, stack
    if codes == (0, 0):
        stack.error = (f"{stack.label}: NIfTI {path.name} has neither a qform nor an sform (both codes 0), "
                       "so left and right are unknown; rewrite it with its scanner affine")
        return study, stack
    geometry = Geometry.from_affine_ras(affine, squeezed)
    cosines = np.abs(geometry.direction_lps.T @ geometry.direction_lps - np.eye(3))
    if not np.all(np.isfinite(affine)) or min(geometry.spacing_mm) <= 0 or cosines.max() > _SHEAR_TOLERANCE:
        stack.error = (f"{stack.label}: NIfTI {path.name} affine is not a regular grid (sheared, zero or "
                       "non-finite voxel size); reslice it first")
        return study, stack
    stack.geometry = geometry
    stack.orientation = acquisition_plane(geometry, settings.geometry.oblique_tolerance_deg)
    stack.pixel_spacing = (geometry.spacing_mm[1], geometry.spacing_mm[0])
    if stack.modality != "MR":
        stack.error = f"{stack.label}: modality {stack.modality}, not MR — listed but never analysed"
    return study, stack


def acquisition_plane(geometry: Geometry, oblique_tol_deg: float) -> str:
    """'axial' / 'coronal' / 'sagittal' / 'oblique' of the slices of a NIfTI volume.

    A NIfTI may store its slices along any array axis (a coronal STIR reoriented to RAS keeps
    its 4 mm slices along j): the slice normal is the axis whose spacing is clearly the largest
    (> ``_THICK_SLICE_RATIO`` x the others), else the k axis as in DICOM.
    """
    spacing = np.asarray(geometry.spacing_mm)
    thickest = int(np.argmax(spacing))
    others = np.delete(spacing, thickest)
    axis = thickest if spacing[thickest] > _THICK_SLICE_RATIO * others.max() else 2
    if axis == 2:
        return geometry.orientation_label(oblique_tol_deg)
    order = [a for a in range(3) if a != axis] + [axis]
    permuted = Geometry(tuple(geometry.shape[a] for a in order), tuple(spacing[order]),
                        geometry.origin_lps_mm, geometry.direction_lps[:, order])
    return permuted.orientation_label(oblique_tol_deg)


def _evidence(stack: StackInfo) -> str:
    """What a NIfTI stack's own tags say about its contrast, for a message: 'EchoTime 104 ms,
    RepetitionTime 5660 ms, no inversion, ScanOptions without FS' (tags in ms)."""
    tags = stack.headers or {}
    parts = [f"{key} {as_float(tags[key]):g} ms" for key in ("EchoTime", "RepetitionTime")
             if as_float(tags.get(key)) is not None]
    inversion = as_float(tags.get("InversionTime"))
    parts.append(f"InversionTime {inversion:g} ms" if inversion else "no inversion")
    options = tags.get("ScanOptions")
    words = [str(v) for v in options] if isinstance(options, list) else str(options or "").replace("\\", " ").split()
    if options is not None or "ScanningSequence" in tags:
        parts.append("ScanOptions with FS" if any(w.upper().startswith(("FS", "SFS")) for w in words)
                     else "ScanOptions without FS")
    return ", ".join(parts)


def sequence_conflict(stack: StackInfo, sequence: SequenceClass,
                      settings: IngestSettings | None = None) -> str | None:
    """Why ``--sequence sequence`` contradicts what ``stack`` (a NIfTI file) says it is, or None.

    Only an edema-sensitive class (STIR, T2 fat-sat: what gets measured) can conflict, and only
    with a file its sidecar, tags or name place in another known class (T1, T2, PD, diffusion,
    ...): a file nothing identifies (``other``) is what ``--sequence`` is for, STIR vs T2
    fat-sat are both fat-suppressed, and a file whose tags or name say fat suppression (ScanOptions
    FS, ``pd_spair_cor``, ``cor_pd_tse_fs``: :func:`~bme_mri.ingest.classify.fat_suppression_evidence`,
    with ``settings``) is no contradiction either."""
    own = stack.sequence
    if not sequence.edema_sensitive or own == SequenceClass.OTHER or own.edema_sensitive:
        return None
    if settings is not None:
        from bme_mri.ingest.classify import fat_suppression_evidence

        if fat_suppression_evidence(stack.headers or {}, settings):
            return None
    return f"--sequence {sequence.value} conflicts with {_own_class_text(stack)}"


def _own_class_text(stack: StackInfo) -> str:
    """'x.nii.gz: its JSON sidecar says T1 (...; EchoTime 13 ms, ...)' for a message."""
    own = stack.sequence
    path = stack.nifti_path
    has_sidecar = path is not None and sidecar_path(path).is_file()
    source = "its JSON sidecar says" if has_sidecar else "its file name says"
    reason = stack.classification_reason.replace(" in the JSON sidecar", "")
    return f"{path.name if path else stack.label}: {source} {own.display} ({reason}; {_evidence(stack)})"


def apply_sequence_override(discovery: Discovery, sequence: SequenceClass | str | None,
                            force: bool = False, settings: IngestSettings | None = None) -> int:
    """``--sequence``: set the NIfTI files of ``discovery`` that nothing identifies to ``sequence``.

    A file whose sidecar, tags or name give it a class keeps it (a T1w beside a STIR in one
    folder stays a T1w; a warning on it says ``--sequence`` was not applied); ``--sequence`` is
    for the files nothing identifies (class ``other``). When the input is one file
    (``discovery.root`` is a file), the user has said what *that* file is: it is taken, unless
    it conflicts with the file's own class (:func:`sequence_conflict`, with ``settings`` for the
    fat-suppression evidence), and a conflict is refused unless ``force``, which relabels that
    file only (its warnings say what it was). DICOM stacks are never touched.

    Returns the number of stacks changed.

    Raises
    ------
    BmeError
        ``sequence`` is not a SequenceClass value, or the input holds no NIfTI file (the
        option says what a NIfTI is; DICOM series are classified from their headers).
    SequenceConflictError
        Without ``force``: the input is one file, ``sequence`` is STIR or T2 fat-sat and the
        file's sidecar, tags or name say it is another known class without fat suppression.
    """
    if sequence is None:
        return 0
    try:
        sequence = SequenceClass(getattr(sequence, "value", sequence))
    except ValueError:
        raise BmeError(f"--sequence {sequence!r} is not one of "
                       f"{', '.join(c.value for c in SequenceClass)}") from None
    stacks = [s for s in discovery.all_stacks() if s.nifti_path is not None]
    if not stacks:
        studies = discovery.studies
        held = (f"; found {study_contents(studies[0])}" + (f" (and {len(studies) - 1} more "
                f"stud{'ies' if len(studies) > 2 else 'y'})" if len(studies) > 1 else "")) if studies else ""
        raise BmeError(f"--sequence applies to NIfTI files only; {discovery.root} holds none (DICOM series "
                       f"are classified from their headers{held})")
    one_file = Path(discovery.root).is_file()
    changed = 0
    for stack in stacks:
        if stack.sequence == sequence:
            continue
        if stack.sequence == SequenceClass.OTHER:
            stack.sequence = sequence
            stack.classification_reason = (f"--sequence {sequence.value} given on the command line (nothing in "
                                           "the file's sidecar or name says what it is)")
            changed += 1
            continue
        if not one_file:
            stack.warnings.append(f"--sequence {sequence.value} not applied to {_own_class_text(stack)}: "
                                  "in a folder, --sequence names only the files nothing identifies")
            continue
        conflict = sequence_conflict(stack, sequence, settings)
        if conflict and not force:
            raise SequenceConflictError(f"{conflict} — pass --force to measure it anyway")
        stack.sequence = sequence
        stack.classification_reason = f"--sequence {sequence.value} given on the command line for this file"
        if conflict:
            stack.classification_reason += " with --force"
            stack.warnings.append(f"{conflict}; measured as {sequence.display} because of --force "
                                  "(the image's own fat-suppression check still applies)")
        changed += 1
    return changed


def selection_hint(study: StudyInfo) -> str:
    """For a study with no series to analyse: how to say what its unclassified NIfTI files are.

    '' when every NIfTI file of the study was classified (a T2 or an ADC map is not a STIR in
    disguise) or none is readable.
    """
    unknown = [s for s in study.stacks if s.nifti_path is not None and s.error is None
               and s.sequence == SequenceClass.OTHER]
    if not unknown:
        return ""
    names = ", ".join(s.nifti_path.name for s in unknown[:3]) + (" ..." if len(unknown) > 3 else "")
    return (f"; if {names} is a STIR (or fat-suppressed T2), say so with --sequence stir (or t2fs), "
            f"or \"{SEQUENCE_FIELD}\": \"stir\" in its JSON sidecar")


def patient_identity_note(study: StudyInfo) -> str:
    """'' when the study has a patient id; else one line saying it cannot be checked."""
    if study.patient_id:
        return ""
    return ("patient identity unknown (NIfTI without PatientID in a JSON sidecar or a BIDS sub- label): "
            "that two visits are the same patient cannot be checked")
