"""`bme-mri run` over a folder tree: output contract, geometry, resume, bad input, safety."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from bme_mri.config import load_config
from bme_mri.phantom.dicom_write import write_mr_series
from bme_mri.pipeline import run_batch
from bme_mri.types import Geometry
from tests.conftest import tree_checksums

CONTRACT = ["patient_id", "study_uid", "study_date", "series_uid", "sequence", "side", "femoral_head_ml",
            "edema_ml", "edema_fraction", "necrosis_ml", "seg_path"]
LONGITUDINAL = ["patient_id", "side", "baseline_date", "followup_date", "interval_days", "edema_baseline_ml",
                "edema_followup_ml", "edema_change_pct", "residual_edema", "focal_necrosis", "status", "reason"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def run_dir(smoke_validation) -> Path:
    report, _ = smoke_validation
    return report.json_path.parent / "run"


def test_summary_has_the_contract_columns_and_a_row_per_study_and_side(run_dir: Path, smoke_cohort: Path):
    rows = _rows(run_dir / "summary.csv")
    assert list(rows[0])[: len(CONTRACT)] == CONTRACT
    manifest = json.loads((smoke_cohort / "truth" / "cohort.json").read_text())
    n_studies = sum(len(p["studies"]) for p in manifest["patients"])
    assert len({r["study_uid"] for r in rows}) == n_studies
    assert all(r["error"] == "" and r["side"] in ("left", "right") and r["sequence"] == "stir" for r in rows)
    assert all(len(r["study_date"]) == 10 and r["study_date"][4] == "-" for r in rows)


def test_label_maps_lie_on_the_analysed_series_grid(run_dir: Path, smoke_cohort: Path):
    row = _rows(run_dir / "summary.csv")[0]
    image = nib.load(str(run_dir / row["seg_path"]))
    assert set(np.unique(np.asarray(image.dataobj))) <= {0, 1, 2, 3}
    reader = sitk.ImageSeriesReader()
    series_dir = next(p.parent for p in (smoke_cohort / "dicom").rglob("*") if p.is_file()
                      and row["series_uid"] in reader.GetGDCMSeriesIDs(str(p.parent)))
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series_dir), row["series_uid"]))
    reference = reader.Execute()
    geometry = Geometry.from_affine_ras(image.affine, image.shape)
    sitk_geometry = Geometry(reference.GetSize(), reference.GetSpacing(), reference.GetOrigin(),
                             np.array(reference.GetDirection()).reshape(3, 3))
    assert geometry.same_grid(sitk_geometry, tol_mm=1e-3)


def test_longitudinal_table_has_the_contract_columns(run_dir: Path):
    rows = _rows(run_dir / "longitudinal.csv")
    assert rows and list(rows[0])[: len(LONGITUDINAL)] == LONGITUDINAL
    assert all(r["residual_edema"] in ("true", "false") for r in rows)


def test_run_never_writes_into_the_input(smoke_validation, smoke_cohort: Path):
    _, before = smoke_validation
    assert tree_checksums(smoke_cohort / "dicom") == before


def test_rerun_skips_studies_already_done(run_dir: Path, smoke_cohort: Path):
    labels = sorted(run_dir.rglob("labels.nii.gz"))
    stamps = [p.stat().st_mtime_ns for p in labels]
    result = run_batch(smoke_cohort / "dicom", run_dir, load_config())
    assert result.n_resumed == len(result.records) and result.n_failed == 0
    assert [p.stat().st_mtime_ns for p in labels] == stamps


def test_a_bad_study_is_reported_and_a_hostile_patient_id_stays_inside(tmp_path: Path):
    """A study with a missing slice (PatientID '../../x') fails with its reason; the batch goes on."""
    coronal = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    geometry = Geometry((32, 32, 10), (2.0, 2.0, 4.0), (-30.0, -20.0, 40.0), coronal)
    tags = {"PatientID": "../../x", "StudyDate": "20250101", "SeriesNumber": 4, "SeriesDescription": "COR STIR",
            "ScanningSequence": ["SE", "IR"], "InversionTime": 150.0, "EchoTime": 40.0, "RepetitionTime": 4000.0}
    files = write_mr_series(np.random.default_rng(0).uniform(0, 400, geometry.shape), geometry,
                            tmp_path / "in" / "x", tags)
    files[5].unlink()  # a missing slice
    out = tmp_path / "deep" / "out"
    result = run_batch(tmp_path / "in", out, load_config())
    assert result.n_failed == 1
    (row,) = _rows(out / "summary.csv")
    assert row["patient_id"] == "../../x" and "slice" in row["error"] and "missing" in row["error"]
    written = [p.resolve() for p in tmp_path.rglob("*") if p.is_file() and "in" not in p.relative_to(tmp_path).parts]
    assert written and all(out.resolve() in p.parents for p in written)
