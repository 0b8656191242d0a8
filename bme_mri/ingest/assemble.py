"""Load one stack as a :class:`~bme_mri.types.Volume` (float32 after per-slice rescale).

The grid comes from :func:`bme_mri.ingest.geometry.assemble_geometry` (IOP/IPP, sorted along
the slice normal); pixels are read once per slice (:mod:`bme_mri.ingest.pixels`).
"""

from __future__ import annotations

from typing import Any

from bme_mri.errors import DicomReadError
from bme_mri.ingest.finite import require_finite
from bme_mri.ingest.geometry import assemble_geometry
from bme_mri.ingest.models import StackInfo, as_float
from bme_mri.ingest.pixels import read_rescaled
from bme_mri.ingest.settings import IngestSettings
from bme_mri.nifti import read_nifti
from bme_mri.types import Volume


def stack_meta(stack: StackInfo) -> dict[str, Any]:
    """Provenance of a stack, JSON-friendly (goes into ``Volume.meta``)."""
    return {
        "series_uid": stack.series_uid,
        "stack_id": stack.stack_id,
        "series_number": stack.series_number,
        "description": stack.description,
        "protocol": stack.protocol,
        "sequence": stack.sequence.value,
        "classification_reason": stack.classification_reason,
        "orientation": stack.orientation,
        "manufacturer": stack.manufacturer,
        "modality": stack.modality,
        "n_files": len(stack.files),
        "source": "nifti" if stack.nifti_path is not None else "dicom",
        "warnings": list(stack.warnings),
    }


def load_volume(stack: StackInfo, settings: IngestSettings, require_finite_values: bool = True) -> Volume:
    """Read ``stack`` into a float32 :class:`Volume` on its LPS grid.

    With ``require_finite_values`` (default) NaN / inf voxels raise :class:`ImageValueError`;
    ROI mode turns it off and checks only inside its masks.

    Raises
    ------
    DicomReadError
        Not MR, a truncated/unreadable file, or pixel data without a decoder.
    GeometryError
        Slices that do not form one regular grid (gap, duplicate, mixed orientation, ...).
    """
    if stack.nifti_path is not None:
        if stack.error:
            raise DicomReadError(stack.error)
        volume = read_nifti(stack.nifti_path)
        if require_finite_values:
            require_finite(volume.array, f"{stack.label}")
        meta = stack_meta(stack)
        meta["warnings"] = meta["warnings"] + list(volume.meta.get("warnings", []))
        volume.meta.update(meta)
        return volume
    if stack.modality != "MR":
        raise DicomReadError(stack.error or f"{stack.label}: modality {stack.modality}, not MR")
    fallback = as_float(stack.headers.get("SpacingBetweenSlices")) or as_float(stack.headers.get("SliceThickness"))
    assembly = assemble_geometry(stack.slices, stack.label, settings, fallback)
    if stack.error:
        raise DicomReadError(stack.error)
    array = read_rescaled(assembly.ordered, assembly.geometry, stack.label)
    if require_finite_values:
        require_finite(array, f"{stack.label}")
    meta = stack_meta(stack)
    meta["warnings"] = list(dict.fromkeys(meta["warnings"] + assembly.warnings))
    return Volume(array, assembly.geometry, meta)
