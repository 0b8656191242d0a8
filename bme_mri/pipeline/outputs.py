"""Write one analysed study's files: label map (NIfTI), DICOM SEG, overlay PNGs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.nifti import write_nifti
from bme_mri.types import Label

LABEL_LEGEND = {str(int(label)): label.name.lower() for label in Label}
NO_DICOM_SOURCE_NOTE = "no DICOM source (NIfTI input): DICOM SEG not written; labels.nii.gz holds the labels"

# every file a study folder may hold (write_study_outputs, study.json, atomic temp files)
_STUDY_OUTPUT_NAME = re.compile(r"study\.json|labels\.(nii\.gz|json)|edema_headneck\.(nii\.gz|json)"
                                r"|overlay_[a-z]+\.png|seg\.dcm|\..+\.tmp.*")


def is_study_output_folder(folder: Path) -> bool:
    """Whether ``folder`` holds only files bme-mri writes for a study (so a rerun may replace
    it whole); a folder with anything else (an input, a user's file) is never replaced."""
    return all(path.is_file() and _STUDY_OUTPUT_NAME.fullmatch(path.name) for path in Path(folder).iterdir())


def write_study_outputs(analysis: Any, study_out: Path, out_root: Path, config: Config,
                        final_dir: Path | None = None) -> dict[str, Any]:
    """Write outputs under ``study_out``; return their paths relative to ``out_root``.

    ``final_dir``: where the files will live once published, when ``study_out`` is a staging
    folder (:func:`bme_mri.io_utils.staged_folder`); paths are reported there.

    A NIfTI input has no DICOM instances for a SEG to reference: ``dicom_seg`` is then None and
    ``dicom_seg_note`` says why (not an error, not a warning).
    """
    segmentation, image = analysis.segmentation, analysis.image
    outputs: dict[str, Any] = {}
    # blocked means not measured: the label files say which hip, not only the tables
    not_measured = {getattr(m.side, "value", m.side): m.not_measured for m in analysis.measurements
                    if getattr(m, "not_measured", None)}

    def relative(path: Path) -> str:
        return ((final_dir or study_out) / path.relative_to(study_out)).relative_to(out_root).as_posix()

    labels_path = write_nifti(segmentation.labels.astype(np.uint8), image.geometry, study_out / "labels.nii.gz",
                              sidecar={"labels": LABEL_LEGEND,
                                       "series_uid": image.meta.get("series_uid"),
                                       "femoral_head": "labels 1-3: bone inside the head's best-fit sphere, "
                                                       "articular side of the head-neck junction plane",
                                       "not_measured": {side: f"NOT MEASURED ({why}): this hip has no edema or "
                                                              "necrosis label, which does not mean it has none"
                                                        for side, why in not_measured.items()}})
    outputs["labels"] = relative(labels_path)
    headneck = getattr(segmentation, "edema_headneck", None)
    if headneck is not None:
        path = write_nifti(headneck.astype(np.uint8), image.geometry, study_out / "edema_headneck.nii.gz")
        outputs["edema_headneck"] = relative(path)

    if config.pipeline.write_overlays:
        from bme_mri.report.overlay import focus_points, render_overlay_png

        overlays = []
        volumes = {getattr(m.side, "value", m.side): m for m in analysis.measurements}
        quality = {q.side.value: q for q in getattr(analysis, "qc", [])}
        for head in segmentation.heads:
            side = getattr(head.side, "value", head.side)
            figures = overlay_figures(volumes.get(side), quality.get(side))
            path = render_overlay_png(image, segmentation.labels, study_out / f"overlay_{side}.png",
                                      half_width_mm=config.report.overlay_half_width_mm,
                                      focus=focus_points(segmentation.labels, image.geometry, head.center_lps_mm),
                                      title=f"{analysis.study.patient_id} {analysis.study.study_date} {side} hip"
                                            f"{figures}")
            overlays.append(relative(path))
        outputs["overlays"] = overlays

    source_files = getattr(analysis.selection.analysis, "files", None)
    if config.pipeline.write_dicom_seg and getattr(analysis.selection.analysis, "nifti_path", None) is not None:
        # a SEG references its source DICOM instances; a NIfTI input has none to reference
        outputs["dicom_seg"] = None
        outputs["dicom_seg_note"] = NO_DICOM_SOURCE_NOTE
    elif config.pipeline.write_dicom_seg and source_files:
        from bme_mri.errors import OutputError
        from bme_mri.report.seg import write_dicom_seg

        try:
            note, detail = _seg_qc_text(getattr(analysis, "qc", []))
            short = seg_series_note(getattr(analysis, "qc", []))
            if len(note) > 64:  # ContentDescription is LO: a note cut through a side's codes misleads
                note = f"{short}; the reasons in ImageComments"
            path = write_dicom_seg(segmentation.labels, image.geometry, list(source_files),
                                   study_out / "seg.dcm", config.report, version=__version__,
                                   qc_note=note, qc_detail=detail, qc_series_note=short,
                                   not_measured=not_measured)
            outputs["dicom_seg"] = relative(path)
        except OutputError as exc:  # an all-empty label map has nothing to encode
            analysis.warnings.append(f"DICOM SEG not written: {exc}")
    return outputs


def overlay_figures(measured: Any, hip_qc: Any) -> str:
    """The figures of an overlay's title: ': head 52.1 ml, edema 3.2 (2.7-3.9) ml, necrosis 0.00 ml'
    (the edema's range in brackets), or
    for a hip with a blocking QC flag ': head 52.1 ml; edema and necrosis NOT MEASURED' and the
    reason on a second line (blocked means not measured: no number to read as a result); a hip
    whose fat suppression could not be verified gets a 'CHECK: ...' line under its figures."""
    if measured is None:
        return ""
    head = ("head not measured" if measured.femoral_head_ml is None
            else f"head {measured.femoral_head_ml:.1f} ml")
    if measured.not_measured or measured.edema_ml is None:
        codes = ", ".join(dict.fromkeys(f.code for f in hip_qc.blocking)) if hip_qc is not None else ""
        why = (measured.not_measured or "").removeprefix("not measured: ") or "blocking quality control"
        return (f": {head}; edema and necrosis NOT MEASURED\n{why}"
                + (f"\nQC FAILED: {codes}" if codes and codes not in why else ""))
    edema_span = getattr(measured, "edema_ml_range", None)
    span = f" ({edema_span[0]:.1f}-{edema_span[1]:.1f})" if edema_span else ""
    text = f": {head}, edema {measured.edema_ml:.1f}{span} ml, necrosis {measured.necrosis_ml:.2f} ml"
    if hip_qc is not None and hip_qc.blocking:  # the picture says it, not only the tables
        text += "\nQC FAILED (not trustworthy): " + ", ".join(f.code for f in hip_qc.blocking)
    from bme_mri.quantify.qc import REVIEW_CODES

    if hip_qc is not None and any(f.code in REVIEW_CODES for f in hip_qc.flags):
        text += "\nCHECK: fat suppression not verified - the edema may be fatty marrow"
    return text


def seg_series_note(qc: list[Any]) -> str:
    """The short QC note of the SEG's SeriesDescription: 'QC FAILED R,L: not measured' when a
    hip has a blocking flag, 'QC warnings L' for warnings only, '' when clean (the codes and
    reasons are in ContentDescription and ImageComments)."""
    order = {"right": 0, "left": 1}
    failed = sorted((q.side.value for q in qc if q.blocking), key=order.get)
    warned = sorted((q.side.value for q in qc if q.flags and not q.blocking), key=order.get)
    if failed:
        return f"QC FAILED {','.join(s[0].upper() for s in failed)}: not measured"
    return f"QC warnings {','.join(s[0].upper() for s in warned)}" if warned else ""


def _seg_qc_text(qc: list[Any]) -> tuple[str, str]:
    """(short note, full text) of the hips' QC flags for the DICOM SEG: 'QC FAILED right:
    head_cut_by_fov' when a blocking flag is present, 'QC warnings ...' for warnings only."""
    failed = [f"{q.side.value}: {','.join(dict.fromkeys(f.code for f in q.blocking))}"
              for q in qc if q.blocking]
    warned = [f"{q.side.value}: {q.codes}" for q in qc if q.flags and not q.blocking]
    note = ("QC FAILED " + "; ".join(failed)) if failed else (
        ("QC warnings " + "; ".join(warned)) if warned else "")
    detail = " | ".join(f"{q.side.value} hip: {q.reason}" for q in qc if q.flags)
    return note, detail
