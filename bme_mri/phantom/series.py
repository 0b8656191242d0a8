"""Vendor conventions (tag values, series naming) and voxel grids of the phantom series.

Tag values follow what the three main vendors write for these sequences at 1.5 T
(Siemens ``*tir2d1_13`` / ``t2_tirm_cor``; GE ``COR STIR`` with ScanOptions ``IR``;
Philips ``STIR_COR`` with ScanningSequence ``IR``). Timing (TR/TE/TI in ms) is plausible per
sequence: STIR TI 160-180 ms (fat null at 1.5 T), T1 TR 450-650 / TE 8-15, T2 TR 3000-5000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bme_mri.phantom.tissue import SequenceParams
from bme_mri.types import Geometry

VENDORS = ("siemens", "ge", "philips")

_SCANNER = {
    "siemens": {"Manufacturer": "SIEMENS", "ManufacturerModelName": "Avanto",
                "MagneticFieldStrength": 1.5},
    "ge": {"Manufacturer": "GE MEDICAL SYSTEMS", "ManufacturerModelName": "Signa HDxt",
           "MagneticFieldStrength": 1.5},
    "philips": {"Manufacturer": "Philips Medical Systems", "ManufacturerModelName": "Achieva",
                "MagneticFieldStrength": 1.5},
}

_ORI = {
    "siemens": {"coronal": "cor", "axial": "tra", "oblique": "cor_obl", "sagittal": "sag"},
    "ge": {"coronal": "COR", "axial": "AX", "oblique": "OBL COR", "sagittal": "SAG"},
    "philips": {"coronal": "COR", "axial": "TRA", "oblique": "OBL", "sagittal": "SAG"},
}

# kind -> vendor -> (description template, tags). {o} = vendor orientation word.
_SEQUENCE_TAGS: dict[str, dict[str, tuple[str, dict]]] = {
    "stir": {
        "siemens": ("t2_tirm_{o}", {"SequenceName": "*tir2d1_13", "ScanningSequence": ["SE", "IR"],
                                    "SequenceVariant": ["SK", "SP", "MP"], "ScanOptions": "IR"}),
        "ge": ("{O} STIR", {"SequenceName": "fsirs", "ScanningSequence": ["SE", "IR"],
                            "SequenceVariant": ["SK", "OSP"], "ScanOptions": ["IR", "FAST_GEMS"]}),
        "philips": ("STIR_{O}", {"ScanningSequence": ["IR"], "SequenceVariant": ["SK"],
                                 "ScanOptions": "OTHER"}),
    },
    "t1": {
        "siemens": ("t1_tse_{o}", {"SequenceName": "*tse2d1_3", "ScanningSequence": "SE",
                                   "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": ""}),
        "ge": ("{O} T1", {"SequenceName": "fse", "ScanningSequence": "SE",
                          "SequenceVariant": ["SK", "OSP"], "ScanOptions": ["FAST_GEMS"]}),
        "philips": ("T1W_TSE_{O}", {"ScanningSequence": "SE", "SequenceVariant": ["SK"],
                                    "ScanOptions": "OTHER"}),
    },
    "t2fs": {
        "siemens": ("t2_tse_fs_{o}", {"SequenceName": "*tse2d1_15", "ScanningSequence": "SE",
                                      "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": "FS"}),
        "ge": ("{O} T2 FS", {"SequenceName": "fse", "ScanningSequence": "SE",
                             "SequenceVariant": ["SK", "OSP"], "ScanOptions": ["FAST_GEMS", "FS"]}),
        "philips": ("T2W_SPAIR_{O}", {"ScanningSequence": "SE", "SequenceVariant": ["SK"],
                                      "ScanOptions": "FS"}),
    },
    "t2": {
        "siemens": ("t2_tse_{o}", {"SequenceName": "*tse2d1_15", "ScanningSequence": "SE",
                                   "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": ""}),
        "ge": ("{O} T2", {"SequenceName": "fse", "ScanningSequence": "SE",
                          "SequenceVariant": ["SK", "OSP"], "ScanOptions": ["FAST_GEMS"]}),
        "philips": ("T2W_TSE_{O}", {"ScanningSequence": "SE", "SequenceVariant": ["SK"],
                                    "ScanOptions": "OTHER"}),
    },
    "pd": {
        "siemens": ("pd_tse_{o}", {"SequenceName": "*tse2d1_7", "ScanningSequence": "SE",
                                   "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": ""}),
        "ge": ("{O} PD", {"SequenceName": "fse", "ScanningSequence": "SE",
                          "SequenceVariant": ["SK", "OSP"], "ScanOptions": ["FAST_GEMS"]}),
        "philips": ("PDW_TSE_{O}", {"ScanningSequence": "SE", "SequenceVariant": ["SK"],
                                    "ScanOptions": "OTHER"}),
    },
    "localizer": {
        "siemens": ("localizer", {"SequenceName": "*fl2d1", "ScanningSequence": "GR",
                                  "SequenceVariant": ["SP", "OSP"], "ScanOptions": ""}),
        "ge": ("3-Plane Loc", {"SequenceName": "3-plane", "ScanningSequence": "GR",
                               "SequenceVariant": ["SS"], "ScanOptions": ["FAST_GEMS"]}),
        "philips": ("Survey", {"ScanningSequence": "GR", "SequenceVariant": ["SS"],
                               "ScanOptions": "OTHER"}),
    },
    "dwi": {
        "siemens": ("ep2d_diff_{o}", {"SequenceName": "*ep_b0_800", "ScanningSequence": "EP",
                                      "SequenceVariant": ["SK", "SP"], "ScanOptions": "FS"}),
        "ge": ("{O} DWI", {"SequenceName": "epi2", "ScanningSequence": "EP",
                           "SequenceVariant": ["NONE"], "ScanOptions": ["EPI_GEMS"]}),
        "philips": ("DWI_{O}", {"ScanningSequence": "SE", "SequenceVariant": ["SK"],
                                "ScanOptions": "FS"}),
    },
}


def sequence_params(kind: str, rng: np.random.Generator) -> SequenceParams:
    """Plausible 1.5 T timing (ms) for a sequence kind."""
    if kind == "stir":
        return SequenceParams("stir", float(rng.integers(35, 50) * 100), float(rng.integers(30, 45)),
                              float(rng.integers(160, 181)))
    if kind == "t1":
        return SequenceParams("t1", float(rng.integers(45, 66) * 10), float(rng.integers(8, 16)))
    if kind in ("t2fs", "t2"):
        return SequenceParams(kind, float(rng.integers(30, 51) * 100), float(rng.integers(60, 90)),
                              fat_sat=kind == "t2fs")
    if kind == "pd":
        return SequenceParams("pd", float(rng.integers(25, 36) * 100), float(rng.integers(20, 31)))
    if kind == "localizer":
        return SequenceParams("localizer", 300.0, 5.0)
    if kind == "dwi":
        return SequenceParams("dwi", 5000.0, 80.0, fat_sat=True)
    raise ValueError(f"unknown sequence kind {kind!r}")


def series_tags(vendor: str, kind: str, orientation: str, seq: SequenceParams) -> dict:
    """DICOM keyword -> value for one series of ``kind`` by ``vendor``."""
    template, tags = _SEQUENCE_TAGS[kind][vendor]
    word = _ORI[vendor][orientation]
    description = template.format(o=word, O=word.upper())
    out = dict(_SCANNER[vendor])
    out.update(tags)
    out["SeriesDescription"] = description
    out["ProtocolName"] = description
    out["RepetitionTime"] = seq.tr_ms if kind != "localizer" else 8.6
    out["EchoTime"] = seq.te_ms if kind != "localizer" else 4.0
    if seq.ti_ms > 0:
        out["InversionTime"] = seq.ti_ms
    out["FlipAngle"] = 150.0 if kind in ("stir", "t1", "t2", "t2fs", "pd") else 20.0
    out["MRAcquisitionType"] = "2D"
    if vendor == "philips" and "SequenceName" not in out:
        out["SequenceName"] = ""
    return out


# ---- grids ------------------------------------------------------------------------------
def _rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])


def directions(orientation: str, mirrored: bool = False, oblique_deg: float = 0.0) -> np.ndarray:
    """3x3, columns = i (row), j (column), k (normal = i x j) unit vectors in LPS."""
    if orientation in ("coronal", "oblique"):
        row, col = np.array([1.0, 0, 0]), np.array([0, 0, -1.0])
    elif orientation == "axial":
        row, col = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    elif orientation == "sagittal":
        row, col = np.array([0, 1.0, 0]), np.array([0, 0, -1.0])
    else:
        raise ValueError(f"unknown orientation {orientation!r}")
    if mirrored:  # row direction reversed: the slice normal (k) flips too
        row = -row
    if orientation == "oblique":
        rot = _rot_z(oblique_deg)
        row, col = rot @ row, rot @ col
    return np.stack([row, col, np.cross(row, col)], axis=1)


@dataclass(frozen=True)
class GridSpec:
    """Where a stack goes: centre (LPS mm), axes, matrix and spacing."""

    center_lps: tuple[float, float, float]
    direction: tuple[tuple[float, ...], ...]
    matrix: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]

    def geometry(self) -> Geometry:
        d = np.asarray(self.direction, dtype=np.float64)
        half = (np.asarray(self.matrix) - 1) / 2.0 * np.asarray(self.spacing_mm)
        origin = np.asarray(self.center_lps) - d @ half
        return Geometry(self.matrix, self.spacing_mm, tuple(float(v) for v in np.round(origin, 4)), d)


def make_grid(center: np.ndarray, direction: np.ndarray, fov_mm: float, in_plane_mm: float,
              extent_k_mm: float, slice_mm: float) -> GridSpec:
    """A square in-plane field of view ``fov_mm`` and ``extent_k_mm`` of slices."""
    n = int(round(fov_mm / in_plane_mm))
    nk = max(1, int(np.ceil(extent_k_mm / slice_mm)))
    return GridSpec(center_lps=tuple(float(v) for v in center),
                    direction=tuple(tuple(float(v) for v in row) for row in direction),
                    matrix=(n, n, nk), spacing_mm=(in_plane_mm, in_plane_mm, slice_mm))
