"""Write a scalar volume as a classic single-frame DICOM MR series (one file per slice).

Used by the phantom generator and by tests that need DICOM with a known geometry. The
volume follows the package axis convention (:mod:`bme_mri.types`): ``array[i, j, k]`` with
``direction_lps`` columns = unit vectors of i (DICOM row direction), j (column direction) and
k (slice normal). The grid must be right-handed (k = i x j): that is the direction in which
any DICOM reader sorts slices, so truth label maps written on the same geometry line up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, PYDICOM_IMPLEMENTATION_UID, UID

from bme_mri.types import Geometry


def deterministic_uid(*parts: object) -> str:
    """A valid DICOM UID derived from ``parts`` (same parts -> same UID)."""
    return str(pydicom.uid.generate_uid(entropy_srcs=[str(p) for p in parts]))


@dataclass(frozen=True)
class SliceScaling:
    """How float values become stored uint16: ``value = stored * slope + intercept``."""

    slope: float
    intercept: float


def _scaling_for(values: np.ndarray, intercept: float, headroom: float) -> SliceScaling:
    top = float(np.max(values)) if values.size else 1.0
    span = max(top - intercept, 1e-6)
    return SliceScaling(slope=span / (65535.0 * headroom), intercept=intercept)


def write_mr_series(
    array: np.ndarray,
    geometry: Geometry,
    out_dir: Path,
    tags: Mapping[str, Any],
    *,
    file_names: Sequence[str] | None = None,
    instance_order: str = "ascending",
    per_slice_rescale: bool = False,
    rescale_intercept: float = 0.0,
    transfer_syntax: str | UID = ExplicitVRLittleEndian,
    rng: np.random.Generator | None = None,
    instance_offset: int = 0,
) -> list[Path]:
    """Write ``array`` (float, >= rescale_intercept) as an MR series; returns the file paths.

    Parameters
    ----------
    array : float array ``[i, j, k]`` matching ``geometry.shape``.
    geometry : right-handed grid in LPS mm.
    out_dir : folder to write into (created).
    tags : DICOM keywords -> values set on every slice (PatientID, StudyInstanceUID,
        SeriesInstanceUID, SeriesDescription, ...). Missing UIDs are generated.
    file_names : one name per slice k (default ``IM{k:04d}.dcm``); lets callers shuffle.
    instance_order : 'ascending' numbers instances along +k, 'descending' along -k
        (a "reversed" stack: readers must sort by position, not InstanceNumber).
    per_slice_rescale : a different RescaleSlope per slice (as some vendors do).
    rescale_intercept : RescaleIntercept (float value of stored 0).
    transfer_syntax : written transfer syntax; compressed ones use pydicom's encoders.
    instance_offset : added to InstanceNumber and to the SOP UID seed, so several stacks can
        share one SeriesInstanceUID (e.g. a three-plane localizer) without UID clashes.
    """
    array = np.asarray(array, dtype=np.float64)
    if array.shape != geometry.shape:
        raise ValueError(f"array {array.shape} != geometry {geometry.shape}")
    direction = geometry.direction_lps
    if np.dot(np.cross(direction[:, 0], direction[:, 1]), direction[:, 2]) < 0.999:
        raise ValueError("write_mr_series needs a right-handed grid (k = i x j)")
    rng = rng if rng is not None else np.random.default_rng(0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_slices = geometry.shape[2]
    names = list(file_names) if file_names is not None else [f"IM{k:04d}.dcm" for k in range(n_slices)]
    if len(names) != n_slices:
        raise ValueError("need one file name per slice")

    tags = dict(tags)
    study_uid = tags.setdefault("StudyInstanceUID", deterministic_uid("study", tags.get("PatientID")))
    series_uid = tags.setdefault(
        "SeriesInstanceUID", deterministic_uid("series", study_uid, tags.get("SeriesNumber"),
                                               tags.get("SeriesDescription"))
    )
    tags.setdefault("FrameOfReferenceUID", deterministic_uid("for", study_uid))
    global_scaling = _scaling_for(array, rescale_intercept, headroom=1.0)
    iop = [*direction[:, 0].tolist(), *direction[:, 1].tolist()]
    spacing_i, spacing_j, spacing_k = geometry.spacing_mm
    paths: list[Path] = []
    for k in range(n_slices):
        plane = array[:, :, k].T  # rows = j, columns = i
        if per_slice_rescale:
            scaling = _scaling_for(plane, rescale_intercept, headroom=float(rng.uniform(0.5, 1.0)))
        else:
            scaling = global_scaling
        stored = np.clip(np.rint((plane - scaling.intercept) / scaling.slope), 0, 65535).astype(np.uint16)
        instance = (k + 1 if instance_order == "ascending" else n_slices - k) + instance_offset
        position = geometry.index_to_lps(np.array([0.0, 0.0, float(k)]))
        sop_uid = deterministic_uid("sop", series_uid, k + instance_offset)

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = sop_uid
        ds.Modality = "MR"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
        for keyword, value in tags.items():
            setattr(ds, keyword, value)
        ds.InstanceNumber = instance
        ds.ImagePositionPatient = [round(float(v), 6) for v in position]
        ds.ImageOrientationPatient = [round(float(v), 8) for v in iop]
        ds.PixelSpacing = [round(spacing_j, 6), round(spacing_i, 6)]
        ds.SliceThickness = round(spacing_k, 6)
        ds.SpacingBetweenSlices = round(spacing_k, 6)
        ds.SliceLocation = round(float(np.dot(position, direction[:, 2])), 6)
        ds.Rows, ds.Columns = plane.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.RescaleSlope = f"{scaling.slope:.10g}"[:16]
        ds.RescaleIntercept = f"{scaling.intercept:.10g}"[:16]
        ds.RescaleType = "US"
        ds.PixelData = stored.tobytes()
        if UID(transfer_syntax) != ExplicitVRLittleEndian:
            ds.compress(UID(transfer_syntax), stored)
        path = out_dir / names[k]
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
