"""Measure the femoral-head finders (classical vs learned): held-out synthetic Dice and the
heads found on the real pelvic series of ../shared/realdata/pelvis_dicom, with a PNG per
series (centres marked) to judge by eye.

Usage (from the repository root)::

    python scripts/eval_heads.py --model models/femoral_head --out /tmp/heads_eval \\
        [--synthetic-seed 101 --synthetic-n 30] [--no-real] [--card]

``--card`` writes the figures into the model card's ``evaluation`` (the by-eye verdicts are
added by hand to the card's markdown afterwards: a script cannot judge anatomy).
The PNGs of real scans stay in --out (never in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's bme_mri, whatever the venv's editable install

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"))
# the series of each exam that show the hips (localizers aside), by SeriesDescription / class
SERIES = [("t2", "t2_tse_sag"), ("t2", "t2_tse_tra"), ("t2", "t2_tse_cor"), ("dwi", "_b50"), ("pd", "pd ref")]


# learned = the network checked and refined by the sphere fit (what `heads --method learned` and
# segment.method learned use); network = the network's own components, for the record
METHODS = ("classical", "learned", "network")
MARKS = json.loads((REPO / "scripts" / "data" / "real_head_marks.json").read_text())


MARK_PRECISION_MM = 3.0  # the marks' stated precision (real_head_marks.json)


def imaged_depth_mm(centre, volume) -> float:
    """How far (mm) ``centre`` (LPS) lies inside the part of ``volume``'s grid that holds image
    data, i.e. the grid without its blank border planes (every voxel exactly zero: Siemens
    writes its first row and column so); negative outside."""
    array = np.asarray(volume.array)
    geometry = volume.geometry
    index = geometry.lps_to_index(np.array([centre], float))[0]
    depth = np.inf
    for axis in range(3):
        filled = np.flatnonzero(np.any(array != 0, axis=tuple(a for a in range(3) if a != axis)))
        if filled.size == 0:
            return -np.inf
        spacing = float(geometry.spacing_mm[axis])
        depth = min(depth, (index[axis] - (filled[0] - 0.5)) * spacing, (filled[-1] + 0.5 - index[axis]) * spacing)
    return float(depth)


def score_against_marks(heads, marks: dict, volume) -> dict:
    """Heads found against centres marked by eye (LPS mm, per side).

    A marked head is *in view* when its centre lies more than the marks' precision (3 mm)
    inside the series' image data (:func:`imaged_depth_mm`), and *borderline* when it lies
    within that precision of the data's edge: whether such a centre is in view at all is
    below what the mark can tell, so a borderline head is reported (found or not) but left out
    of the counts, as ``validate`` leaves out heads cut at about the QC limit. Found = a
    reported head within 10 mm; false = a reported head > 25 mm from every marked head (in
    view or not); wrong side = found, but reported with the other side."""
    in_view, borderline = {}, {}
    for side, centre in marks.items():
        depth = imaged_depth_mm(centre, volume)
        if depth > MARK_PRECISION_MM:
            in_view[side] = np.asarray(centre, float)
        elif depth >= -MARK_PRECISION_MM:
            borderline[side] = (np.asarray(centre, float), round(depth, 1))

    def nearest(centre):
        d = [float(np.linalg.norm(np.asarray(h.center_lps_mm) - centre)) for h in heads]
        return (min(d), heads[int(np.argmin(d))]) if d else (np.inf, None)

    found, wrong, errors = 0, 0, []
    for side, centre in in_view.items():
        distance, head = nearest(centre)
        if distance <= 10.0:
            found += 1
            errors.append(round(distance, 1))
            wrong += head.side != side
    false = sum(all(np.linalg.norm(np.asarray(h.center_lps_mm) - np.asarray(c, float)) > 25.0
                    for c in marks.values()) for h in heads)
    return {"in_view": sorted(in_view), "found_10mm": found, "false": int(false),
            "wrong_side": int(wrong), "centre_errors_mm": errors,
            "borderline": [{"side": side, "depth_in_data_mm": depth, "found_10mm": bool(nearest(c)[0] <= 10.0)}
                           for side, (c, depth) in sorted(borderline.items())]}


def tally_real(rows: list[dict]) -> dict:
    """Totals over the real series, per method."""
    out = {}
    for method in (*METHODS, "classical_before_fit_qc"):
        scores = [r["score"][method] for r in rows if method in r["score"]]
        out[method] = {"series": len(rows), "heads_in_view": sum(len(s["in_view"]) for s in scores),
                       "found_10mm": sum(s["found_10mm"] for s in scores),
                       "false": sum(s["false"] for s in scores),
                       "wrong_side": sum(s["wrong_side"] for s in scores),
                       "borderline": sum(len(s["borderline"]) for s in scores),
                       "borderline_found": sum(b["found_10mm"] for s in scores for b in s["borderline"])}
    return out


def synthetic_dice(model_dir: Path, seed: int, n: int, config) -> dict:
    """Dice of p >= threshold against the target on ``n`` generator volumes at ``seed``
    (a seed the network was not trained on), contrast draw 0."""
    import torch

    from bme_mri.learn.net import load_weights
    from bme_mri.learn.synth import synth_sample
    from bme_mri.learn.train import dice

    net, _arch = load_weights(model_dir, "cpu")
    threshold = config.segment.learned.probability_threshold
    dices, false_ml = [], []
    for i in range(n):
        image, target = synth_sample(seed, i, 0)
        with torch.no_grad():
            p = torch.softmax(net(torch.from_numpy(image[None, None])), 1)[0, 1].numpy()
        prediction, truth = p >= threshold, target > 0
        if truth.sum() * 0.027 >= 5.0:  # at least 5 ml of head in the volume
            dices.append(dice(prediction, truth))
        elif not truth.any():
            false_ml.append(float(prediction.sum()) * 0.027)
    return {"seed": seed, "n_volumes": n, "n_with_head": len(dices),
            "dice_mean": float(np.mean(dices)) if dices else None,
            "dice_median": float(np.median(dices)) if dices else None,
            "dice_min": float(np.min(dices)) if dices else None,
            "n_without_head": len(false_ml),
            "false_head_ml_mean": float(np.mean(false_ml)) if false_ml else None}


def _render(volume, heads_by_method: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bme_mri.learn.infer import to_working_grid

    geom, image = to_working_grid(volume, 1.5)
    points = [(m, h) for m, hs in heads_by_method.items() for h in hs]
    rows = max(1, len(points))
    fig, axes = plt.subplots(rows, 3, figsize=(12, 4 * rows), squeeze=False)
    colours = {"classical": "cyan", "learned": "red", "network": "orange"}
    for r in range(rows):
        if points:
            method, head = points[r]
            centre = np.asarray(head.center_lps_mm)
            label = f"{method} {head.side} r={head.radius_mm:.0f} conf={head.confidence:.2f}"
        else:
            centre = geom.index_to_lps(((np.array(geom.shape) - 1) / 2.0)[None])[0]
            method, label = None, "no head found by either method (centre slices)"
        idx = np.clip(np.round(geom.lps_to_index(centre[None])[0]).astype(int), 0, np.array(geom.shape) - 1)
        views = [("axial (x right->left, y ant->post)", image[:, :, idx[2]], 0, 1),
                 ("coronal (x, z)", image[:, idx[1], :], 0, 2), ("sagittal (y, z)", image[idx[0], :, :], 1, 2)]
        for c, (name, plane, a, b) in enumerate(views):
            ax = axes[r, c]
            extent = [geom.origin_lps_mm[a], geom.origin_lps_mm[a] + geom.spacing_mm[a] * plane.shape[0],
                      geom.origin_lps_mm[b], geom.origin_lps_mm[b] + geom.spacing_mm[b] * plane.shape[1]]
            ax.imshow(plane.T, cmap="gray", origin="lower", extent=extent, vmin=0, vmax=1.2)
            for m, h in points:
                ctr = np.asarray(h.center_lps_mm)
                ax.add_patch(matplotlib.patches.Circle((ctr[a], ctr[b]), h.radius_mm, fill=False,
                                                       color=colours[m], lw=1.5 if m == method else 0.6,
                                                       ls="-" if m == method else "--"))
            ax.set_title(f"{name}\n{label}" if c == 0 else name, fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def real_series(model_dir: Path, out: Path, config) -> list[dict]:
    from bme_mri.ingest import discover, load_volume
    from bme_mri.learn.infer import LearnedHeadFinder
    from bme_mri.pipeline.heads import sound_heads
    from bme_mri.segment.heads import find_heads_classical
    from bme_mri.segment.learned import find_heads_learned

    finder = LearnedHeadFinder(config.segment.learned, config.segment.localize, model_dir=str(model_dir))
    rows = []
    for exam in sorted((REALDATA / "pelvis_dicom").iterdir()):
        stacks = discover(exam, config.ingest).all_stacks()
        for klass, key in SERIES:
            for stack in stacks:
                text = f"{stack.description}|{stack.stack_id}".lower()
                if stack.error or stack.sequence.value != klass or key not in text:
                    continue
                volume = load_volume(stack, config.ingest)
                t0 = time.perf_counter()
                network = finder.find(volume)
                learned = sound_heads(find_heads_learned(volume, config.segment, finder), config)
                t_learned = time.perf_counter() - t0
                t0 = time.perf_counter()
                classical_all = find_heads_classical(volume, config.segment)
                classical = sound_heads(classical_all, config)  # what `bme-mri heads` reports
                t_classical = time.perf_counter() - t0
                name = f"{exam.name}_{stack.series_number}_{stack.description}{'_b50' if key == '_b50' else ''}"
                png = out / f"{name.replace(' ', '_')}.png"
                _render(volume, {"classical": classical, "learned": learned, "network": network}, png,
                        f"{name}: {stack.orientation}, {volume.geometry.shape}, spacing "
                        f"{tuple(round(s, 2) for s in volume.geometry.spacing_mm)} mm")
                marks = MARKS["exams"].get(exam.name, {})
                rows.append({"series": name, "png": str(png), "learned_s": round(t_learned, 2),
                             "classical_s": round(t_classical, 2),
                             "learned": [h.to_dict() for h in learned],
                             "network": [h.to_dict() for h in network],
                             "classical": [h.to_dict() for h in classical],
                             "score": {"learned": score_against_marks(learned, marks, volume),
                                       "network": score_against_marks(network, marks, volume),
                                       "classical": score_against_marks(classical, marks, volume),
                                       "classical_before_fit_qc": score_against_marks(classical_all, marks, volume)}})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def phantom_series(model_dir: Path, cohort_dir: Path, config, classical_only: bool = False) -> dict:
    """Both methods on every non-localizer series of a phantom cohort (truth known): per method
    and sequence class, truth heads in view, found within 10 mm, false (> 25 mm from every
    truth head) and wrong side. ``classical`` is what ``bme-mri heads`` reports (fits that fail
    the head-fit QC left out); ``classical_before_fit_qc`` every head the finder returned."""
    from bme_mri.ingest import discover, load_volume
    from bme_mri.learn.infer import LearnedHeadFinder
    from bme_mri.pipeline.heads import sound_heads
    from bme_mri.segment.heads import find_heads_classical
    from bme_mri.segment.learned import find_heads_learned

    finder = None if classical_only else LearnedHeadFinder(config.segment.learned, config.segment.localize,
                                                           model_dir=str(model_dir))
    manifest = json.loads((cohort_dir / "truth" / "cohort.json").read_text())
    studies = {s.study_uid: s for s in discover(cohort_dir / "dicom", config.ingest).studies}
    tally: dict = {}
    for patient in manifest["patients"]:
        for entry in patient["studies"]:
            truth = json.loads((cohort_dir / entry["truth"]).read_text())["sides"]
            for stack in studies[entry["study_uid"]].stacks:
                if stack.error or stack.sequence.value == "localizer":
                    continue
                volume = load_volume(stack, config.ingest)
                shape = np.array(volume.geometry.shape)
                in_view = {side: t["head_center_lps_mm"] for side, t in truth.items()
                           if np.all((volume.geometry.lps_to_index(np.array([t["head_center_lps_mm"]]))[0] >= 0)
                                     & (volume.geometry.lps_to_index(np.array([t["head_center_lps_mm"]]))[0] <= shape - 1))}
                network = [] if classical_only else finder.find(volume)
                classical_all = find_heads_classical(volume, config.segment)
                methods = [("classical", sound_heads(classical_all, config)),
                           ("classical_before_fit_qc", classical_all)]
                if not classical_only:
                    methods += [("network", network),
                                ("learned", sound_heads(find_heads_learned(volume, config.segment, finder), config))]
                for method, heads in methods:
                    row = tally.setdefault(method, {}).setdefault(stack.sequence.value, {
                        "series": 0, "heads_in_view": 0, "found_10mm": 0, "false": 0, "wrong_side": 0,
                        "centre_errors_mm": []})
                    row["series"] += 1
                    row["heads_in_view"] += len(in_view)
                    for side, centre in in_view.items():
                        d = [np.linalg.norm(np.asarray(h.center_lps_mm) - centre) for h in heads]
                        if d and min(d) <= 10.0:
                            row["found_10mm"] += 1
                            row["centre_errors_mm"].append(round(float(min(d)), 2))
                            if heads[int(np.argmin(d))].side != side:
                                row["wrong_side"] += 1
                    for h in heads:
                        if all(np.linalg.norm(np.asarray(h.center_lps_mm) - t["head_center_lps_mm"]) > 25.0
                               for t in truth.values()):
                            row["false"] += 1
    print(json.dumps(tally), flush=True)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/femoral_head"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--synthetic-seed", type=int, default=101)
    parser.add_argument("--synthetic-n", type=int, default=30)
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--phantom", type=Path, help="a phantom cohort folder (bme-mri phantom) to score both methods on")
    parser.add_argument("--card", action="store_true", help="write the figures into the model card")
    parser.add_argument("--config", type=Path, default=None, help="a config file (default: the built-in one)")
    parser.add_argument("--classical-only", action="store_true",
                        help="phantom cohort only, classical finder only (no model needed; implies --no-real and no synthetic Dice)")
    args = parser.parse_args()

    import torch

    from bme_mri.config import load_config

    config = load_config(args.config)
    torch.set_num_threads(config.segment.learned.cpu_threads)
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    if args.classical_only:
        args.no_real, args.synthetic_n = True, 0
    if args.synthetic_n:
        result["synthetic_heldout"] = synthetic_dice(args.model, args.synthetic_seed, args.synthetic_n, config)
        print(json.dumps(result["synthetic_heldout"]), flush=True)
    if not args.no_real and (REALDATA / "pelvis_dicom").is_dir():
        result["real_series"] = real_series(args.model, args.out, config)
        result["real_totals"] = tally_real(result["real_series"])
        print(json.dumps(result["real_totals"]), flush=True)
    if args.phantom:
        result["phantom_series"] = phantom_series(args.model, args.phantom, config, args.classical_only)
    (args.out / "eval_heads.json").write_text(json.dumps(result, indent=1))
    if args.card:
        from bme_mri.learn.model_card import add_evaluation

        card = {k: result[k] for k in ("synthetic_heldout", "phantom_series") if k in result}
        if "real_totals" in result:  # figures only: the real images stay in ../shared
            card["real_pelvis_series"] = {"totals": result["real_totals"], "per_series": [
                {"series": r["series"], **{m: {k: v for k, v in r["score"][m].items()} for m in METHODS}}
                for r in result["real_series"]]}
        add_evaluation(args.model, card)
    print(f"wrote {args.out / 'eval_heads.json'}")


if __name__ == "__main__":
    main()
