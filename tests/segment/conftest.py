"""Segment every study of the session's smoke phantom cohort once, with its truth beside."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bme_mri.types import Volume


@dataclass
class SegmentedStudy:
    name: str
    image: Volume
    segmentation: object  # bme_mri.segment.Segmentation
    truth_labels: np.ndarray
    truth: dict


@pytest.fixture(scope="session")
def smoke_segmented(smoke_cohort: Path) -> list[SegmentedStudy]:
    from bme_mri.config import load_config
    from bme_mri.ingest import discover, load_volume, select_series
    from bme_mri.nifti import read_nifti
    from bme_mri.segment import get_segmenter

    config = load_config()
    manifest = json.loads((smoke_cohort / "truth" / "cohort.json").read_text())
    studies = {s.study_uid: s for s in discover(smoke_cohort / "dicom", config.ingest).studies}
    segmenter = get_segmenter(config.segment)
    out = []
    for patient in manifest["patients"]:
        for entry in patient["studies"]:
            selection = select_series(studies[entry["study_uid"]], config.ingest)
            image = load_volume(selection.analysis, config.ingest)
            t1 = load_volume(selection.t1, config.ingest) if selection.t1 is not None else None
            out.append(SegmentedStudy(
                name=f"{patient['patient_id']}/v{entry['visit']}", image=image,
                segmentation=segmenter.segment(image, t1),
                truth_labels=read_nifti(smoke_cohort / entry["labels"]).array.astype(np.uint8),
                truth=json.loads((smoke_cohort / entry["truth"]).read_text())))
    return out


def near_side_mask(study: SegmentedStudy, side: str) -> np.ndarray:
    """Voxels nearer this side's true head centre than the other side's."""
    sides = study.truth["sides"]
    other = "right" if side == "left" else "left"
    geometry = study.image.geometry
    idx = np.indices(geometry.shape).reshape(3, -1).T
    xyz = geometry.index_to_lps(idx)
    mine = np.linalg.norm(xyz - np.array(sides[side]["head_center_lps_mm"]), axis=1)
    theirs = np.linalg.norm(xyz - np.array(sides[other]["head_center_lps_mm"]), axis=1)
    return (mine <= theirs).reshape(geometry.shape)
