"""Scenario plans: what each phantom patient has, visit by visit, before any image is drawn.

A *course* says, per hip, the state at each visit (baseline first): no edema, a diffuse
(BMES-like) edema at some size, a small focal residual edema, and a necrosis (small/large).
The intended follow-up status of each course is written beside it; the truth's
``expected_status`` is nevertheless computed from the model volumes with
:func:`bme_mri.compare.status.call_status`, and a test checks both agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from bme_mri.phantom.anatomy import Anatomy, build_anatomy
from bme_mri.phantom.pathology import SidePathology, make_edema, make_necrosis


@dataclass(frozen=True)
class State:
    """One hip at one visit."""

    edema: str = "none"  # 'none' | 'diffuse' | 'focal'
    size: float = 1.0  # radii factor of the diffuse/focal blob
    necrosis: str = "none"  # 'none' | 'small' | 'large'


N = State()
D = State("diffuse", 1.0)

# course -> (states per visit, intended status per follow-up)
COURSES: dict[str, tuple[tuple[State, ...], tuple[str, ...]]] = {
    "no_edema": ((N, N, N), ("no_edema", "no_edema")),
    "remission": ((D, N, N), ("remission", "remission")),
    "remission_slow": ((D, State("diffuse", 0.75), N), ("residual_edema", "remission")),
    "residual": ((D, State("diffuse", 0.75), State("diffuse", 0.7)), ("residual_edema", "residual_edema")),
    "residual_focal": ((D, State("focal", 1.0), State("focal", 0.9)), ("residual_edema", "residual_edema")),
    "persist": ((D, State("diffuse", 1.0), State("diffuse", 0.95)), ("residual_edema", "residual_edema")),
    "progression": ((State("diffuse", 0.55), D, State("diffuse", 1.05)), ("progression", "progression")),
    "necrosis": ((D, State("focal", 1.0, "large"), State("focal", 0.9, "large")), ("necrosis", "necrosis")),
    "necrosis_small": ((D, State("focal", 0.9, "small"), State("focal", 0.8, "small")), ("necrosis", "necrosis")),
    # single-visit states for the validation cohort
    "edema": ((D,), ()),
    "edema_small": ((State("diffuse", 0.6),), ()),
    "necrosis_edema": ((State("diffuse", 0.9, "large"),), ()),
    "necrosis_only": ((State("none", 1.0, "large"),), ()),
}


@dataclass(frozen=True)
class PatientPlan:
    """Everything that defines one phantom patient (JSON-friendly, goes to cohort.json)."""

    index: int
    patient_id: str
    sex: str
    vendor: str
    courses: dict[str, str]  # side -> course name
    n_visits: int = 2
    main_orientation: str = "coronal"  # coronal | axial | oblique
    unilateral: str | None = None  # imaged side, None = both hips
    snr: float = 25.0  # muscle SNR
    bias: float = 0.1  # bias field amplitude (fraction)
    bias_wavelength_mm: tuple[float, float] = (250.0, 600.0)  # range of the bias field's wavelengths
    effusion: tuple[str, ...] = ()  # sides with a joint effusion
    t2fs: bool = False
    distractors: tuple[str, ...] = ()  # extra series kinds: 'pd', 't2', 'dwi'
    repeat_stir: bool = False
    one_folder: bool = False  # all series of a study in one folder
    mirrored: bool = False  # row direction reversed (slice normal flips)
    reversed_instances: bool = False  # InstanceNumber runs against +k
    per_slice_rescale: bool = False
    fast: bool = False  # coarser in-plane grid (smoke / meizer cohorts)
    max_reposition: tuple[float, float] = (10.0, 3.0)  # mm, deg between visits
    group: str = ""  # e.g. 'iloprost', 'core_decompression'
    extra: dict = field(default_factory=dict)
    # ---- acquisition faults and hard anatomy (quality-control cases) --------------------
    fat_suppression_failed: tuple[int, ...] = ()  # visits whose analysed STIR does not null fat
    fov_cut_side: str | None = None  # side whose femoral head the analysed series' field ends through
    fov_cut_visits: tuple[int, ...] = ()  # ... at these visits
    effusion_scale: float = 1.0  # joint effusion thickness x this (large effusions: 2-3)
    bladder_near: bool = False  # bladder widened until it lies a few mm from the femoral heads

    def qc_faults(self, side: str, visit: int) -> list[str]:
        """QC flag codes the pipeline must raise on ``side`` at ``visit`` (the plan's faults)."""
        faults = []
        if visit in self.fat_suppression_failed:
            faults.append("reference_implausible")
        if self.fov_cut_side == side and visit in self.fov_cut_visits:
            faults.append("head_cut_by_fov")
        return faults

    def to_dict(self) -> dict:
        return asdict(self)

    def intended_status(self, side: str, visit: int) -> str:
        """The status the course intends at follow-up ``visit`` (>= 1)."""
        return COURSES[self.courses[side]][1][visit - 1]


def patient_rng(seed: int, index: int, purpose: int) -> np.random.Generator:
    """Independent deterministic stream per (seed, patient, purpose)."""
    return np.random.default_rng([int(seed), int(index), int(purpose)])


def plan_anatomy(seed: int, plan: PatientPlan) -> Anatomy:
    """The patient's anatomy; ``bladder_near`` widens the bladder (its own random stream, so
    other plans draw the same anatomy as before) until its side reaches within 4-12 mm of the
    nearer femoral head's surface (the acetabular wall lies between)."""
    anatomy = build_anatomy(patient_rng(seed, plan.index, 1))
    if not plan.bladder_near:
        return anatomy
    rng = patient_rng(seed, plan.index, 3)
    nearest = min(abs(h.head_center[0]) - h.head_radius for h in anatomy.hips.values())
    radii = anatomy.body.bladder_radii
    wide = (float(nearest - rng.uniform(4.0, 12.0)), float(radii[1]) * 1.2, float(radii[2]) * 1.2)
    body = replace(anatomy.body, bladder_radii=wide,
                   bladder_center=(0.0, anatomy.body.bladder_center[1], float(rng.uniform(-5.0, 10.0))))
    return replace(anatomy, body=body)


def plan_pathology(seed: int, plan: PatientPlan, anatomy: Anatomy) -> list[dict[str, SidePathology]]:
    """Per visit, per side: the pathology (same blobs across visits, scaled per state)."""
    visits: list[dict[str, SidePathology]] = [dict() for _ in range(plan.n_visits)]
    for side_index, side in enumerate(("left", "right")):
        hip = anatomy.hips[side]
        rng = patient_rng(seed, plan.index, 10 + side_index)
        diffuse = make_edema(rng, hip)
        focal = make_edema(rng, hip, focal=True)
        large = make_necrosis(rng, hip)
        small = make_necrosis(rng, hip, small=True)
        effusion = float(rng.uniform(2.0, 4.0)) * plan.effusion_scale if side in plan.effusion else 0.0
        states = COURSES[plan.courses.get(side, "no_edema")][0]
        for visit in range(plan.n_visits):
            state = states[min(visit, len(states) - 1)]
            edema = None
            if state.edema == "diffuse":
                edema = diffuse.scaled(state.size)
            elif state.edema == "focal":
                edema = focal.scaled(state.size)
            necrosis = {"none": None, "small": small, "large": large}[state.necrosis]
            visits[visit][side] = SidePathology(edema=edema, necrosis=necrosis, effusion_mm=effusion)
    return visits


def plan_repositioning(seed: int, plan: PatientPlan) -> list[np.ndarray]:
    """Per visit: ``to_body`` 4x4 (visit patient LPS -> baseline LPS). Baseline = identity.

    The patient at visit v lies at ``x_v = R x_b + t`` (rotation about the pelvis centre, the
    body-frame origin), ``|t| <= max_reposition[0]`` mm, angle <= ``max_reposition[1]`` deg.
    """
    rng = patient_rng(seed, plan.index, 2)
    out = [np.eye(4)]
    for _ in range(1, plan.n_visits):
        max_mm, max_deg = plan.max_reposition
        direction = rng.normal(0, 1, 3)
        t = direction / np.linalg.norm(direction) * rng.uniform(0.5, 1.0) * max_mm
        axis = rng.normal(0, 1, 3)
        axis /= np.linalg.norm(axis)
        angle = np.radians(rng.uniform(0.4, 1.0) * max_deg)
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rot = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
        forward = np.eye(4)
        forward[:3, :3] = rot
        forward[:3, 3] = t
        out.append(np.linalg.inv(forward))
    return out
