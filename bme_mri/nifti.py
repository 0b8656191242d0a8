"""NIfTI read/write on the package geometry (nibabel).

NIfTI stores a voxel -> RAS affine; :class:`~bme_mri.types.Geometry` keeps LPS, so both
directions go through ``Geometry.affine_ras`` / ``Geometry.from_affine_ras``. Array axes are
the same on both sides (``[i, j, k]``), so no data is transposed or flipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from bme_mri.errors import DicomReadError
from bme_mri.io_utils import atomic_path, write_json_atomic
from bme_mri.types import Geometry, Volume


def write_nifti(array: np.ndarray, geometry: Geometry, path: Path,
                sidecar: dict[str, Any] | None = None) -> Path:
    """Write ``array`` (shape ``geometry.shape``) to ``path`` (.nii or .nii.gz) atomically.

    Label maps (integer arrays) are stored as uint8; images as float32. The sform and qform
    both carry the RAS affine (code 1, scanner). A JSON ``sidecar`` is written beside it.
    """
    path = Path(path)
    if array.shape != geometry.shape:
        raise ValueError(f"array {array.shape} does not match geometry {geometry.shape}")
    data = array.astype(np.uint8 if np.issubdtype(array.dtype, np.integer) or array.dtype == bool
                        else np.float32)
    image = nib.Nifti1Image(data, geometry.affine_ras)
    image.set_sform(geometry.affine_ras, code=1)
    image.set_qform(geometry.affine_ras, code=1)
    image.header.set_xyzt_units("mm", "sec")
    with atomic_path(path) as tmp:
        nib.save(image, str(tmp))
    if sidecar is not None:
        write_json_atomic(sidecar_path(path), sidecar)
    return path


def sidecar_path(path: Path) -> Path:
    """``x.nii.gz`` -> ``x.json``."""
    name = Path(path).name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return Path(path).with_name(name[: -len(ext)] + ".json")
    return Path(path).with_suffix(".json")


def read_nifti(path: Path) -> Volume:
    """Read a 3-D NIfTI file as a float32 :class:`Volume`; its JSON sidecar goes in ``meta``."""
    path = Path(path)
    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj, dtype=np.float32)
    except Exception as exc:  # nibabel raises many types for a bad file
        raise DicomReadError(f"{path}: not a readable NIfTI file ({exc})") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise DicomReadError(f"{path}: expected a 3-D image, found shape {data.shape}")
    geometry = Geometry.from_affine_ras(image.affine, data.shape)
    meta: dict[str, Any] = {"source": str(path), "format": "nifti"}
    header = image.header
    if "sform_code" in header and int(header["sform_code"]) == 0 and int(header["qform_code"]) == 0:
        meta.setdefault("warnings", []).append(
            f"{path.name} has neither a qform nor an sform: its affine is a guess and left/right are unknown")
    side = sidecar_path(path)
    if side.is_file():
        try:
            meta["sidecar"] = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            meta.setdefault("warnings", []).append(f"sidecar {side.name} unreadable: {exc}")
    return Volume(np.ascontiguousarray(data), geometry, meta)
