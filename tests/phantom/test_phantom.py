"""Phantom generator: determinism, layout, geometry, truth consistency, contrasts, plans."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from bme_mri.compare.status import call_status
from bme_mri.nifti import read_nifti
from bme_mri.phantom import COHORTS, cohort_plans, generate_cohort
from bme_mri.phantom.cohort import generate_plans, scenes_for, status_thresholds
from bme_mri.phantom.plan import PatientPlan
from bme_mri.phantom.truth import side_volumes
from bme_mri.types import Geometry


def _tiny_plan(index: int = 0) -> PatientPlan:
    return PatientPlan(index=index, patient_id=f"TINY{index}", sex="M", vendor="siemens",
                       courses={"right": "edema"}, n_visits=1, unilateral="right", fast=True)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("smoke")
    manifest = generate_cohort(out, "smoke", seed=7, png=True)
    return out, json.loads(manifest.read_text())


def _series_files(study_dir: Path, series_uid: str) -> list[str]:
    files = []
    for path in study_dir.rglob("*"):
        if not path.is_file():
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if ds.SeriesInstanceUID == series_uid:
            files.append(str(path))
    return files


def _read_series(study_dir: Path, series_uid: str) -> tuple[np.ndarray, Geometry]:
    """Read with SimpleITK (an independent reader); returns array [i, j, k] and geometry."""
    reader = sitk.ImageSeriesReader()
    folder = Path(_series_files(study_dir, series_uid)[0]).parent
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series_uid)
    reader.SetFileNames(list(names))
    image = reader.Execute()
    array = np.transpose(sitk.GetArrayFromImage(image), (2, 1, 0)).astype(np.float32)
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    geometry = Geometry(array.shape, image.GetSpacing(), image.GetOrigin(), direction)
    return array, geometry


def test_cohort_names_are_documented():
    assert {"smoke", "vendors", "validation", "followup", "meizer", "bench"} <= set(COHORTS)
    assert len(cohort_plans("validation")) >= 12
    assert sum(p.n_visits for p in cohort_plans("vendors")) >= 9


def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    generate_plans(tmp_path / "a", "tiny", [_tiny_plan()], seed=3)
    generate_plans(tmp_path / "b", "tiny", [_tiny_plan()], seed=3)
    generate_plans(tmp_path / "c", "tiny", [_tiny_plan()], seed=4)
    a, b, c = (_hashes(tmp_path / n) for n in "abc")
    assert a and a == b
    assert a != c


def test_truth_lies_beside_not_inside_the_dicom_tree(smoke):
    out, manifest = smoke
    assert (out / "truth" / "cohort.json").is_file()
    inside = [p for p in (out / "dicom").rglob("*") if p.suffix in (".json", ".gz", ".nii", ".png")]
    assert inside == []
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            assert (out / study["labels"]).is_file() and (out / study["truth"]).is_file()
            assert study["labels"].startswith("truth/")
    junk = [p.name for p in (out / "dicom").rglob("*") if p.name in ("notes.txt", ".DS_Store")]
    assert junk


def test_label_map_is_on_the_stir_grid_read_by_simpleitk(smoke):
    out, manifest = smoke
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            _, geometry = _read_series(out / study["dicom_dir"], study["stir_series_uid"])
            labels = read_nifti(out / study["labels"])
            assert labels.geometry.shape == geometry.shape
            assert np.max(np.abs(labels.geometry.corners_lps() - geometry.corners_lps())) < 1e-3


def test_left_head_at_larger_lps_x_and_radius_in_range(smoke):
    out, manifest = smoke
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            truth = json.loads((out / study["truth"]).read_text())
            left, right = truth["sides"]["left"], truth["sides"]["right"]
            assert left["head_center_lps_mm"][0] > right["head_center_lps_mm"][0] + 100
            for side in (left, right):
                assert 21.0 <= side["head_radius_mm"] <= 26.0


def test_truth_volumes_agree_with_the_label_map(smoke):
    out, manifest = smoke
    checked_edema = checked_necrosis = 0
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            truth = json.loads((out / study["truth"]).read_text())
            labels = read_nifti(out / study["labels"])
            voxel_ml = labels.geometry.voxel_volume_ml
            lab = labels.array.astype(int)
            x = labels.geometry.index_to_lps(np.indices(lab.shape).reshape(3, -1).T)[:, 0]
            x = x.reshape(lab.shape)
            for side, sign in (("left", 1), ("right", -1)):
                part = lab[sign * x > 0]
                t = truth["sides"][side]
                head_ml = np.count_nonzero(part > 0) * voxel_ml
                assert head_ml == pytest.approx(t["femoral_head_ml"], rel=0.08)
                edema_ml = np.count_nonzero(part == 2) * voxel_ml
                assert abs(edema_ml - t["edema_ml"]) <= max(1.0, 0.15 * t["edema_ml"])
                necrosis_ml = np.count_nonzero(part == 3) * voxel_ml
                assert abs(necrosis_ml - t["necrosis_ml"]) <= max(0.5, 0.3 * t["necrosis_ml"])
                assert t["edema_headneck_ml"] >= t["edema_ml"]
                checked_edema += t["edema_ml"] > 2
                checked_necrosis += t["necrosis_ml"] > 0.2
    assert checked_edema >= 2 and checked_necrosis >= 1


def test_edema_is_bright_on_stir_and_dark_on_t1_relative_to_marrow(smoke):
    out, manifest = smoke
    study = next(s for p in manifest["patients"] for s in p["studies"] if
                 max(v["edema_ml"] for v in s["sides"].values()) > 5)
    truth = json.loads((out / study["truth"]).read_text())
    lab = read_nifti(out / study["labels"]).array.astype(int)
    stir, _ = _read_series(out / study["dicom_dir"], truth["stir_series_uid"])
    t1, t1_geometry = _read_series(out / study["dicom_dir"], truth["t1_series_uid"])
    assert t1.shape == lab.shape  # coronal main STIR: T1 on the same grid in this cohort
    assert np.median(stir[lab == 2]) > 2.0 * np.median(stir[lab == 1])
    assert np.median(t1[lab == 2]) < 0.85 * np.median(t1[lab == 1])


def test_expected_status_filled_and_as_intended(smoke):
    _, manifest = smoke
    statuses = []
    for patient in manifest["patients"]:
        for f in patient["followups"]:
            assert f["expected_reason"] and f["baseline_study_uid"] != f["followup_study_uid"]
            assert f["expected_status"] == f["intended_status"]
            statuses.append(f["expected_status"])
    assert "necrosis" in statuses and "remission" in statuses


def test_png_previews_are_written(smoke):
    out, _ = smoke
    pngs = list((out / "png").glob("*.png"))
    assert pngs and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_localizer_is_three_orientations_in_one_series(smoke):
    out, manifest = smoke
    study = manifest["patients"][0]["studies"][0]
    truth = json.loads((out / study["truth"]).read_text())
    uid = next(s["series_uid"] for s in truth["series"] if s["role"] == "localizer")
    normals = set()
    for name in _series_files(out / study["dicom_dir"], uid):
        iop = np.reshape(pydicom.dcmread(name, stop_before_pixels=True).ImageOrientationPatient, (2, 3))
        normals.add(tuple(np.round(np.abs(np.cross(iop[0], iop[1])), 3)))
    assert len(normals) == 3


def _plan_statuses(cohort: str, step: float) -> list[tuple[PatientPlan, str, int, str]]:
    thresholds = status_thresholds()
    out = []
    for plan in cohort_plans(cohort):
        scenes = scenes_for(11, plan)
        for side in ("left", "right"):
            if plan.unilateral not in (None, side):
                continue
            vols = [side_volumes(s, side, step=step) for s in scenes]
            for visit in range(1, plan.n_visits):
                call = call_status(vols[0].edema_ml, vols[visit].edema_ml, vols[visit].necrosis_ml,
                                   thresholds)
                assert call.status.value == plan.intended_status(side, visit), (plan.patient_id, side)
                out.append((plan, side, visit, call.status.value))
    return out


def test_followup_cohort_covers_every_status_with_second_visits():
    calls = _plan_statuses("followup", step=1.0)
    assert {c[3] for c in calls} == {"remission", "residual_edema", "progression", "necrosis", "no_edema"}
    assert any(c[2] == 2 for c in calls)
    assert max(p.max_reposition[0] for p in cohort_plans("followup")) == 15.0


def test_meizer_cohort_reproduces_the_published_table():
    calls = _plan_statuses("meizer", step=1.0)
    table = Counter((c[0].group, c[3]) for c in calls if c[1] == c[0].extra["affected_side"])
    assert table == {("iloprost", "remission"): 18, ("core_decompression", "remission"): 14,
                     ("core_decompression", "residual_edema"): 4, ("core_decompression", "necrosis"): 2}


def test_contrasts_cohort_renders_every_study_in_every_contrast():
    plans = cohort_plans("contrasts")
    assert len(plans) >= 6
    for plan in plans:
        # the main STIR and the T1 always; T2 fat-sat, T2, PD and DWI-like on the same anatomy
        assert plan.t2fs and set(plan.distractors) == {"pd", "t2", "dwi"}
    assert {p.main_orientation for p in plans} == {"coronal", "axial", "oblique"}
