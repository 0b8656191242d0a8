"""Shared types every stage imports: grid geometry, volumes, sides, study keys.

Axis convention (one for the whole package)
-------------------------------------------
A volume's array is indexed ``array[i, j, k]``:

* ``i`` runs along the DICOM *row* direction (``ImageOrientationPatient[:3]``), i.e. the
  column index within a slice;
* ``j`` runs along the DICOM *column* direction (``ImageOrientationPatient[3:]``), i.e. the
  row index within a slice;
* ``k`` runs along the slice normal ``row x col``, slices sorted by their position along it
  (never by file name or InstanceNumber).

This is the ITK / NIfTI convention (SimpleITK's ``GetArrayFromImage`` returns the transpose,
``[k, j, i]``). ``Geometry.direction_lps`` holds the unit vectors of the i, j, k axes as its
*columns*, in DICOM patient coordinates (LPS: +x patient's left, +y posterior, +z superior).
``affine_lps`` maps ``(i, j, k, 1)`` to LPS mm; ``affine_ras`` maps it to RAS mm (NIfTI world).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


class Side(str, Enum):
    """The patient's side. ``left`` is the patient's left: larger DICOM (LPS) x."""

    LEFT = "left"
    RIGHT = "right"


class SequenceClass(str, Enum):
    """What a series is, as far as bme-mri cares."""

    STIR = "stir"
    T2FS = "t2fs"
    T2 = "t2"
    T1 = "t1"
    PD = "pd"
    LOCALIZER = "localizer"
    DWI = "dwi"  # diffusion-weighted images (acquired b-values, trace, calculated b-values)
    ADC = "adc"  # diffusion maps: ADC, exponential ADC, FA
    DCE = "dce"  # dynamic (multi-phase) contrast series
    POST = "post"  # post-contrast and subtraction images
    DIXON = "dixon"  # Dixon outputs other than a T2-weighted water image (in/opposed phase, fat)
    DERIVED = "derived"  # reformats (MPR, MIP, projections) and Secondary Capture screenshots
    OTHER = "other"

    @property
    def display(self) -> str:
        """How people name the class: 'STIR', 'T2 fat-sat', 'diffusion', 'ADC', ..."""
        return _SEQUENCE_DISPLAY[self.value]

    @property
    def edema_sensitive(self) -> bool:
        """True for the classes readers grade bone marrow edema on (STIR, fat-suppressed T2)."""
        return self.value in ("stir", "t2fs")


_SEQUENCE_DISPLAY = {
    "stir": "STIR", "t2fs": "T2 fat-sat", "t2": "T2", "t1": "T1", "pd": "PD",
    "localizer": "localizer", "dwi": "diffusion", "adc": "ADC/diffusion map", "dce": "DCE",
    "post": "post-contrast/subtraction", "dixon": "Dixon (in/opp/fat)", "derived": "derived/reformat",
    "other": "other",
}


class Label(int, Enum):
    """Label values of every bme-mri label map (truth and prediction alike)."""

    BACKGROUND = 0
    HEAD_MARROW = 1  # femoral head proper, non-edematous (cortex included)
    EDEMA = 2
    NECROSIS = 3


@dataclass(frozen=True)
class Geometry:
    """A regular 3-D voxel grid in DICOM patient space.

    Attributes
    ----------
    shape : (ni, nj, nk) voxels.
    spacing_mm : voxel size along i, j, k in mm (k = slice spacing, not thickness).
    origin_lps_mm : LPS position (mm) of the centre of voxel (0, 0, 0).
    direction_lps : 3x3, columns are unit vectors of the i, j, k axes in LPS.
    """

    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    origin_lps_mm: tuple[float, float, float]
    direction_lps: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        direction = np.asarray(self.direction_lps, dtype=np.float64).reshape(3, 3)
        direction.setflags(write=False)
        object.__setattr__(self, "direction_lps", direction)
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "spacing_mm", tuple(float(s) for s in self.spacing_mm))
        object.__setattr__(self, "origin_lps_mm", tuple(float(s) for s in self.origin_lps_mm))

    # ---- affines -------------------------------------------------------------------
    @property
    def affine_lps(self) -> np.ndarray:
        """4x4 mapping voxel (i, j, k, 1) to LPS mm."""
        affine = np.eye(4)
        affine[:3, :3] = self.direction_lps * np.asarray(self.spacing_mm)[None, :]
        affine[:3, 3] = self.origin_lps_mm
        return affine

    @property
    def affine_ras(self) -> np.ndarray:
        """4x4 mapping voxel (i, j, k, 1) to RAS mm (the NIfTI world frame)."""
        return LPS_TO_RAS @ self.affine_lps

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in ml (1 ml = 1000 mm^3)."""
        return float(np.prod(self.spacing_mm)) / 1000.0

    @classmethod
    def from_affine_lps(cls, affine_lps: np.ndarray, shape: tuple[int, int, int]) -> Geometry:
        """Build from a 4x4 voxel->LPS affine (columns may carry scale, no shear)."""
        affine_lps = np.asarray(affine_lps, dtype=np.float64)
        linear = affine_lps[:3, :3]
        spacing = np.linalg.norm(linear, axis=0)
        return cls(tuple(shape), tuple(spacing), tuple(affine_lps[:3, 3]), linear / spacing)

    @classmethod
    def from_affine_ras(cls, affine_ras: np.ndarray, shape: tuple[int, int, int]) -> Geometry:
        """Build from a 4x4 voxel->RAS affine (e.g. a NIfTI header)."""
        return cls.from_affine_lps(LPS_TO_RAS @ np.asarray(affine_ras, dtype=np.float64), shape)

    # ---- coordinates ---------------------------------------------------------------
    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        """Continuous voxel indices (..., 3) -> LPS mm (..., 3)."""
        ijk = np.asarray(ijk, dtype=np.float64)
        affine = self.affine_lps
        return ijk @ affine[:3, :3].T + affine[:3, 3]

    def lps_to_index(self, xyz_lps: np.ndarray) -> np.ndarray:
        """LPS mm (..., 3) -> continuous voxel indices (..., 3)."""
        xyz = np.asarray(xyz_lps, dtype=np.float64)
        inverse = np.linalg.inv(self.affine_lps)
        return xyz @ inverse[:3, :3].T + inverse[:3, 3]

    def corners_lps(self) -> np.ndarray:
        """LPS mm of the 8 corner voxel centres, shape (8, 3)."""
        ni, nj, nk = (s - 1 for s in self.shape)
        corners = np.array(
            [[i, j, k] for i in (0, ni) for j in (0, nj) for k in (0, nk)], dtype=np.float64
        )
        return self.index_to_lps(corners)

    def same_grid(self, other: Geometry, tol_mm: float = 1e-3) -> bool:
        """True when both grids have the same shape and voxel centres within ``tol_mm``."""
        if self.shape != other.shape:
            return False
        return bool(np.max(np.abs(self.corners_lps() - other.corners_lps())) <= tol_mm)

    def orientation_label(self, oblique_tol_deg: float = 10.0) -> str:
        """'axial', 'coronal', 'sagittal' or 'oblique' from the slice normal (k axis)."""
        normal = self.direction_lps[:, 2]
        axis = int(np.argmax(np.abs(normal)))
        angle = np.degrees(np.arccos(min(1.0, abs(float(normal[axis])))))
        if angle > oblique_tol_deg:
            return "oblique"
        return ("sagittal", "coronal", "axial")[axis]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly representation."""
        return {
            "shape": list(self.shape),
            "spacing_mm": list(self.spacing_mm),
            "origin_lps_mm": list(self.origin_lps_mm),
            "direction_lps": self.direction_lps.tolist(),
        }


@dataclass
class Volume:
    """A scalar image on a :class:`Geometry`.

    ``array`` is float32 after rescale (RescaleSlope/Intercept applied per slice), indexed
    ``[i, j, k]`` as described in the module docstring. ``meta`` carries provenance
    (series UID, description, sequence class, source files, warnings); it is JSON-friendly.
    """

    array: np.ndarray
    geometry: Geometry
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if tuple(self.array.shape) != tuple(self.geometry.shape):
            raise ValueError(
                f"array shape {self.array.shape} does not match geometry {self.geometry.shape}"
            )

    @property
    def affine_ras(self) -> np.ndarray:
        return self.geometry.affine_ras

    @property
    def affine_lps(self) -> np.ndarray:
        return self.geometry.affine_lps


@dataclass(frozen=True)
class StudyKey:
    """Identifies one study. Values come from DICOM and are untrusted: sanitise before use
    in paths (see :func:`bme_mri.io_utils.safe_name`)."""

    patient_id: str
    study_uid: str
    study_date: str = ""  # YYYY-MM-DD or "" when unknown
