"""Femoral-head figures of a `bme-mri validate` output, per hip, beyond validate's own table:
head Dice (mean, min, hips below 0.8), head centre error against the phantom's truth (mm),
radius error and head-neck junction distance error (mm; the junction's truth is the phantom's
``junction_offset_mm``),
and the same head's measured volume across a patient's visits (largest change, %), over the
hips whose head lies wholly in the field of view at every visit (the truth labels' in-grid
head volume agrees within 1% across visits; a head the field cuts differently is a different
measurement, not an inconsistency).

Usage (from the repository root)::

    python scripts/eval_head_validation.py PHANTOM_DIR VALIDATE_OUT [--json OUT.json]

PHANTOM_DIR is what ``bme-mri phantom`` wrote (truth/); VALIDATE_OUT the ``--out`` folder of
``bme-mri validate`` (validation.json and run/). Compare segmenters by validating the same
cohort twice, once with ``--config`` setting ``segment: {method: learned}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def head_figures(phantom_dir: Path, validate_out: Path) -> dict:
    """Per-hip and summary head figures (see module)."""
    phantom_dir, validate_out = Path(phantom_dir), Path(validate_out)
    manifest = json.loads((phantom_dir / "truth" / "cohort.json").read_text())
    validation = json.loads((validate_out / "validation.json").read_text())
    records = {}
    for path in (validate_out / "run").rglob("study.json"):
        record = json.loads(path.read_text())
        records[record.get("study_uid")] = record
    from bme_mri.nifti import read_nifti

    dice_by = {(s["study_uid"], s["side"]): s for s in validation["sides"]}
    hips, volumes, in_grid = [], {}, {}
    for patient in manifest["patients"]:
        for study in patient["studies"]:
            truth = json.loads((phantom_dir / study["truth"]).read_text())["sides"]
            labels = read_nifti(phantom_dir / study["labels"])
            points = labels.geometry.index_to_lps(np.argwhere(labels.array > 0))
            centres = {s: np.asarray(v["head_center_lps_mm"], float) for s, v in truth.items()}
            nearest = np.array(sorted(centres))[np.argmin(np.stack(
                [np.linalg.norm(points - centres[s], axis=1) for s in sorted(centres)]), axis=0)]
            record = records.get(study["study_uid"]) or {}
            heads = {h["side"]: h for h in record.get("heads") or []}
            for side, values in truth.items():
                if not values.get("present", True):
                    continue
                score = dice_by.get((study["study_uid"], side), {})
                head = heads.get(side)
                error = (None if head is None else
                         float(np.linalg.norm(np.asarray(head["center_lps_mm"]) - values["head_center_lps_mm"])))
                radius_error = None if head is None else float(head["radius_mm"] - values["head_radius_mm"])
                junction_error = (None if head is None or "junction_offset_mm" not in values else
                                  float(head["junction_distance_mm"] - values["junction_offset_mm"]))
                hips.append({"patient_id": patient["patient_id"], "study_uid": study["study_uid"], "side": side,
                             "head_dice": score.get("head_dice"), "centre_error_mm": error,
                             "radius_error_mm": radius_error, "junction_error_mm": junction_error,
                             "true_head_ml": values["femoral_head_ml"], "pred_head_ml": score.get("pred_head_ml")})
                if score.get("pred_head_ml") is not None:
                    volumes.setdefault((patient["patient_id"], side), []).append(score["pred_head_ml"])
                    in_grid.setdefault((patient["patient_id"], side), []).append(
                        float((nearest == side).sum()) * labels.geometry.voxel_volume_ml)
    dices = [h["head_dice"] or 0.0 for h in hips]
    errors = [h["centre_error_mm"] for h in hips if h["centre_error_mm"] is not None]
    def change(v) -> float:
        return 100.0 * (max(v) - min(v)) / float(np.mean(v))

    whole = {k for k, v in in_grid.items() if len(v) >= 2 and change(v) <= 1.0}
    changes = {f"{p}/{s}": change(v) for (p, s), v in volumes.items() if (p, s) in whole}
    return {
        "hips": len(hips),
        "head_dice_mean": float(np.mean(dices)) if dices else None,
        "head_dice_min": float(np.min(dices)) if dices else None,
        "hips_head_dice_below_0.8": sum(d < 0.8 for d in dices),
        "centre_error_median_mm": float(np.median(errors)) if errors else None,
        "centre_error_max_mm": float(np.max(errors)) if errors else None,
        "radius_error_mean_mm": _mean(h["radius_error_mm"] for h in hips),
        "radius_error_max_abs_mm": _max_abs(h["radius_error_mm"] for h in hips),
        "junction_error_mean_mm": _mean(h["junction_error_mm"] for h in hips),
        "junction_error_sd_mm": _sd(h["junction_error_mm"] for h in hips),
        "hips_without_head": sum(h["centre_error_mm"] is None for h in hips),
        "hips_whole_at_every_visit": len(whole),
        "volume_change_across_visits_max_pct": max(changes.values()) if changes else None,
        "volume_change_across_visits": {k: round(v, 2) for k, v in sorted(changes.items())},
        "per_hip": hips,
    }


def _known(values) -> list[float]:
    return [float(v) for v in values if v is not None]


def _mean(values) -> float | None:
    known = _known(values)
    return float(np.mean(known)) if known else None


def _sd(values) -> float | None:
    known = _known(values)
    return float(np.std(known)) if known else None


def _max_abs(values) -> float | None:
    known = _known(values)
    return float(np.max(np.abs(known))) if known else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phantom_dir", type=Path)
    parser.add_argument("validate_out", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = head_figures(args.phantom_dir, args.validate_out)
    summary = {k: v for k, v in figures.items() if k != "per_hip"}
    print(json.dumps(summary, indent=1))
    worst = sorted(figures["per_hip"], key=lambda h: h["head_dice"] or 0.0)[:3]
    for h in worst:
        print(f"lowest head Dice: {h['patient_id']} {h['side']} {h['head_dice']} centre error {h['centre_error_mm']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
