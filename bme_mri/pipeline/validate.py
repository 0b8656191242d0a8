"""``bme-mri validate``: run the pipeline on a phantom cohort and score it against the truth.

Per side: femoral head Dice (labels 1-3 together), edema Dice (label 2), necrosis Dice (label 3,
on hips with true necrosis), edema / necrosis volume error, side found, necrosis found. Per follow-up: the status call against the
truth's expected status. Voxels are split between the two sides by the nearer *true* head
centre, so a prediction on the wrong side scores zero. Floors live in
``pipeline.validate`` of the config; the command exits non-zero below any of them.
"""

from __future__ import annotations

import csv
import json
import statistics
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bme_mri.config import Config
from bme_mri.errors import BmeError
from bme_mri.io_utils import write_json_atomic
from bme_mri.nifti import read_nifti
from bme_mri.quantify.metrics import dice
from bme_mri.quantify.qc import blocking_flags
from bme_mri.types import Geometry, Label


@dataclass
class SideScore:
    """Scores of one hip in one study (volumes in ml; Dice in [0, 1], None if undefined)."""

    patient_id: str
    study_uid: str
    side: str
    found: bool
    head_dice: float | None
    edema_dice: float | None
    true_edema_ml: float
    pred_edema_ml: float | None
    true_necrosis_ml: float
    pred_necrosis_ml: float | None
    true_head_ml: float
    pred_head_ml: float | None
    error: str | None = None
    expected_qc: list[str] = field(default_factory=list)  # flag codes the phantom's faults must raise
    qc_flags: list[str] = field(default_factory=list)  # flag codes the pipeline raised
    qc_blocking: bool = False  # the pipeline raised a blocking flag on this hip
    necrosis_dice: float | None = None  # label 3 vs the true necrosis; None on a hip without true necrosis
    borderline: bool = False  # the true head lies outside the field by about the head_cut_by_fov limit (either answer is right)
    pred_edema_range: tuple[float, float] | None = None  # (low, high) ml reported beside pred_edema_ml
    pred_necrosis_range: tuple[float, float] | None = None


@dataclass
class ValidationReport:
    """All scores, the aggregate metrics, and whether every floor was met."""

    cohort: str
    sides: list[SideScore]
    metrics: dict[str, float | None]
    statuses: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    json_path: Path | None = None
    registrations: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures


def _side_masks(geometry: Geometry, centres: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Boolean mask per side: voxels nearer to that side's true head centre."""
    if len(centres) == 1:
        (side,) = centres
        return {side: np.ones(geometry.shape, dtype=bool)}
    ii, jj, kk = np.meshgrid(*(np.arange(n) for n in geometry.shape), indexing="ij")
    points = geometry.index_to_lps(np.stack([ii, jj, kk], axis=-1).astype(np.float32))
    distances = {s: np.linalg.norm(points - c, axis=-1) for s, c in centres.items()}
    left, right = distances["left"], distances["right"]
    return {"left": left < right, "right": left >= right}


def _range(value: Any) -> tuple[float, float] | None:
    return None if not value else (float(value[0]), float(value[1]))


def _covers(span: tuple[float, float] | None, truth_ml: float, voxel_slack_ml: float = 1e-9) -> bool:
    return span is not None and span[0] - voxel_slack_ml <= truth_ml <= span[1] + voxel_slack_ml


def _score_study(truth_dir: Path, run_dir: Path, study: dict[str, Any], record: dict[str, Any] | None,
                 patient_id: str) -> list[SideScore]:
    truth = json.loads((truth_dir.parent / study["truth"]).read_text())
    true_sides = {s: {**v, "qc_faults": (study.get("sides", {}).get(s) or {}).get("qc_faults", [])}
                  for s, v in truth["sides"].items() if v.get("present", True)}
    scores: list[SideScore] = []

    def empty(side: str, values: dict[str, Any], error: str) -> SideScore:
        return SideScore(patient_id, study["study_uid"], side, False, None, None, values["edema_ml"], None,
                         values["necrosis_ml"], None, values["femoral_head_ml"], None, error,
                         list(values.get("qc_faults") or []))

    if record is None or record.get("error"):
        reason = "study not analysed" if record is None else record["error"]
        return [empty(side, values, reason) for side, values in true_sides.items()]
    true_labels = read_nifti(truth_dir.parent / study["labels"])
    pred_labels = read_nifti(run_dir / record["outputs"]["labels"])
    if not true_labels.geometry.same_grid(pred_labels.geometry, tol_mm=1e-2):
        return [empty(side, values, "prediction grid differs from truth grid") for side, values in true_sides.items()]
    centres = {s: np.asarray(v["head_center_lps_mm"], dtype=float) for s, v in true_sides.items()}
    masks = _side_masks(true_labels.geometry, centres)
    pred_by_side = {s["side"]: s for s in record.get("sides", [])}
    truth_arr, pred_arr = true_labels.array.astype(np.uint8), pred_labels.array.astype(np.uint8)
    for side, values in true_sides.items():
        region = masks[side]
        predicted = pred_by_side.get(side)
        flags = ((predicted or {}).get("qc") or {}).get("flags") or []
        head_dice = dice((truth_arr > 0) & region, (pred_arr > 0) & region)
        edema_dice = dice((truth_arr == Label.EDEMA) & region, (pred_arr == Label.EDEMA) & region)
        true_necrosis = (truth_arr == Label.NECROSIS) & region
        necrosis_dice = (dice(true_necrosis, (pred_arr == Label.NECROSIS) & region) or 0.0
                         if true_necrosis.any() else None)
        scores.append(SideScore(
            patient_id, study["study_uid"], side, predicted is not None, head_dice or 0.0, edema_dice,
            values["edema_ml"], predicted["edema_ml"] if predicted else None,
            values["necrosis_ml"], predicted["necrosis_ml"] if predicted else None,
            values["femoral_head_ml"], predicted["femoral_head_ml"] if predicted else None,
            None if predicted else "side not found", list(values.get("qc_faults") or []),
            list(dict.fromkeys(f["code"] for f in flags)),
            bool(blocking_flags(flags)), necrosis_dice,
            pred_edema_range=_range((predicted or {}).get("edema_ml_range")),
            pred_necrosis_range=_range((predicted or {}).get("necrosis_ml_range"))))
    for side in set(pred_by_side) - set(true_sides):
        scores.append(SideScore(patient_id, study["study_uid"], side, True, 0.0, None, 0.0,
                                pred_by_side[side]["edema_ml"], 0.0, pred_by_side[side]["necrosis_ml"], 0.0,
                                pred_by_side[side]["femoral_head_ml"], "head reported on a side without one"))
    return scores


def _truth_motion(manifest_dir: Path, study: dict[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(visit LPS -> body-frame 4x4, true head centres in the visit's LPS mm) of one study."""
    truth = json.loads((manifest_dir.parent / study["truth"]).read_text())
    to_body = np.asarray(truth["transform_to_baseline"]["matrix_lps"], dtype=float)
    centres = {s: np.asarray(v["head_center_lps_mm"], dtype=float) for s, v in truth["sides"].items()}
    return to_body, centres


def _score_registrations(manifest: dict[str, Any], manifest_dir: Path, run_dir: Path) -> list[dict[str, Any]]:
    """Error (mm) of every written registration at the true baseline head centre.

    The truth of a pair: ``p_followup = inv(B_followup) @ B_baseline @ p_baseline`` where ``B``
    maps a visit's patient LPS to the body frame (``transform_to_baseline``). The error is the
    distance between where our matrix and the truth send the true head centre of the reference
    visit. Registrations flagged as failed are listed with ``ok`` False (and count as misses).
    """
    from bme_mri.io_utils import safe_name

    scored = []
    for patient in manifest["patients"]:
        path = run_dir / safe_name(patient["patient_id"], "no_patient_id") / "registrations.json"
        if not path.is_file():
            continue
        motions = {s["study_uid"]: _truth_motion(manifest_dir, s) for s in patient["studies"]}
        faults = {(s["study_uid"], side): bool(v.get("qc_faults"))
                  for s in patient["studies"] for side, v in (s.get("sides") or {}).items()}
        for reg in json.loads(path.read_text())["registrations"]:
            base, follow = motions.get(reg["baseline_study_uid"]), motions.get(reg["followup_study_uid"])
            if base is None or follow is None:
                continue
            (base_to_body, centres), (follow_to_body, _) = base, follow
            truth = np.linalg.inv(follow_to_body) @ base_to_body
            centre = np.r_[centres[reg["side"]], 1.0]
            ours = np.asarray(reg["matrix_lps"], dtype=float)
            error = float(np.linalg.norm((ours @ centre)[:3] - (truth @ centre)[:3]))
            scored.append({"patient_id": patient["patient_id"], "side": reg["side"],
                           "compared_with": reg["compared_with"],
                           "followup_study_uid": reg["followup_study_uid"], "ok": bool(reg["ok"]),
                           "quality_ncc": reg["quality_ncc"], "error_mm": error,
                           "true_motion_mm": float(np.linalg.norm((truth @ centre)[:3] - centre[:3])),
                           # a visit with a phantom fault (failed fat suppression, cut head) may
                           # fairly fail registration: not held against the floors
                           "fault": faults.get((reg["baseline_study_uid"], reg["side"]), False)
                           or faults.get((reg["followup_study_uid"], reg["side"]), False)})
    return scored


def _aggregate(sides: list[SideScore], statuses: list[dict[str, Any]], config: Config,
               registrations: list[dict[str, Any]] | None = None) -> tuple[dict, list[str]]:
    floors = config.pipeline.validation
    metrics: dict[str, float | None] = {}
    failures: list[str] = []
    # a hip cut by the field at about the head_cut_by_fov limit may be flagged so or not: that
    # flag is not expected of it (any other fault still is), and it is scored as any other hip
    metrics["qc_borderline_hips"] = float(sum(s.borderline for s in sides))
    sides = [replace(s, expected_qc=[c for c in s.expected_qc if c != BORDERLINE_FLAG]) if s.borderline else s
             for s in sides]
    statuses = [s for s in statuses if not s.get("borderline")]
    faulty = [s for s in sides if s.expected_qc]
    # hips with a phantom fault are not measurable by design: they are scored on their flags
    metrics["qc_fault_hips"] = float(len(faulty))
    # a faulty hip whose head was not found has no number either: caught, for the reason the
    # pipeline can give (it cannot flag the marrow of a head it did not find); counted apart
    metrics["qc_fault_hips_not_found"] = float(sum(not s.found for s in faulty))
    metrics["qc_fault_recall"] = (sum(set(s.expected_qc) <= set(s.qc_flags) or not s.found for s in faulty)
                                  / len(faulty) if faulty else None)
    sides = [s for s in sides if not s.expected_qc]
    metrics["qc_blocked_hips"] = float(sum(s.qc_blocking for s in sides))
    head = [s.head_dice or 0.0 for s in sides]
    metrics["head_dice_mean"] = float(np.mean(head)) if head else None
    edema = [s.edema_dice or 0.0 for s in sides if s.true_edema_ml >= floors.edema_min_ml_for_dice]
    metrics["edema_dice_mean"] = float(np.mean(edema)) if edema else None
    metrics["edema_dice_worst"] = float(np.min(edema)) if edema else None
    errors = [abs((s.pred_edema_ml or 0.0) - s.true_edema_ml) / s.true_edema_ml * 100.0
              for s in sides if s.true_edema_ml >= floors.edema_min_ml_for_volume_error]
    metrics["edema_volume_error_median_pct"] = float(statistics.median(errors)) if errors else None
    found = floors.necrosis_found_min_ml
    necrotic = [s for s in sides if s.true_necrosis_ml > 0]
    clean = [s for s in sides if s.true_necrosis_ml == 0]
    metrics["necrosis_sensitivity"] = (sum((s.pred_necrosis_ml or 0) >= found for s in necrotic) / len(necrotic)
                                       if necrotic else None)
    metrics["necrosis_false_positive_rate"] = (sum((s.pred_necrosis_ml or 0) >= found for s in clean) / len(clean)
                                               if clean else None)
    # Dice of label 3 on every hip with true necrosis (a missed lesion scores 0)
    necrosis_dice = [s.necrosis_dice or 0.0 for s in necrotic]
    metrics["necrosis_dice_mean"] = float(np.mean(necrosis_dice)) if necrosis_dice else None
    metrics["necrosis_dice_worst"] = float(np.min(necrosis_dice)) if necrosis_dice else None
    # the reported range holds the true volume (every measured hip; necrosis: hips with true necrosis)
    ranged = [s for s in sides if s.pred_edema_range is not None]
    metrics["edema_range_coverage"] = (sum(_covers(s.pred_edema_range, s.true_edema_ml) for s in ranged) / len(ranged)
                                       if ranged else None)
    ranged = [s for s in necrotic if s.pred_necrosis_range is not None]
    metrics["necrosis_range_coverage"] = (sum(_covers(s.pred_necrosis_range, s.true_necrosis_ml) for s in ranged)
                                          / len(ranged) if ranged else None)
    normal = [s for s in sides if s.true_edema_ml == 0 and s.true_necrosis_ml == 0]
    metrics["normal_false_edema_max_ml"] = max(((s.pred_edema_ml or 0.0) for s in normal), default=None)
    metrics["sides_found_fraction"] = sum(s.found and not s.error for s in sides) / len(sides) if sides else None
    if statuses:
        # an 'indeterminate' on a hip without a phantom fault is neither correct nor wrong: it
        # is counted apart, and the accuracy is over the calls that were made
        unexpected = [s for s in statuses if s["predicted"] == "indeterminate"
                      and s["expected"] != "indeterminate"]
        decided = [s for s in statuses if s not in unexpected]
        metrics["status_calls"] = float(len(statuses))
        metrics["status_indeterminate"] = float(len(unexpected))
        metrics["status_indeterminate_fraction"] = len(unexpected) / len(statuses)
        metrics["status_accuracy"] = (sum(s["correct"] for s in decided) / len(decided)
                                      if decided else None)
        metrics["remission_called_necrosis"] = float(sum(
            s["expected"] == "remission" and s["predicted"] == "necrosis" for s in statuses))
    registrations = [r for r in (registrations or []) if not r.get("fault")]
    if registrations:
        errors_mm = [r["error_mm"] for r in registrations]
        metrics["registration_error_median_mm"] = float(statistics.median(errors_mm))
        metrics["registration_error_max_mm"] = float(max(errors_mm))
        metrics["registrations_flagged"] = float(sum(not r["ok"] for r in registrations))

    def floor(name: str, value: float | None, minimum: float) -> None:
        if value is not None and value < minimum:
            failures.append(f"{name} {value:.3f} < {minimum}")

    def ceiling(name: str, value: float | None, maximum: float) -> None:
        if value is not None and value > maximum:
            failures.append(f"{name} {value:.3f} > {maximum}")

    floor("head Dice", metrics["head_dice_mean"], floors.head_dice_min)
    floor("edema Dice", metrics["edema_dice_mean"], floors.edema_dice_min)
    ceiling("median |edema volume error| %", metrics["edema_volume_error_median_pct"],
            floors.edema_volume_error_max_pct)
    floor("necrosis sensitivity", metrics["necrosis_sensitivity"], floors.necrosis_sensitivity_min)
    floor("necrosis Dice", metrics["necrosis_dice_mean"], floors.necrosis_dice_min)
    floor("edema range holding the truth", metrics["edema_range_coverage"], floors.range_coverage_min)
    ceiling("necrosis false-positive rate", metrics["necrosis_false_positive_rate"],
            floors.necrosis_false_positive_rate_max)
    ceiling("false edema on a normal hip (ml)", metrics["normal_false_edema_max_ml"],
            floors.normal_false_edema_max_ml)
    floor("sides found", metrics["sides_found_fraction"], 1.0)
    floor("status accuracy", metrics.get("status_accuracy"), floors.status_accuracy_min)
    ceiling("registration error at the head centre (mm)", metrics.get("registration_error_max_mm"),
            floors.registration_error_max_mm)
    ceiling("registrations flagged as failed", metrics.get("registrations_flagged"), 0.0)
    ceiling("follow-up calls indeterminate without a fault", metrics.get("status_indeterminate_fraction"),
            floors.indeterminate_fraction_max)
    ceiling("remission hips called necrosis", metrics.get("remission_called_necrosis"),
            floors.remission_called_necrosis_max)
    floor("phantom faults flagged by QC", metrics.get("qc_fault_recall"), floors.qc_fault_recall_min)
    return metrics, failures


BORDERLINE_FLAG = "head_cut_by_fov"  # the flag a borderline field cut may raise or not


def _borderline_cuts(manifest: dict[str, Any], config: Config) -> set[tuple[str, str]]:
    """(study UID, side) of the hips whose true head lies outside the field by within
    ``pipeline.validation.fov_cut_tolerance`` of ``qc.head.max_outside_fov_fraction``: the
    measured fraction carries the head's centre and radius errors, so a hard limit on it is
    met or missed by chance there."""
    limit = config.qc.head.max_outside_fov_fraction
    tolerance = config.pipeline.validation.fov_cut_tolerance
    out = set()
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            for side, values in (study.get("sides") or {}).items():
                outside = values.get("head_outside_fov_fraction")
                if outside is not None and abs(float(outside) - limit) <= tolerance:
                    out.add((study["study_uid"], side))
    return out


def _score_statuses(manifest: dict[str, Any], run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "longitudinal.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("compared_with", "baseline") == "baseline"]
    by_key = {(r["patient_id"], r["side"], r.get("followup_study_uid")): r for r in rows}
    scored = []
    for patient in manifest["patients"]:
        for follow in patient.get("followups", []):
            row = by_key.get((patient["patient_id"], follow["side"], follow["followup_study_uid"]))
            predicted = row["status"] if row else "missing"
            expected_qc = list(follow.get("expected_qc") or [])
            raised = set((row.get("qc_flags") or "").split(";")) if row else set()
            # a phantom fault is caught when the call is indeterminate for the right reason, or
            # for the head not found at a visit (no figure there: see qc_fault_hips_not_found)
            caught = set(expected_qc) <= raised or bool(expected_qc and "head_not_found" in raised)
            correct = predicted == follow["expected_status"] and caught
            scored.append({"patient_id": patient["patient_id"], "side": follow["side"],
                           "followup_study_uid": follow["followup_study_uid"],
                           "expected": follow["expected_status"], "predicted": predicted,
                           "correct": correct, "expected_qc": expected_qc,
                           "qc_flags": row.get("qc_flags", "") if row else "",
                           "reason": row["reason"] if row else "no longitudinal row"})
    return scored


def group_tables(manifest: dict[str, Any], statuses: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Per treatment group (``scenario.group``), the count of each status on the affected hip
    (``scenario.extra.affected_side``), expected (truth) and predicted: the published-table
    view of a cohort such as ``meizer``. Empty when the cohort has no groups."""
    plans = {p["patient_id"]: p.get("scenario", {}) for p in manifest["patients"]}
    tables: dict[str, dict[str, dict[str, int]]] = {}
    for item in statuses:
        plan = plans.get(item["patient_id"], {})
        group, affected = plan.get("group"), plan.get("extra", {}).get("affected_side")
        if not group or item["side"] != affected:
            continue
        table = tables.setdefault(group, {"expected": {}, "predicted": {}})
        for kind in ("expected", "predicted"):
            table[kind][item[kind]] = table[kind].get(item[kind], 0) + 1
    return tables


def validate_cohort(phantom_dir: Path, out_dir: Path | None, config: Config, workers: int = 1) -> ValidationReport:
    """Run ``bme-mri run`` on ``phantom_dir/dicom`` and score it against ``phantom_dir/truth``."""
    from bme_mri.pipeline.batch import run_batch

    phantom_dir = Path(phantom_dir)
    manifest_path = phantom_dir / "truth" / "cohort.json"
    if not manifest_path.is_file():
        raise BmeError(f"{phantom_dir} has no truth/cohort.json: is it a folder written by 'bme-mri phantom'?")
    manifest = json.loads(manifest_path.read_text())
    out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="bme_validate_"))
    run_dir = out_dir / "run"
    batch = run_batch(phantom_dir / "dicom", run_dir, config, workers=workers)
    records = {r["study_uid"]: r for r in batch.records}
    sides: list[SideScore] = []
    borderline = _borderline_cuts(manifest, config)
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            sides.extend(_score_study(manifest_path.parent, run_dir, study, records.get(study["study_uid"]),
                                      patient["patient_id"]))
    for score in sides:
        score.borderline = (score.study_uid, score.side) in borderline
    statuses = _score_statuses(manifest, run_dir)
    baselines = {f["followup_study_uid"]: f.get("baseline_study_uid")
                 for p in manifest["patients"] for f in p.get("followups", [])}
    for status in statuses:
        # a call whose only expected flag is a borderline field cut has no one right answer
        visits = (status["followup_study_uid"], baselines.get(status["followup_study_uid"]))
        status["borderline"] = (any((uid, status["side"]) in borderline for uid in visits)
                                and set(status["expected_qc"]) <= {BORDERLINE_FLAG})
    registrations = _score_registrations(manifest, manifest_path.parent, run_dir)
    metrics, failures = _aggregate(sides, statuses, config, registrations)
    groups = group_tables(manifest, [s for s in statuses if not s.get("borderline")])
    for group, table in sorted(groups.items()):
        if table["expected"] != table["predicted"]:
            failures.append(f"group {group}: predicted counts {table['predicted']} differ from the "
                            f"truth's {table['expected']}")
    report = ValidationReport(manifest.get("cohort", "?"), sides, metrics, statuses, failures,
                              registrations=registrations, groups=groups)
    report.json_path = out_dir / "validation.json"
    write_json_atomic(report.json_path, {"cohort": report.cohort, "seed": manifest.get("seed"),
                                         "metrics": metrics, "failures": failures, "passed": report.passed,
                                         "sides": [asdict(s) for s in sides], "statuses": statuses,
                                         "registrations": registrations, "groups": groups})
    return report


def render_validation(report: ValidationReport):
    """A rich Table of per-side scores followed by the aggregate metrics."""
    from rich.console import Group
    from rich.table import Table

    def fmt(value: float | None, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    table = Table(title=f"validation: cohort {report.cohort}")
    for column in ("patient", "side", "head Dice", "edema Dice", "necrosis Dice", "edema true/pred ml",
                   "necrosis true/pred ml", "QC flags (expected)", "note"):
        table.add_column(column)
    for s in report.sides:
        qc = ";".join(s.qc_flags) + (f" ({';'.join(s.expected_qc)})" if s.expected_qc else "")
        table.add_row(s.patient_id, s.side, fmt(s.head_dice), fmt(s.edema_dice), fmt(s.necrosis_dice),
                      f"{s.true_edema_ml:.1f} / {fmt(s.pred_edema_ml, 1)}",
                      f"{s.true_necrosis_ml:.2f} / {fmt(s.pred_necrosis_ml, 2)}", qc,
                      s.error or ("borderline field cut: head_cut_by_fov optional" if s.borderline else ""))
    metrics = Table(title="metrics")
    metrics.add_column("metric")
    metrics.add_column("value")
    for name, value in report.metrics.items():
        metrics.add_row(name, fmt(value))
    metrics.add_row("result", "PASS" if report.passed else "FAIL: " + "; ".join(report.failures))
    parts = [table]
    if report.statuses:
        calls = Table(title="follow-up calls (vs baseline): expected / predicted")
        for column in ("patient", "side", "expected", "predicted", "QC flags", "ok"):
            calls.add_column(column)
        for s in report.statuses:
            ok = ("yes" if s["correct"] else
                  "indeterminate" if s["predicted"] == "indeterminate" else "NO")
            calls.add_row(s["patient_id"], s["side"], s["expected"], s["predicted"],
                          s.get("qc_flags", ""), ok)
        parts.append(calls)
    parts.append(metrics)
    if report.groups:
        groups = Table(title="follow-up status of the affected hip, per group (truth / predicted)")
        statuses = sorted({k for t in report.groups.values() for kind in t.values() for k in kind})
        groups.add_column("group")
        for status in statuses:
            groups.add_column(status)
        for name, counts in sorted(report.groups.items()):
            groups.add_row(name, *(f"{counts['expected'].get(k, 0)} / {counts['predicted'].get(k, 0)}"
                                   for k in statuses))
        parts.append(groups)
    return Group(*parts)
