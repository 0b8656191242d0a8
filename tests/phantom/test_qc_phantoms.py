"""Phantom faults for quality control: failed fat suppression, a field cutting a head, the
stress cohort's hard anatomy; and the truth they write (expected QC flags, indeterminate)."""

from __future__ import annotations

import dataclasses

import numpy as np

from bme_mri.phantom import cohort_plans
from bme_mri.phantom.cohort import expected_followups, scenes_for
from bme_mri.phantom.physics import make_bias
from bme_mri.phantom.plan import PatientPlan, plan_anatomy
from bme_mri.phantom.series import directions, make_grid
from bme_mri.phantom.study import FOV_CUT_INSIDE_MM, _cut_through_head
from bme_mri.phantom.tissue import SequenceParams, Tissue, intensity_table


def test_failed_fat_suppression_makes_fat_and_marrow_brighter_than_muscle():
    stir = SequenceParams("stir", 4000.0, 35.0, 170.0)
    good = intensity_table(stir)
    failed = intensity_table(dataclasses.replace(stir, fat_not_nulled=True))
    assert good[Tissue.MARROW] < 0.5 * good[Tissue.MUSCLE]
    assert failed[Tissue.MARROW] > 1.5 * failed[Tissue.MUSCLE]
    assert failed[Tissue.FAT] > 1.5 * failed[Tissue.MUSCLE]
    # edema no longer stands out from marrow: the fault hides it
    assert abs(failed[Tissue.EDEMA_WATER] / failed[Tissue.MARROW] - 1) < 0.1
    assert good[Tissue.EDEMA_WATER] > 3 * good[Tissue.MARROW]


def test_cut_field_ends_through_the_head_centre_side():
    grid = make_grid(np.zeros(3), directions("coronal"), 360.0, 1.8, 92.0, 4.0)
    head = np.array([90.0, 2.0, 0.0])
    cut = _cut_through_head(grid, head)
    geometry = cut.geometry()
    i_of_head = geometry.lps_to_index(head)[0]
    edge = geometry.shape[0] - 1
    assert abs((edge - i_of_head) * geometry.spacing_mm[0] - FOV_CUT_INSIDE_MM) < 1e-6
    other = geometry.lps_to_index(np.array([-90.0, 2.0, 0.0]))[0]
    assert 0 < other < edge  # the other head stays inside


def test_plan_faults_name_the_flags_the_pipeline_must_raise():
    plan = PatientPlan(0, "P", "M", "siemens", {"left": "remission", "right": "no_edema"},
                       fat_suppression_failed=(1,), fov_cut_side="left", fov_cut_visits=(1,))
    assert plan.qc_faults("left", 0) == []
    assert plan.qc_faults("left", 1) == ["reference_implausible", "head_cut_by_fov"]
    assert plan.qc_faults("right", 1) == ["reference_implausible"]


def test_faulty_followups_are_expected_indeterminate_with_their_codes():
    plan = cohort_plans("qc")[1]  # the follow-up's field cuts the left head
    followups = expected_followups(1, plan, scenes_for(1, plan))
    by_side = {f["side"]: f for f in followups}
    assert by_side["left"]["expected_status"] == "indeterminate"
    assert by_side["left"]["expected_qc"] == ["head_cut_by_fov"]
    assert by_side["right"]["expected_status"] == "remission"
    assert by_side["right"]["expected_qc"] == []


def test_stress_cohort_is_hard_and_covers_the_courses():
    plans = cohort_plans("stress")
    assert 8 <= len(plans) <= 10
    assert all(p.n_visits == 2 and p.fast and p.bladder_near for p in plans)
    assert all(10.0 <= p.snr <= 15.0 for p in plans)
    assert max(p.bias for p in plans) == 0.3
    assert all(p.effusion and p.effusion_scale >= 2.0 for p in plans)
    courses = {c for p in plans for c in p.courses.values()}
    assert {"remission", "no_edema", "necrosis", "residual"} <= courses


def test_bias_field_of_thirty_percent_is_kept():
    assert make_bias(np.random.default_rng(0), 0.3).amplitude == 0.3


def test_near_bladder_lies_a_few_mm_from_the_heads_and_leaves_the_hips_alone():
    plan = cohort_plans("stress")[0]
    near = plan_anatomy(5, plan)
    usual = plan_anatomy(5, dataclasses.replace(plan, bladder_near=False))
    assert near.hips == usual.hips
    gap = min(abs(h.head_center[0]) - h.head_radius for h in near.hips.values()) - near.body.bladder_radii[0]
    assert 4.0 <= gap <= 12.0
    assert near.body.bladder_radii[0] > usual.body.bladder_radii[0]


def test_truth_measures_how_much_of_the_true_head_a_field_misses():
    from bme_mri.phantom.study import head_outside_fraction

    plan = cohort_plans("qc")[0]
    scene = scenes_for(1, plan)[0]
    centre = np.asarray(scene.anatomy.hips["left"].head_center)
    wide = make_grid(centre, directions("coronal"), 120.0, 2.0, 120.0, 2.0).geometry()
    assert head_outside_fraction(scene, "left", wide) == 0.0
    half = make_grid(centre + np.array([60.0, 0.0, 0.0]), directions("coronal"), 120.0, 2.0,
                     120.0, 2.0).geometry()  # its -x edge runs through the head centre
    assert 0.3 < head_outside_fraction(scene, "left", half) < 0.7
