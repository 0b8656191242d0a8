"""One study through ingest -> segment -> quantify, in memory (no files written here)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bme_mri.config import Config
from bme_mri.types import Volume


@dataclass
class StudyAnalysis:
    """Everything the later stages and the writers need from one analysed study.

    ``image`` is the analysed (STIR / T2 fat-sat) series; ``segmentation.labels`` lies on its
    voxel grid. ``measurements`` holds one entry per femoral head found (per side); a hip with a
    blocking QC flag has no edema or necrosis figure (:mod:`bme_mri.quantify.withhold`).
    """

    study: Any  # bme_mri.ingest StudyInfo
    selection: Any  # bme_mri.ingest Selection
    image: Volume
    t1: Volume | None
    segmentation: Any  # bme_mri.segment Segmentation
    measurements: list[Any]  # bme_mri.quantify SideMeasurement
    warnings: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    qc: list[Any] = field(default_factory=list)  # bme_mri.quantify.qc HipQc, one per head


def analyse_study(study: Any, config: Config) -> StudyAnalysis:
    """Select the series, assemble the volume(s), segment and measure one study.

    Raises a :class:`~bme_mri.errors.BmeError` subclass with a one-line reason when the
    study cannot be analysed (no suitable series, broken geometry, no femoral head).
    """
    from bme_mri.ingest import load_volume
    from bme_mri.ingest.classify import no_fat_suppression_evidence
    from bme_mri.quantify import measure
    from bme_mri.quantify.qc import assess_hips
    from bme_mri.quantify.withhold import withhold_blocked
    from bme_mri.segment import get_segmenter

    timings: dict[str, float] = {}
    warnings: list[str] = []
    start = time.perf_counter()
    selection = _select_with_hint(study, config)
    image = load_volume(selection.analysis, config.ingest)
    warnings.extend(image.meta.get("warnings", []))
    t1 = None
    if selection.t1 is not None:
        try:
            t1 = load_volume(selection.t1, config.ingest)
        except Exception as exc:  # noqa: BLE001 - the T1 is optional; say why it was dropped
            warnings.append(f"T1 series {selection.t1.stack_id} not used: {exc}")
    timings["ingest"] = time.perf_counter() - start

    start = time.perf_counter()
    segmentation = get_segmenter(config.segment).segment(image, t1)
    warnings.extend(segmentation.warnings)
    timings["segment"] = time.perf_counter() - start

    start = time.perf_counter()
    measurements = measure(segmentation)
    timings["quantify"] = time.perf_counter() - start

    start = time.perf_counter()
    # the series' own headers may say reliably that fat is not suppressed (a T2 TSE given as STIR)
    headers_say = no_fat_suppression_evidence(getattr(selection.analysis, "headers", None) or {}, config.ingest)
    qc = assess_hips(image, segmentation, config.qc, t1, headers_say_no_fat_suppression=headers_say)
    # blocked means not measured: no edema / necrosis figure (nor lesion labels) for such a hip
    measurements = withhold_blocked(segmentation, measurements, qc)
    timings["qc"] = time.perf_counter() - start
    return StudyAnalysis(study, selection, image, t1, segmentation, measurements, warnings, timings,
                         qc=qc)


def _select_with_hint(study: Any, config: Config) -> Any:
    """:func:`~bme_mri.ingest.select_series`; a NIfTI study's refusal says how to name the file."""
    from bme_mri.errors import SeriesSelectionError
    from bme_mri.ingest import select_series
    from bme_mri.ingest.nifti_input import selection_hint

    try:
        return select_series(study, config.ingest)
    except SeriesSelectionError as exc:
        hint = selection_hint(study)
        if not hint:
            raise
        raise type(exc)(f"{exc}{hint}") from None  # the same kind: "not analysable" stays so
