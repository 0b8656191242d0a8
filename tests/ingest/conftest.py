"""Fixtures of the ingest tests: settings from configs/default.yaml and tiny DICOM series."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

import bme_mri
from bme_mri.ingest.settings import IngestSettings
from bme_mri.phantom.dicom_write import write_mr_series
from bme_mri.types import Geometry


DEFAULT_CONFIG_PATH = Path(bme_mri.__file__).resolve().parent.parent / "configs" / "default.yaml"


def _ingest_section() -> dict:
    # only the ingest section: the other stages' sections are validated by their own tests
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))["ingest"]


@pytest.fixture(scope="session")
def settings() -> IngestSettings:
    return IngestSettings.model_validate(_ingest_section())


@pytest.fixture(scope="session")
def lenient_settings() -> IngestSettings:
    section = _ingest_section()
    section["strict"] = False
    return IngestSettings.model_validate(section)


CORONAL = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T  # i=+x(L), j=-z(inferior), k=+y(P)
AXIAL = np.eye(3)
SAGITTAL = np.array([[0, 1.0, 0], [0, 0, -1.0], [-1.0, 0, 0]]).T


def oblique_direction(deg: float = 20.0) -> np.ndarray:
    a = np.radians(deg)
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rot2 = np.array([[np.cos(a / 2), 0, np.sin(a / 2)], [0, 1, 0], [-np.sin(a / 2), 0, np.cos(a / 2)]])
    return rot2 @ rot @ CORONAL


def make_geometry(direction: np.ndarray, shape=(12, 10, 6), spacing=(0.9, 1.1, 3.0),
                  origin=(-30.5, 12.25, 40.0)) -> Geometry:
    return Geometry(shape, spacing, origin, direction)


def write_series(folder: Path, geometry: Geometry, seed: int = 0, **kwargs) -> tuple[np.ndarray, list[Path]]:
    """Random positive array on ``geometry`` written as an MR series; returns (array, paths)."""
    rng = np.random.default_rng(seed)
    array = rng.uniform(0.0, 1000.0, size=geometry.shape)
    tags = {"PatientID": "P1", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1",
            "SeriesDescription": "COR STIR", "SeriesNumber": 5, "StudyDate": "20240131"}
    tags.update(kwargs.pop("tags", {}))
    paths = write_mr_series(array, geometry, folder, tags, rng=rng, **kwargs)
    return array, paths


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (by relative path)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
