"""DICOM SEG (highdicom) of a label map, referencing the analysed series' source images.

Segments (BINARY; a voxel may belong to several — the femoral head contains the lesions):

1. "Femoral head": labels 1-3 together (the head proper, cortex included);
   SCT 91723000 Anatomical Structure / SCT 2812003 Femoral head;
2. "Bone marrow edema": label 2; SCT 49755003 Morphologically Abnormal Structure /
   SCT 79654002 Edema, anatomic region SCT 14016003 Bone marrow;
3. "Osteonecrosis": label 3; SCT 49755003 Morphologically Abnormal Structure /
   SCT 6574001 Necrosis, anatomic region SCT 2812003 Femoral head.

An empty segment is still described (numbers stay 1-3 whatever the content) and simply has no
frames; empty frames are omitted. A hip whose edema and necrosis were not measured (a blocking
quality-control flag) has no edema or necrosis voxels, and every segment's label says so
("Bone marrow edema; L hip NOT MEASURED"; its SegmentDescription the reason), so an empty
segment is not read as "no edema" there. When every segment is empty there is nothing to display, so
the SEG is not written and :class:`~bme_mri.errors.OutputError` says so; callers record it and
go on.

Frames: our ``labels[i, j, k]`` slice ``k`` is matched to a source file by its
ImagePositionPatient along the slice normal (source files may come in any order); each source
slice's orientation and size must match the label grid, otherwise a
:class:`~bme_mri.errors.GeometryError` names the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from bme_mri.errors import DicomReadError, GeometryError, OutputError
from bme_mri.io_utils import atomic_path
from bme_mri.report.settings import ReportSettings
from bme_mri.types import Geometry, Label

_POSITION_TOL_MM = 0.5  # a source slice must sit within this of a label-grid slice
_ORIENTATION_TOL = 1e-3  # |cosine difference| allowed between source and label grid axes


def not_measured_suffix(not_measured: dict[str, str]) -> str:
    """'; L hip NOT MEASURED' / '; R,L hips NOT MEASURED' for sides ('left'/'right') not measured."""
    letters = [side[0].upper() for side in ("right", "left") if side in not_measured]
    if not letters:
        return ""
    return f"; {','.join(letters)} hip{'s' if len(letters) > 1 else ''} NOT MEASURED"


def _segment_descriptions(settings: ReportSettings, version: str, not_measured: dict[str, str] | None = None):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algorithm = hd.AlgorithmIdentificationSequence(
        name=settings.seg_algorithm_name, version=version,
        family=codes.DCM.ImageProcessing)
    abnormal = codes.SCT.MorphologicallyAbnormalStructure
    common = dict(algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
                  algorithm_identification=algorithm)
    not_measured = not_measured or {}
    suffix = not_measured_suffix(not_measured)
    head_suffix = suffix.replace(" NOT MEASURED", " edema/necrosis NOT MEASURED")
    segments = [
        hd.seg.SegmentDescription(1, ("Femoral head" + head_suffix)[:64], codes.SCT.AnatomicalStructure,
                                  codes.SCT.FemoralHead, tracking_id="femoral head",
                                  tracking_uid=hd.UID(), **common),
        hd.seg.SegmentDescription(2, ("Bone marrow edema" + suffix)[:64], abnormal, codes.SCT.Edema,
                                  anatomic_regions=[codes.SCT.BoneMarrow],
                                  tracking_id="bone marrow edema", tracking_uid=hd.UID(),
                                  **common),
        hd.seg.SegmentDescription(3, ("Osteonecrosis" + suffix)[:64], abnormal, codes.SCT.Necrosis,
                                  anatomic_regions=[codes.SCT.FemoralHead],
                                  tracking_id="osteonecrosis", tracking_uid=hd.UID(), **common),
    ]
    if not_measured:  # SegmentDescription (ST): why, per hip
        why = "; ".join(f"{side} hip NOT MEASURED: {not_measured[side]}" for side in ("right", "left")
                        if side in not_measured)
        for segment in segments:
            segment.SegmentDescription = why[:1024]
    return segments


def _series_description(base: str, note: str) -> str:
    """``base`` and ``note`` within 64 characters (LO): the note whole, the base shortened."""
    if not note:
        return base[:64]
    room = 64 - len(note) - 1
    return (f"{base[:room].rstrip()} {note}" if room > 0 else note)[:64]


_TYPE2_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                        "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
                        "AccessionNumber")


def _complete_type2(ds: pydicom.Dataset) -> pydicom.Dataset:
    """Add empty Type 2 patient/study attributes a source lacks (in memory only: inputs are
    never written), which highdicom copies into the SEG."""
    for keyword in _TYPE2_PATIENT_STUDY:
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def segment_masks(labels: np.ndarray) -> np.ndarray:
    """Boolean masks ``[i, j, k, 3]``: femoral head (1-3), edema (2), necrosis (3)."""
    labels = np.asarray(labels)
    return np.stack([(labels >= Label.HEAD_MARROW) & (labels <= Label.NECROSIS),
                     labels == Label.EDEMA, labels == Label.NECROSIS], axis=-1)


def match_source_slices(geometry: Geometry, datasets: list[pydicom.Dataset],
                        names: list[str]) -> list[int]:
    """For each source dataset, the label-grid slice index ``k`` it shows (LPS geometry)."""
    direction = geometry.direction_lps
    origin = np.asarray(geometry.origin_lps_mm)
    normal = direction[:, 2]
    spacing_k = geometry.spacing_mm[2]
    ks: list[int] = []
    for ds, name in zip(datasets, names):
        try:
            iop = np.asarray([float(v) for v in ds.ImageOrientationPatient])
            ipp = np.asarray([float(v) for v in ds.ImagePositionPatient])
            rows, cols = int(ds.Rows), int(ds.Columns)
        except (AttributeError, TypeError, ValueError) as exc:
            raise GeometryError(f"source image {name}: no usable ImageOrientationPatient/"
                                f"ImagePositionPatient/Rows/Columns ({exc}); cannot place the "
                                "SEG frames") from exc
        if (np.max(np.abs(iop[:3] - direction[:, 0])) > _ORIENTATION_TOL
                or np.max(np.abs(iop[3:] - direction[:, 1])) > _ORIENTATION_TOL):
            raise GeometryError(f"source image {name}: orientation {np.round(iop, 4).tolist()} "
                                "differs from the label map's grid; write the SEG against the "
                                "series the labels were computed on")
        if (cols, rows) != (geometry.shape[0], geometry.shape[1]):
            raise GeometryError(f"source image {name}: {rows}x{cols} pixels, the label map has "
                                f"{geometry.shape[1]}x{geometry.shape[0]} per slice")
        k_float = float(np.dot(ipp - origin, normal)) / spacing_k
        k = int(round(k_float))
        in_plane = ipp - geometry.index_to_lps(np.array([0.0, 0.0, float(k)]))
        if (abs(k_float - k) * spacing_k > _POSITION_TOL_MM or not 0 <= k < geometry.shape[2]
                or np.linalg.norm(in_plane) > _POSITION_TOL_MM):
            raise GeometryError(f"source image {name}: position {np.round(ipp, 2).tolist()} mm "
                                "is not on a slice of the label map's grid")
        ks.append(k)
    if len(set(ks)) != len(ks):
        raise GeometryError("two source images sit on the same slice position; pass one series")
    return ks


def write_dicom_seg(labels: np.ndarray, geometry: Geometry, source_files: list[Path],
                    path: Path, settings: ReportSettings, version: str = "",
                    series_instance_uid: str | None = None,
                    sop_instance_uid: str | None = None, qc_note: str = "",
                    qc_detail: str = "", qc_series_note: str | None = None,
                    not_measured: dict[str, str] | None = None) -> Path:
    """Write a BINARY DICOM SEG of ``labels`` over the source series (atomic); returns ``path``.

    Parameters
    ----------
    labels : uint8 ``[i, j, k]`` label map on ``geometry`` (:class:`~bme_mri.types.Label`).
    geometry : the analysed series' grid (LPS), the one the source files describe.
    source_files : the series' single-frame DICOM files, any order; only the slices they cover
        are referenced (every one of them must lie on the grid).
    path : output file (``.dcm``).
    settings : the ``report`` config section (series number/description, manufacturer).
    version : software version written into the SEG (bme-mri version).
    series_instance_uid, sop_instance_uid : fixed UIDs (reproducible output); new ones if None.
    qc_note : quality-control summary, e.g. 'QC FAILED right: head_cut_by_fov'; when given it
        replaces ContentDescription (LO, cut to 64 characters).
    qc_detail : every flag with its reason, written to ImageComments (LT).
    qc_series_note : the short form appended to SeriesDescription so a viewer's series list
        shows it whole within 64 characters, e.g. 'QC FAILED R,L: not measured' (default
        ``qc_note``).
    not_measured : side ('left'/'right') -> why its edema and necrosis were not measured; the
        segments' labels and descriptions say so.
    """
    import highdicom as hd

    labels = np.asarray(labels)
    if tuple(labels.shape) != tuple(geometry.shape):
        raise GeometryError(f"label map {labels.shape} does not match its grid {geometry.shape}")
    if not source_files:
        raise DicomReadError("no source images given for the DICOM SEG")
    datasets = []
    for file in source_files:
        try:
            datasets.append(_complete_type2(pydicom.dcmread(str(file))))
        except Exception as exc:  # pydicom raises many types for a bad file
            raise DicomReadError(f"cannot read source image {file} for the SEG: {exc}") from exc
    ks = match_source_slices(geometry, datasets, [str(f) for f in source_files])
    order = np.argsort(ks)
    datasets = [datasets[i] for i in order]
    ks = [ks[i] for i in order]
    masks = segment_masks(labels)  # [i, j, k, s]
    if not masks[:, :, ks].any():
        raise OutputError(f"label map has no femoral head, edema or necrosis on the source "
                          f"slices; no DICOM SEG written to {path}")
    # frames: [frame, row (j), column (i), segment]
    pixel_array = np.ascontiguousarray(np.transpose(masks[:, :, ks, :], (2, 1, 0, 3))).astype(np.uint8)
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=pixel_array,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=_segment_descriptions(settings, version or "unknown", not_measured),
        series_instance_uid=series_instance_uid or hd.UID(),
        series_number=int(settings.seg_series_number),
        sop_instance_uid=sop_instance_uid or hd.UID(),
        instance_number=1,
        manufacturer=settings.seg_manufacturer,
        manufacturer_model_name="bme-mri",
        software_versions=version or "unknown",
        device_serial_number="0",
        content_description=(qc_note or "Femoral head, bone marrow edema and osteonecrosis")[:64],
        content_label="BME_HIP",
        series_description=_series_description(settings.seg_series_description,
                                               qc_note if qc_series_note is None else qc_series_note),
    )
    if qc_detail:
        seg.ImageComments = qc_detail[:10240]
    with atomic_path(Path(path)) as tmp:
        seg.save_as(str(tmp))
    return Path(path)
