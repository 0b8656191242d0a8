"""``bme-mri convert``: every usable stack to NIfTI + JSON sidecar with BIDS-like names.

``out/sub-<patient>/ses-<date or study>/anat/sub-<patient>_ses-<..>_acq-<orientation>_run-<series
number>_<suffix>.nii.gz`` (diffusion images and their maps in ``dwi/``, one file per b-value,
``acq-<orientation>b<b-value>``, the b-value also in the sidecar's ``DiffusionBValue`` and in an
FSL ``.bval``, with a ``.bvec`` where the image has no direction: b = 0, trace); a 4-D series (fMRI time points, diffusion directions) is
skipped with its reason (dcm2niix converts those); every DICOM value in a path goes through
:func:`bme_mri.io_utils.safe_name`. Sidecar times are in seconds (BIDS convention).

Sidecars carry no identifiers of the person by default, as dcm2niix's anonymised BIDS output
(``-ba y``): the keys in :data:`IDENTIFYING_KEYS` are left out and listed under
``bme_mri_identifiers_removed``; ``keep_identifiers=True`` (``--keep-identifiers``) keeps them.
The study and series UIDs are left out as dcm2niix does: reading the converted tree back
groups studies by the ``sub-``/``ses-`` labels of the file names, which is all that needs.
``StudyDate`` is kept: it orders the visits of a follow-up when the NIfTI files are analysed,
and the ``ses-`` label carries it anyway. The folder and file names still hold the
(sanitised) PatientID as the ``sub-`` label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bme_mri.errors import BmeError
from bme_mri.ingest.assemble import load_volume
from bme_mri.ingest.discovery import discover
from bme_mri.ingest.found import require_images
from bme_mri.ingest.models import ConvertedSeries, StackInfo, StudyInfo, as_float
from bme_mri.ingest.settings import IngestSettings
from bme_mri.io_utils import ensure_outside, safe_name, write_text_atomic
from bme_mri.nifti import write_nifti

# BIDS-like file suffix and data-type folder of every sequence class (every class has one:
# a class without a name would stop the conversion of the whole tree)
SUFFIX = {"stir": "STIR", "t2fs": "T2w", "t2": "T2w", "t1": "T1w", "pd": "PDw",
          "localizer": "localizer", "dwi": "dwi", "adc": "ADC", "dce": "DCE", "post": "T1wCE",
          "dixon": "dixon", "derived": "derived", "other": "MR"}
DATATYPE = {"dwi": "dwi", "adc": "dwi"}  # diffusion and its maps apart from anat/, as BIDS


def file_suffix(sequence: Any) -> str:
    """BIDS-like suffix of a sequence class (``MR`` for a class without its own)."""
    return SUFFIX.get(getattr(sequence, "value", str(sequence)), "MR")


# Keys never written to a sidecar unless identifiers are kept: the person (name, IDs, birth
# date, sex, age, size, weight, address), the record (accession number, study ID, UIDs that
# link back to the source archive) and the people and place (physicians, operators,
# institution, station, device serial). dcm2niix -ba y leaves out the same kind of keys.
IDENTIFYING_KEYS = (
    "PatientName", "PatientID", "OtherPatientIDs", "PatientBirthDate", "PatientSex", "PatientAge",
    "PatientSize", "PatientWeight", "PatientAddress", "AccessionNumber", "StudyID",
    "StudyInstanceUID", "SeriesInstanceUID", "StackId", "ReferringPhysicianName",
    "PerformingPhysicianName", "OperatorsName", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "StationName", "DeviceSerialNumber", "AcquisitionDateTime",
)


def _sidecar(stack: StackInfo, study: StudyInfo, warnings: list[str],
             keep_identifiers: bool = False) -> dict[str, Any]:
    tags = stack.headers
    side: dict[str, Any] = {
        "PatientID": study.patient_id, "PatientName": study.patient_name, "StudyInstanceUID": study.study_uid,
        "StudyDate": study.study_date, "SeriesInstanceUID": stack.series_uid,
        "SeriesNumber": stack.series_number, "SeriesDescription": stack.description,
        "ProtocolName": stack.protocol, "Manufacturer": stack.manufacturer, "Modality": stack.modality,
        "bme_mri_sequence": stack.sequence.value, "bme_mri_orientation": stack.orientation,
        "bme_mri_classification_reason": stack.classification_reason, "StackId": stack.stack_id,
        "SourceFileCount": len(stack.files), "warnings": warnings,
    }
    for key in ("ScanningSequence", "SequenceVariant", "ScanOptions", "SequenceName", "ImageType"):
        if tags.get(key) is not None:
            value = tags[key]
            side[key] = [str(v) for v in value] if not isinstance(value, str) and hasattr(value, "__iter__") else str(value)
    for key in ("EchoTime", "RepetitionTime", "InversionTime"):
        ms = as_float(tags.get(key))
        if ms is not None:
            side[key] = ms / 1000.0  # seconds, as BIDS
    if stack.subtype:
        side["bme_mri_subtype"] = stack.subtype
    b_value = as_float(tags.get("DiffusionBValue")) if stack.sequence.value == "dwi" else None
    if b_value is not None:
        side["DiffusionBValue"] = b_value  # s/mm^2: each diffusion file holds one b-value (one 3-D volume)
    field = as_float(tags.get("MagneticFieldStrength"))
    if field is not None:
        side["MagneticFieldStrength"] = field
    if not keep_identifiers:
        removed = [key for key in IDENTIFYING_KEYS if side.pop(key, None) not in (None, "")]
        side["warnings"] = [_without_uids(text, stack, study) for text in side["warnings"]]
        side["bme_mri_identifiers_removed"] = removed
    return side


def _gradient_files(stack: StackInfo, b_value: float) -> dict[str, str]:
    """FSL-style ``.bval`` (the b-value, s/mm^2) and ``.bvec`` texts for a diffusion file's one
    3-D volume, as dcm2niix writes them (suffix -> text). The vector is (0, 0, 0) for a b = 0
    image and a trace / isotropic / calculated image (ImageType TRACE, TRACEW, ISOTROPIC,
    CALC_BVALUE), which has no direction; an image of one gradient direction gets no ``.bvec``
    (bme-mri does not read the directions)."""
    files = {".bval": f"{b_value:g}\n"}
    image_type = " ".join(str(v) for v in (stack.headers.get("ImageType") or [])).upper()
    if b_value == 0 or any(token in image_type for token in ("TRACE", "ISOTROPIC", "CALC_BVAL")):
        files[".bvec"] = "0\n0\n0\n"
    return files


def _without_uids(text: str, stack: StackInfo, study: StudyInfo) -> str:
    """``text`` with the series and study UIDs replaced by placeholders (they link back to the archive)."""
    for uid, word in ((stack.series_uid, "<series uid>"), (study.study_uid, "<study uid>")):
        if uid:
            text = text.replace(uid, word)
    return text


def convert_input(path: Path, out_dir: Path, settings: IngestSettings,
                  keep_identifiers: bool = False) -> list[ConvertedSeries]:
    """Write every stack without an error to NIfTI; one :class:`ConvertedSeries` per stack.

    Sidecars leave out :data:`IDENTIFYING_KEYS` unless ``keep_identifiers``.
    """
    path, out_dir = Path(path), Path(out_dir)
    ensure_outside(out_dir, [path])
    discovery = require_images(discover(path, settings))
    results: list[ConvertedSeries] = []
    used: set[Path] = set()
    for study in discovery.studies:
        subject = safe_name(study.patient_id)
        session = safe_name(study.study_date.replace("-", "") or study.study_uid)
        session_dir = out_dir / f"sub-{subject}" / f"ses-{session}"
        for stack in study.stacks:
            if stack.error:
                results.append(ConvertedSeries(stack.stack_id, None, stack.error))
                continue
            if stack.geometry is None:  # derived pictures that do not form a volume: not converted
                continue
            try:
                volume = load_volume(stack, settings)
            except BmeError as exc:
                results.append(ConvertedSeries(stack.stack_id, None, str(exc)))
                continue
            kind = stack.sequence.value
            folder = session_dir / DATATYPE.get(kind, "anat")
            acq = safe_name(stack.orientation or "unknown") + ("FS" if kind == "t2fs" else "")
            run = safe_name(str(stack.series_number if stack.series_number is not None else 0))
            b_value = as_float(stack.headers.get("DiffusionBValue")) if kind == "dwi" else None
            stem = f"sub-{subject}_ses-{session}_acq-{acq}" + (
                f"b{int(round(b_value))}" if b_value is not None else "") + f"_run-{run}"
            suffix = file_suffix(stack.sequence)
            target = folder / f"{stem}_{suffix}.nii.gz"
            split = 2
            while target in used:
                target = folder / f"{stem}_split-{split}_{suffix}.nii.gz"
                split += 1
            used.add(target)
            sidecar = _sidecar(stack, study, list(volume.meta.get("warnings", [])), keep_identifiers)
            gradients = _gradient_files(stack, b_value) if b_value is not None else {}
            if gradients and ".bvec" not in gradients:
                sidecar["warnings"].append("gradient direction not read: no .bvec written")
            write_nifti(volume.array, volume.geometry, target, sidecar=sidecar)
            base = str(target)[: -len(".nii.gz")]
            for suffix, text in gradients.items():
                write_text_atomic(Path(base + suffix), text)
            results.append(ConvertedSeries(stack.stack_id, target, None))
    return results
