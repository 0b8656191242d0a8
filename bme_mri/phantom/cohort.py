"""Named phantom cohorts and :func:`generate_cohort` (DICOM tree + truth + cohort.json)."""

from __future__ import annotations

from collections.abc import Callable

from dataclasses import replace
from pathlib import Path

from bme_mri import __version__
from bme_mri.compare.status import call_status
from bme_mri.compare.settings import StatusThresholds
from bme_mri.errors import ConfigError
from bme_mri.io_utils import write_json_atomic
from bme_mri.phantom.plan import (
    PatientPlan, patient_rng, plan_anatomy, plan_pathology, plan_repositioning,
)
from bme_mri.phantom.scene import Scene
from bme_mri.phantom.series import VENDORS
from bme_mri.phantom.truth import SideVolumes, side_volumes

COHORTS: dict[str, str] = {
    "smoke": "2 patients x 2 visits, small grids: necrosis at follow-up; remission (CI)",
    "vendors": "10 single-visit studies mixing Siemens/GE/Philips conventions, distractor series "
               "(PD, T2, DWI-like), localizers, one-folder dumps and a repeated STIR",
    "validation": "14 single-visit patients: coronal/axial/oblique main STIR, SNR 10-40, bias "
                  "fields, effusion, necrosis, normal hips, unilateral fields of view",
    "followup": "10 patients with every follow-up status, repositioning up to 15 mm / 5 deg, "
                "a second follow-up for some",
    "meizer": "38 patients, one affected hip each, as Meizer 2005: iloprost 18 remission; core "
              "decompression 14 remission, 4 residual focal edema, 2 small necrosis",
    "bench": "10 single-visit both-hips studies at full resolution for benchmarks",
    "stress": "9 patients x 2 visits, small grids, hard images: muscle SNR 10-15, bias fields up to "
              "+/-30%, large joint effusions, the bladder a few mm from the femoral heads; "
              "remission / no_edema / necrosis / residual courses",
    "stress-noisy": "the stress patients with noise and bias turned up: noise sd x1.25, muscle "
                    "SNR 8-12 (stress: 10-15), bias fields of +/-35% with 150-300 mm wavelengths (up to ~30% across "
                    "one femoral head; stress: 5-15%)",
    "qc": "3 patients x 2 visits, small grids, faults quality control must catch: a follow-up STIR "
          "whose fat suppression failed (fat and marrow bright), a follow-up whose field of view "
          "ends through one femoral head",
    "contrasts": "6 single-visit studies, each rendered as STIR, T1, T2 fat-sat, T2 without fat "
                 "suppression, PD and DWI-like (same anatomy in every contrast): head finding on any contrast",
    "bench_pair": "1 patient x 2 visits at full resolution (remission / no edema, 12 mm / 4 deg "
                  "repositioning): a two-visit patient end to end for benchmarks",
}


def _p(index: int, courses: dict[str, str], **kw) -> PatientPlan:
    kw.setdefault("vendor", VENDORS[index % 3])
    kw.setdefault("sex", "M" if index % 3 else "F")
    return PatientPlan(index=index, patient_id=f"BME{index:04d}", courses=courses, **kw)


def cohort_plans(cohort: str) -> list[PatientPlan]:
    """The patient plans of a named cohort (no randomness here: draws happen per seed)."""
    if cohort == "smoke":
        return [_p(0, {"left": "necrosis", "right": "no_edema"}, fast=True, effusion=("left",),
                   snr=30.0, bias=0.15),
                _p(1, {"left": "no_edema", "right": "remission"}, fast=True, reversed_instances=True,
                   per_slice_rescale=True, snr=25.0, bias=0.1)]
    if cohort == "vendors":
        kinds = [("pd",), ("t2",), ("dwi",), ("pd", "t2"), ("t2", "dwi"), (), ("pd", "dwi"), ("t2",),
                 ("pd", "t2", "dwi"), ()]
        return [_p(i, {"left": ("edema", "no_edema")[i % 2], "right": ("no_edema", "edema")[i % 2]},
                   n_visits=1, vendor=VENDORS[i % 3], distractors=kinds[i], t2fs=i % 2 == 0,
                   repeat_stir=i == 4, one_folder=i in (1, 5, 8), reversed_instances=i % 4 == 3,
                   per_slice_rescale=i % 3 == 1, mirrored=i == 7, fast=True,
                   main_orientation=("coronal", "coronal", "axial", "coronal", "oblique")[i % 5])
                for i in range(10)]
    if cohort == "validation":
        rows = [  # (courses, orientation, unilateral, snr, bias, effusion, mirrored)
            ({"left": "edema", "right": "no_edema"}, "coronal", None, 30, 0.10, (), False),
            ({"left": "no_edema", "right": "edema"}, "axial", None, 20, 0.20, ("right",), False),
            ({"left": "necrosis_edema", "right": "no_edema"}, "oblique", None, 25, 0.05, (), False),
            ({"right": "edema"}, "coronal", "right", 35, 0.15, (), False),
            ({"left": "no_edema", "right": "no_edema"}, "coronal", None, 15, 0.25, (), False),
            ({"left": "necrosis_only", "right": "no_edema"}, "axial", None, 30, 0.10, (), True),
            ({"left": "no_edema", "right": "edema"}, "oblique", None, 12, 0.15, ("left", "right"), False),
            ({"left": "no_edema"}, "coronal", "left", 10, 0.20, (), False),
            ({"left": "edema", "right": "edema"}, "coronal", None, 40, 0.0, (), True),
            ({"left": "necrosis_edema"}, "axial", "left", 20, 0.10, ("left",), False),
            ({"left": "no_edema", "right": "edema_small"}, "coronal", None, 18, 0.25, (), False),
            ({"left": "no_edema", "right": "no_edema"}, "oblique", None, 25, 0.10, ("right",), False),
            ({"left": "edema_small", "right": "necrosis_edema"}, "coronal", None, 22, 0.20, ("left",), False),
            ({"right": "no_edema"}, "axial", "right", 28, 0.05, ("right",), False),
        ]
        return [_p(i, c, n_visits=1, main_orientation=o, unilateral=u, snr=float(snr), bias=b,
                   effusion=e, mirrored=m, t2fs=i % 3 == 0, reversed_instances=i % 4 == 1,
                   per_slice_rescale=i % 5 == 2)
                for i, (c, o, u, snr, b, e, m) in enumerate(rows)]
    if cohort == "followup":
        rows = [  # (courses, visits, orientation, unilateral, max reposition)
            ({"left": "remission", "right": "no_edema"}, 3, "coronal", None, (15.0, 5.0)),
            ({"left": "residual", "right": "no_edema"}, 2, "coronal", None, (10.0, 3.0)),
            ({"left": "no_edema", "right": "progression"}, 3, "coronal", None, (14.0, 4.5)),
            ({"left": "necrosis", "right": "no_edema"}, 2, "oblique", None, (8.0, 5.0)),
            ({"left": "no_edema", "right": "remission_slow"}, 3, "coronal", None, (15.0, 2.0)),
            ({"left": "persist", "right": "remission"}, 2, "axial", None, (12.0, 4.0)),
            ({"left": "residual_focal", "right": "necrosis"}, 3, "coronal", None, (15.0, 5.0)),
            ({"right": "remission"}, 2, "coronal", "right", (6.0, 3.0)),
            ({"left": "progression", "right": "residual"}, 2, "axial", None, (15.0, 5.0)),
            ({"left": "necrosis_small", "right": "remission"}, 2, "oblique", None, (10.0, 4.0)),
        ]
        return [_p(i, c, n_visits=n, main_orientation=o, unilateral=u, max_reposition=r,
                   snr=float(15 + 3 * i), bias=0.05 * (i % 5), effusion=("left",) if i % 4 == 0 else (),
                   fast=True)
                for i, (c, n, o, u, r) in enumerate(rows)]
    if cohort == "meizer":
        groups = ([("iloprost", "remission")] * 18 + [("core_decompression", "remission")] * 14
                  + [("core_decompression", "residual_focal")] * 4
                  + [("core_decompression", "necrosis_small")] * 2)
        plans = []
        for i, (group, course) in enumerate(groups):
            side = ("left", "right")[i % 2]
            other = "right" if side == "left" else "left"
            unilateral = side if i % 3 == 0 else None
            courses = {side: course} if unilateral else {side: course, other: "no_edema"}
            plans.append(_p(i, courses, n_visits=2, unilateral=unilateral, fast=True, group=group,
                            snr=float(15 + i % 20), bias=0.05 * (i % 4), extra={"affected_side": side}))
        return plans
    if cohort == "stress":
        rows = [  # (courses, orientation, unilateral, effusion)
            ({"left": "remission", "right": "no_edema"}, "coronal", None, ("left", "right")),
            ({"left": "no_edema", "right": "remission"}, "axial", None, ("right",)),
            ({"left": "necrosis", "right": "remission"}, "coronal", None, ("left",)),
            ({"left": "residual", "right": "no_edema"}, "oblique", None, ("left", "right")),
            ({"left": "remission", "right": "necrosis_small"}, "coronal", None, ("left", "right")),
            ({"left": "no_edema", "right": "residual_focal"}, "coronal", None, ("right",)),
            ({"right": "remission"}, "coronal", "right", ("right",)),
            ({"left": "remission", "right": "remission"}, "oblique", None, ("left", "right")),
            ({"left": "necrosis", "right": "no_edema"}, "axial", None, ("left", "right")),
        ]
        return [_p(i, c, n_visits=2, main_orientation=o, unilateral=u, effusion=e, fast=True,
                   snr=float(10 + (i * 7) % 6), bias=0.3 if i % 3 else 0.2, effusion_scale=2.0,
                   bladder_near=True, max_reposition=(12.0, 4.0))
                for i, (c, o, u, e) in enumerate(rows)]
    if cohort == "stress-noisy":
        # each patient's noise sd x1.25 (muscle SNR 8-12; stress: 10-15); the bias at the
        # generator's cap with shorter waves: the stress fields (250-600 mm) vary by 5-15% across
        # one head, these by up to ~30%
        return [replace(p, snr=0.8 * p.snr, bias=0.35, bias_wavelength_mm=(150.0, 300.0))
                for p in cohort_plans("stress")]
    if cohort == "qc":
        return [_p(0, {"left": "remission", "right": "no_edema"}, n_visits=2, fast=True,
                   fat_suppression_failed=(1,), snr=25.0, bias=0.1),
                _p(1, {"left": "necrosis", "right": "remission"}, n_visits=2, fast=True,
                   fov_cut_side="left", fov_cut_visits=(1,), snr=25.0, bias=0.1),
                _p(2, {"left": "no_edema", "right": "edema"}, n_visits=1, fast=True,
                   fat_suppression_failed=(0,), snr=25.0, bias=0.1)]
    if cohort == "bench":
        return [_p(i, {"left": ("edema", "no_edema")[i % 2], "right": ("necrosis_edema", "edema")[i % 2]},
                   n_visits=1, t2fs=True, snr=25.0, bias=0.1) for i in range(10)]
    if cohort == "contrasts":
        return [_p(i, {"left": ("edema", "no_edema", "necrosis_edema")[i % 3],
                       "right": ("no_edema", "edema")[i % 2]},
                   n_visits=1, fast=True, t2fs=True, distractors=("pd", "t2", "dwi"),
                   main_orientation=("coronal", "axial", "oblique")[i % 3],
                   snr=(30.0, 20.0, 15.0)[i % 3], bias=(0.1, 0.2, 0.25)[i % 3])
                for i in range(6)]
    if cohort == "bench_pair":
        return [_p(0, {"left": "remission", "right": "no_edema"}, n_visits=2, t2fs=True, snr=25.0,
                   bias=0.1, max_reposition=(12.0, 4.0))]
    raise ConfigError(f"unknown phantom cohort {cohort!r}; choose one of {', '.join(COHORTS)}")


def scenes_for(seed: int, plan: PatientPlan) -> list[Scene]:
    """One scene per visit (anatomy + pathology + repositioning) for a plan and seed."""
    anatomy = plan_anatomy(seed, plan)
    pathology = plan_pathology(seed, plan, anatomy)
    moves = plan_repositioning(seed, plan)
    return [Scene(anatomy, pathology[v], moves[v]) for v in range(plan.n_visits)]


def status_thresholds() -> StatusThresholds:
    """``compare.status`` of configs/default.yaml: the pipeline's own definitions."""
    from bme_mri.config import load_config

    return load_config().compare.status


def expected_followups(seed: int, plan: PatientPlan, scenes: list[Scene],
                       study_uids: list[str] | None = None,
                       volumes_by_visit: list[dict[str, SideVolumes]] | None = None,
                       faults_by_visit: list[dict[str, list[str]]] | None = None) -> list[dict]:
    """Expected status per imaged side and follow-up (vs baseline), from the model volumes;
    ``indeterminate`` where a visit has a fault QC must catch (``faults_by_visit``: per visit,
    side -> QC codes, as written in the study entries; default: the plan's own faults)."""
    thresholds = status_thresholds()
    out = []
    for side in ("left", "right"):
        if plan.unilateral not in (None, side):
            continue
        volumes = ([v[side] for v in volumes_by_visit] if volumes_by_visit is not None
                   else [side_volumes(scene, side) for scene in scenes])
        for visit in range(1, len(scenes)):
            if faults_by_visit is not None:
                faults = list(dict.fromkeys(faults_by_visit[0].get(side, []) + faults_by_visit[visit].get(side, [])))
            else:
                faults = list(dict.fromkeys(plan.qc_faults(side, 0) + plan.qc_faults(side, visit)))
            call = call_status(volumes[0].edema_ml, volumes[visit].edema_ml,
                               volumes[visit].necrosis_ml, thresholds,
                               blocking=[f"{code} (phantom fault)" for code in faults])
            out.append({"side": side, "visit": visit,
                        "baseline_study_uid": study_uids[0] if study_uids else None,
                        "followup_study_uid": study_uids[visit] if study_uids else None,
                        "expected_status": call.status.value, "expected_reason": call.reason,
                        "expected_qc": faults,
                        "intended_status": "indeterminate" if faults else plan.intended_status(side, visit)})
    return out


def with_acquisition(plans: list[PatientPlan], seed: int, snr: tuple[float, float] | None = None,
                     bias: float | None = None) -> list[PatientPlan]:
    """The plans with their noise and bias replaced: each patient's muscle SNR drawn uniformly
    within ``snr`` (low, high) from its own random stream (the anatomy, pathology and images
    draw as before), every bias field of amplitude ``bias`` (fraction, at most 0.35)."""
    if snr is not None and not 0 < snr[0] <= snr[1]:
        raise ConfigError(f"phantom SNR range {snr[0]:g}-{snr[1]:g}: give 0 < low <= high")
    if bias is not None and not 0 <= bias <= 0.35:
        raise ConfigError(f"phantom bias {bias:g}: give a fraction within 0-0.35")
    out = []
    for plan in plans:
        if snr is not None:
            plan = replace(plan, snr=float(patient_rng(seed, plan.index, 4).uniform(snr[0], snr[1])))
        if bias is not None:
            plan = replace(plan, bias=float(bias))
        out.append(plan)
    return out


def generate_cohort(out_dir: Path, cohort: str, seed: int, png: bool = False,
                    snr: tuple[float, float] | None = None, bias: float | None = None,
                    on_patient: Callable[[int, int, str], None] | None = None) -> Path:
    """Write cohort ``cohort`` for ``seed`` under ``out_dir``; return the manifest path.

    Layout: ``out_dir/dicom/`` (input tree), ``out_dir/truth/`` (cohort.json and per study
    labels.nii.gz + truth.json), ``out_dir/png/`` with ``png``. Same seed -> same bytes.
    ``snr`` / ``bias`` replace the cohort's noise and bias (:func:`with_acquisition`).
    ``on_patient(done, total, patient_id)`` is called before each patient and once at the end
    (a progress bar; the library never prints).
    """
    plans = with_acquisition(cohort_plans(cohort), seed, snr, bias)
    return generate_plans(Path(out_dir), cohort, plans, seed, png, on_patient)


def generate_plans(out_dir: Path, cohort: str, plans: list[PatientPlan], seed: int,
                   png: bool = False, on_patient: Callable[[int, int, str], None] | None = None) -> Path:
    """:func:`generate_cohort` for explicit plans (tests build tiny ones)."""
    from bme_mri.phantom.study import generate_study

    patients = []
    for done, plan in enumerate(plans):
        if on_patient is not None:
            on_patient(done, len(plans), plan.patient_id)
        scenes = scenes_for(seed, plan)
        studies, volumes = [], []
        for visit, scene in enumerate(scenes):
            entry, visit_volumes = generate_study(out_dir, seed, plan, visit, scene, png)
            studies.append(entry)
            volumes.append(visit_volumes)
        faults = [{side: v["qc_faults"] for side, v in s["sides"].items()} for s in studies]
        followups = expected_followups(seed, plan, scenes, [s["study_uid"] for s in studies], volumes,
                                       faults)
        patients.append({"patient_id": plan.patient_id, "sex": plan.sex, "studies": studies,
                         "followups": followups, "scenario": plan.to_dict()})
    if on_patient is not None:
        on_patient(len(plans), len(plans), "written")
    manifest = out_dir / "truth" / "cohort.json"
    write_json_atomic(manifest, {"cohort": cohort, "seed": seed,
                                 "generator": f"bme_mri.phantom {__version__}",
                                 "patients": patients})
    return manifest
