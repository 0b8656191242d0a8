"""Generate one phantom study (one visit of one patient): DICOM series + truth files."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from bme_mri.io_utils import safe_name, write_json_atomic
from bme_mri.nifti import write_nifti
from bme_mri.phantom.dicom_write import deterministic_uid, write_mr_series
from bme_mri.phantom.physics import add_rician_noise, make_bias
from bme_mri.phantom.plan import PatientPlan, patient_rng
from bme_mri.phantom.render import render_grid
from bme_mri.phantom.scene import Scene
from bme_mri.phantom.series import GridSpec, directions, make_grid, sequence_params, series_tags
from bme_mri.phantom.tissue import Tissue, intensity_table
from bme_mri.phantom.truth import SideVolumes, side_record, side_volumes, transform_record

BASE_DATE = date(2024, 1, 8)
VISIT_INTERVAL_DAYS = (0, 91, 182)


@dataclass
class SeriesPlan:
    role: str  # stir | t1 | t2fs | localizer | distractor | repeat
    kind: str  # sequence kind (series.sequence_params)
    orientation: str
    grids: list[GridSpec]  # one, or three for a localizer
    number: int


def study_date(plan: PatientPlan, visit: int) -> date:
    return BASE_DATE + timedelta(days=7 * plan.index + VISIT_INTERVAL_DAYS[visit] + 3 * (plan.index % 3))


FOV_CUT_INSIDE_MM = 6.0  # a cut head's centre lies this far inside the edge of the field


def _cut_through_head(grid: GridSpec, head_center: np.ndarray) -> GridSpec:
    """The same grid shifted along its row (i) axis until its edge passes ``FOV_CUT_INSIDE_MM``
    beyond the head centre: the lateral part of that femoral head lies outside the field."""
    row = np.asarray(grid.direction)[:, 0]
    centre = np.asarray(grid.center_lps)
    half = (grid.matrix[0] - 1) / 2.0 * grid.spacing_mm[0]
    offset = float((np.asarray(head_center) - centre) @ row)
    sign = 1.0 if offset >= 0 else -1.0
    shift = offset - sign * (half - FOV_CUT_INSIDE_MM)  # puts the edge FOV_CUT_INSIDE_MM past the centre
    return replace(grid, center_lps=tuple(float(v) for v in centre + shift * row))


def head_outside_fraction(scene: Scene, side: str, geometry, step_mm: float = 1.0) -> float:
    """Fraction (0-1) of the true femoral head proper of ``side`` lying outside ``geometry``
    (voxel centres +/- half a voxel), the head placed where the patient lies at this visit."""
    from bme_mri.phantom.anatomy import head_region

    hip = scene.anatomy.hips[side]
    r = hip.head_radius
    axis = np.arange(-r + step_mm / 2, r, step_mm)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    body = (grid + np.asarray(hip.head_center)).astype(np.float32)
    body = body[head_region(body, hip)]
    idx = geometry.lps_to_index(scene.to_visit(body))
    shape = np.asarray(geometry.shape, dtype=np.float64)
    return float(1.0 - np.all((idx >= -0.5) & (idx <= shape - 0.5), axis=1).mean())


def _main_grids(plan: PatientPlan, scene: Scene, rng: np.random.Generator,
                visit: int = 0) -> dict[str, GridSpec]:
    """'main' (the STIR grid), 'coronal' (T1), 'axial' (T2 / DWI) and the localizer grids."""
    centers = {s: scene.to_visit(np.asarray([h.head_center]))[0] for s, h in scene.anatomy.hips.items()}
    if plan.unilateral:
        sign = 1.0 if plan.unilateral == "left" else -1.0
        center = centers[plan.unilateral] + np.array([sign * 15.0, 0.0, -20.0])
        fov, in_plane, slice_mm = 180.0, (1.2 if plan.fast else 0.9), 3.5
    else:
        center = (centers["left"] + centers["right"]) / 2 + np.array([0.0, 0.0, -15.0])
        fov, in_plane, slice_mm = 360.0, (1.8 if plan.fast else 1.4), 4.0
    center = center + rng.normal(0, 3.0, 3)
    oblique = float(rng.uniform(12.0, 20.0) * rng.choice([-1, 1]))
    grids: dict[str, GridSpec] = {}
    coronal = make_grid(center, directions("coronal", plan.mirrored), fov, in_plane, 92.0, slice_mm)
    grids["coronal"] = coronal
    axial_center = center + np.array([0.0, 0.0, 5.0])
    if plan.main_orientation == "coronal":
        grids["main"] = coronal
    elif plan.main_orientation == "oblique":
        grids["main"] = make_grid(center, directions("oblique", plan.mirrored, oblique), fov, in_plane,
                                  92.0, slice_mm)
    else:
        grids["main"] = make_grid(axial_center, directions("axial", plan.mirrored), fov, in_plane,
                                  110.0, slice_mm)
    if plan.fov_cut_side and visit in plan.fov_cut_visits:
        grids["main"] = _cut_through_head(grids["main"], centers[plan.fov_cut_side])
    grids["axial"] = make_grid(axial_center, directions("axial"), fov, 2.0 if plan.fast else 1.6, 100.0, 5.0)
    for name in ("axial", "coronal", "sagittal"):
        grids[f"loc_{name}"] = make_grid(center, directions(name), 400.0, 2.5, 20.0, 10.0)
    return grids


def _series_plans(plan: PatientPlan, grids: dict[str, GridSpec]) -> list[SeriesPlan]:
    main_ori = plan.main_orientation
    items = [SeriesPlan("localizer", "localizer", "coronal",
                        [grids["loc_axial"], grids["loc_coronal"], grids["loc_sagittal"]], 1)]
    t1 = SeriesPlan("t1", "t1", "coronal", [grids["coronal"]], 0)
    stir = SeriesPlan("stir", "stir", main_ori, [grids["main"]], 0)
    order = [t1, stir] if plan.vendor == "ge" else [stir, t1]
    if plan.repeat_stir:
        order.insert(order.index(stir), SeriesPlan("repeat", "stir", main_ori, [grids["main"]], 0))
    if plan.t2fs:
        order.append(SeriesPlan("t2fs", "t2fs", "axial", [grids["axial"]], 0))
    for kind in plan.distractors:
        grid, ori = (grids["coronal"], "coronal") if kind == "pd" else (grids["axial"], "axial")
        order.append(SeriesPlan("distractor", kind, ori, [grid], 0))
    for number, item in enumerate(order, start=2):
        item.number = number
    return items + order


def generate_study(out_root: Path, seed: int, plan: PatientPlan, visit: int, scene: Scene,
                   png: bool = False) -> tuple[dict, dict[str, SideVolumes]]:
    """Write one study under ``out_root/dicom`` and its truth under ``out_root/truth``;
    returns the study entry of cohort.json and the truth volumes per side."""
    rng = patient_rng(seed, plan.index, 100 + visit)
    pid = plan.patient_id
    when = study_date(plan, visit)
    study_uid = deterministic_uid("bme-mri-phantom", seed, pid, visit, "study")
    grids = _main_grids(plan, scene, rng, visit)
    series = _series_plans(plan, grids)
    bias = make_bias(rng, plan.bias, plan.bias_wavelength_mm)
    # one render per distinct grid, all sequences of that grid at once
    params = {id(s): sequence_params(s.kind, rng) for s in series}
    if visit in plan.fat_suppression_failed:  # the analysed STIR(s) do not null fat
        params.update({id(s): replace(params[id(s)], fat_not_nulled=True)
                       for s in series if s.role in ("stir", "repeat")})
    rendered: dict[tuple[int, GridSpec], np.ndarray] = {}
    labels = None
    by_grid: dict[GridSpec, list[SeriesPlan]] = {}
    for s in series:
        for grid in s.grids:
            by_grid.setdefault(grid, []).append(s)
    for grid, users in by_grid.items():
        want_labels = grid == grids["main"]
        images, lab = render_grid(scene, grid.geometry(), [params[id(s)] for s in users], want_labels)
        for s, image in zip(users, images):
            rendered[(id(s), grid)] = image
        if want_labels:
            labels = lab
    study_folder = f"{when:%Y%m%d}_{rng.bytes(3).hex()}"
    study_dir = out_root / "dicom" / safe_name(pid) / study_folder
    ext = ".dcm" if rng.uniform() < 0.5 else ""
    base_tags = {
        "PatientID": pid, "PatientName": f"PHANTOM^{pid}", "PatientSex": plan.sex,
        "PatientBirthDate": "19800101", "StudyInstanceUID": study_uid,
        "StudyDate": f"{when:%Y%m%d}", "StudyTime": "093000", "StudyID": f"{visit + 1}",
        "AccessionNumber": f"A{plan.index:03d}{visit}", "StudyDescription": "MRI HIP",
        "BodyPartExamined": "HIP", "PatientPosition": "FFS", "ReferringPhysicianName": "",
        "FrameOfReferenceUID": deterministic_uid("bme-mri-phantom", seed, pid, visit, "for"),
    }
    records = []
    stir_written = None
    for s in series:
        seq = params[id(s)]
        series_uid = deterministic_uid("bme-mri-phantom", seed, pid, visit, "series", s.number)
        tags = dict(base_tags)
        tags.update(series_tags(plan.vendor, s.kind, s.orientation, seq))
        tags.update({"SeriesInstanceUID": series_uid, "SeriesNumber": s.number,
                     "SeriesDate": f"{when:%Y%m%d}", "SeriesTime": f"09{30 + s.number:02d}00"})
        folder = study_dir if plan.one_folder else study_dir / f"SE{s.number:04d}"
        sigma = float(intensity_table(seq)[Tissue.MUSCLE]) / plan.snr
        gain = float(rng.uniform(800.0, 3000.0))
        offset = 0
        for grid in s.grids:
            geometry = grid.geometry()
            image = rendered[(id(s), grid)]
            xyz = geometry.index_to_lps(np.indices(geometry.shape).reshape(3, -1).T)
            image = image * bias(xyz).reshape(geometry.shape)
            image = add_rician_noise(image, sigma, rng) * gain
            if s.role == "stir":
                stir_written = image
            names = [rng.bytes(8).hex().upper() + ext for _ in range(geometry.shape[2])]
            write_mr_series(image, geometry, folder, tags, file_names=names,
                            instance_order="descending" if plan.reversed_instances and s.role == "stir"
                            else "ascending",
                            per_slice_rescale=plan.per_slice_rescale and s.role in ("stir", "repeat"),
                            rescale_intercept=float(rng.choice([0.0, 0.0, -50.0])),
                            rng=rng, instance_offset=offset)
            offset += geometry.shape[2]
        records.append({"series_uid": series_uid, "role": s.role, "kind": s.kind,
                        "description": tags["SeriesDescription"], "series_number": s.number,
                        "vendor": plan.vendor, "orientation": s.orientation})
    if visit == 0 and plan.index % 2 == 0:
        (study_dir / "notes.txt").write_text("exported by PACS; do not edit\n", encoding="utf-8")
    if plan.index % 3 == 0:
        (study_dir / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + rng.bytes(120))
    # ---- truth -------------------------------------------------------------------
    truth_rel = Path("truth") / safe_name(pid) / f"v{visit}"
    main_geometry = grids["main"].geometry()
    write_nifti(labels, main_geometry, out_root / truth_rel / "labels.nii.gz")
    stir_uid = next(r["series_uid"] for r in records if r["role"] == "stir")
    t1_uid = next(r["series_uid"] for r in records if r["role"] == "t1")
    sides = {}
    volumes = {side: side_volumes(scene, side) for side in ("left", "right")}
    cut_limit = _cut_limit()
    outside = {side: head_outside_fraction(scene, side, main_geometry) for side in ("left", "right")}
    faults = {side: list(dict.fromkeys(plan.qc_faults(side, visit) + (
        ["head_cut_by_fov"] if outside[side] > cut_limit else []))) for side in ("left", "right")}
    for side in ("left", "right"):
        present = plan.unilateral in (None, side)
        sides[side] = side_record(scene, side, present, volumes[side])
    truth = {"patient_id": pid, "study_uid": study_uid, "study_date": f"{when:%Y-%m-%d}",
             "visit": visit, "stir_series_uid": stir_uid, "t1_series_uid": t1_uid,
             "stir_geometry": main_geometry.to_dict(), "sides": sides,
             "transform_to_baseline": transform_record(scene.to_body), "series": records,
             "pathology": {side: p.to_dict() for side, p in scene.pathology.items()}}
    write_json_atomic(out_root / truth_rel / "truth.json", truth)
    if png:
        from bme_mri.phantom.preview import render_truth_png

        centers = [sides[s]["head_center_lps_mm"] for s in ("right", "left") if sides[s]["present"]]
        render_truth_png(stir_written, labels, main_geometry, centers,
                         out_root / "png" / f"{safe_name(pid)}_v{visit}")
    return {"study_uid": study_uid, "study_date": f"{when:%Y-%m-%d}", "visit": visit,
            "stir_series_uid": stir_uid, "labels": str(truth_rel / "labels.nii.gz"),
            "truth": str(truth_rel / "truth.json"), "dicom_dir": str(study_dir.relative_to(out_root)),
            "sides": {s: {**{k: sides[s][k] for k in ("present", "edema_ml", "necrosis_ml")},
                          "head_outside_fov_fraction": round(outside[s], 4),
                          "qc_faults": faults[s] if sides[s]["present"] else []} for s in sides}
            }, volumes


def _cut_limit() -> float:
    """``qc.head.max_outside_fov_fraction`` of configs/default.yaml: a true head cut by more
    than this is a fault the pipeline must flag (one definition for truth and pipeline, as
    the status thresholds)."""
    from bme_mri.config import load_config

    return load_config().qc.head.max_outside_fov_fraction
