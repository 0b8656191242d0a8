"""Tune / check the hip segmenter on phantom cohorts: per-side Dice and volume errors.

    python scripts/tune_segment.py --cohort validation --seeds 1 2 3 [--work /tmp/bme_tune]
        [--config FILE] [--roi] [--png DIR]

Cohorts are generated (once per seed) under ``--work`` (never inside the repository). Tune on
seeds 1-5 only; acceptance is measured on other seeds. This script (not the library) may import
:mod:`bme_mri.phantom`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from bme_mri.config import load_config
from bme_mri.ingest import discover, load_volume, select_series
from bme_mri.nifti import read_nifti
from bme_mri.quantify import dice, measure, quantify_roi
from bme_mri.segment import get_segmenter
from bme_mri.types import Label, Volume


def cohort_dir(work: Path, cohort: str, seed: int) -> Path:
    out = work / f"{cohort}_seed{seed}"
    if not (out / "truth" / "cohort.json").is_file():
        from bme_mri.phantom import generate_cohort

        generate_cohort(out, cohort, seed)
    return out


def side_mask(labels: np.ndarray, geometry, centre_lps, other_lps) -> np.ndarray:
    """Voxels nearer ``centre_lps`` than ``other_lps`` (both heads' truth centres)."""
    idx = np.argwhere(np.ones(labels.shape, bool))
    xyz = geometry.index_to_lps(idx)
    near = np.linalg.norm(xyz - centre_lps, axis=1) <= np.linalg.norm(xyz - other_lps, axis=1)
    return near.reshape(labels.shape)


def evaluate(root: Path, config, roi: bool, png: Path | None) -> list[dict]:
    manifest = json.loads((root / "truth" / "cohort.json").read_text())
    found = discover(root / "dicom", config.ingest)
    studies = {s.study_uid: s for s in found.studies}
    segmenter = get_segmenter(config.segment)
    rows = []
    for patient in manifest["patients"]:
        for entry in patient["studies"]:
            study = studies[entry["study_uid"]]
            truth = json.loads((root / entry["truth"]).read_text())
            truth_labels = read_nifti(root / entry["labels"])
            t0 = time.perf_counter()
            selection = select_series(study, config.ingest)
            image = load_volume(selection.analysis, config.ingest)
            t1 = load_volume(selection.t1, config.ingest) if selection.t1 is not None else None
            t_ingest = time.perf_counter() - t0
            t0 = time.perf_counter()
            error = ""
            try:
                seg = segmenter.segment(image, t1)
                measurements = {m.side.value: m for m in measure(seg)}
            except Exception as exc:  # noqa: BLE001 - a tuning table records the failure
                seg, measurements, error = None, {}, str(exc)
            t_seg = time.perf_counter() - t0
            assert image.geometry.same_grid(truth_labels.geometry), "truth not on the STIR grid"
            tl = truth_labels.array.astype(np.uint8)
            present = {s: v for s, v in truth["sides"].items() if v.get("present")}
            for side, tv in truth["sides"].items():
                other = truth["sides"]["right" if side == "left" else "left"]
                near = side_mask(tl, image.geometry, np.array(tv["head_center_lps_mm"]),
                                 np.array(other["head_center_lps_mm"]))
                m = measurements.get(side)
                pl = seg.labels if seg is not None else np.zeros_like(tl)
                row = {
                    "patient": patient["patient_id"], "visit": entry["visit"], "side": side,
                    "orient": patient["scenario"]["main_orientation"],
                    "snr": patient["scenario"]["snr"], "in_fov": side in present and bool((tl[near] > 0).any()),
                    "found": m is not None, "error": error,
                    "head_dice": dice((pl > 0) & near, (tl > 0) & near),
                    "edema_dice": dice((pl == Label.EDEMA) & near, (tl == Label.EDEMA) & near),
                    "true_head_ml": tv["femoral_head_ml"], "head_ml": m.femoral_head_ml if m else 0.0,
                    "true_edema_ml": tv["edema_ml"], "edema_ml": m.edema_ml if m else 0.0,
                    "true_headneck_ml": tv["edema_headneck_ml"],
                    "headneck_ml": m.edema_headneck_ml if m else 0.0,
                    "true_necrosis_ml": tv["necrosis_ml"], "necrosis_ml": m.necrosis_ml if m else 0.0,
                    "t_ingest": t_ingest, "t_seg": t_seg,
                }
                if roi and row["in_fov"]:
                    bone = Volume((((tl > 0) & near)).astype(np.float32), image.geometry)
                    res = quantify_roi(image, bone, None, config)
                    row["roi_edema_dice"] = dice(res.edema_mask, (tl == Label.EDEMA) & near)
                rows.append(row)
            if png is not None and seg is not None:
                render_overlay(image, seg.labels, tl, png / f"{patient['patient_id']}_v{entry['visit']}.png")
    return rows


def render_overlay(image: Volume, labels: np.ndarray, truth: np.ndarray, path: Path) -> None:
    """Slices through each labelled head: prediction (left column) and truth (right)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap([(0, 0, 0, 0), (0.2, 0.5, 1, 0.35), (1, 0.6, 0, 0.6), (1, 0, 0, 0.8)])
    counts = (labels > 0).sum(axis=(0, 1)) + (truth > 0).sum(axis=(0, 1))
    k = int(np.argmax(counts))
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    for ax, lab, title in ((axes[0], None, "image"), (axes[1], labels, "predicted"), (axes[2], truth, "truth")):
        ax.imshow(image.array[:, :, k].T, cmap="gray", vmax=np.percentile(image.array, 99.5))
        if lab is not None:
            ax.imshow(lab[:, :, k].T, cmap=cmap, vmin=0, vmax=3, interpolation="nearest")
        ax.set_title(f"{title} (slice k={k}; 1 blue head, 2 orange edema, 3 red necrosis)")
        ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", default="validation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bme_tune"))
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--roi", action="store_true", help="also ROI mode with the true head mask")
    parser.add_argument("--png", type=Path, default=None, help="write overlay PNGs here")
    args = parser.parse_args()
    config = load_config(args.config)
    rows = []
    for seed in args.seeds:
        rows += [dict(r, seed=seed) for r in evaluate(cohort_dir(args.work, args.cohort, seed),
                                                       config, args.roi, args.png)]
    header = (f"{'seed':>4} {'patient':>8} {'v':>1} {'side':>5} {'orient':>8} {'snr':>4} {'fov':>3} "
              f"{'headDc':>6} {'head ml t/p':>13} {'edDc':>5} {'edema ml t/p':>13} "
              f"{'hn ml t/p':>13} {'necr ml t/p':>11} {'roiDc':>5} {'seg s':>5}")
    print(header)
    for r in rows:
        print(f"{r['seed']:>4} {r['patient']:>8} {r['visit']:>1} {r['side']:>5} {r['orient']:>8} "
              f"{r['snr']:>4.0f} {'y' if r['in_fov'] else 'n':>3} {r['head_dice']:6.3f} "
              f"{r['true_head_ml']:6.1f}/{r['head_ml']:<6.1f} {r['edema_dice']:5.3f} "
              f"{r['true_edema_ml']:6.2f}/{r['edema_ml']:<6.2f} "
              f"{r['true_headneck_ml']:6.2f}/{r['headneck_ml']:<6.2f} "
              f"{r['true_necrosis_ml']:4.1f}/{r['necrosis_ml']:<4.1f} "
              f"{r.get('roi_edema_dice', float('nan')):5.3f} {r['t_seg']:5.2f} {r['error'][:40]}")
    visible = [r for r in rows if r["in_fov"]]
    edema = [r for r in visible if r["true_edema_ml"] > 0.0]
    big = [r for r in visible if r["true_edema_ml"] >= 2.0]
    necrotic = [r for r in visible if r["true_necrosis_ml"] > 0]
    normal = [r for r in visible if r["true_edema_ml"] == 0 and r["true_necrosis_ml"] == 0]
    print("\nsummary over", len(visible), "visible sides")
    print(f"  head Dice: min {min(r['head_dice'] for r in visible):.3f} "
          f"median {statistics.median(r['head_dice'] for r in visible):.3f}")
    if edema:
        print(f"  edema Dice (sides with edema): min {min(r['edema_dice'] for r in edema):.3f} "
              f"median {statistics.median(r['edema_dice'] for r in edema):.3f} "
              f"mean {statistics.mean(r['edema_dice'] for r in edema):.3f}")
    if big:
        errs = [abs(r["edema_ml"] - r["true_edema_ml"]) / r["true_edema_ml"] for r in big]
        print(f"  |edema volume error| where edema >= 2 ml: median {100 * statistics.median(errs):.1f}% "
              f"max {100 * max(errs):.1f}%")
    print(f"  necrosis found: {sum(r['necrosis_ml'] > 0 for r in necrotic)}/{len(necrotic)}; "
          f"false necrosis: {sum(r['necrosis_ml'] > 0 for r in visible if r['true_necrosis_ml'] == 0)}"
          f"/{sum(r['true_necrosis_ml'] == 0 for r in visible)} sides")
    print(f"  normal hips with false edema > 0.5 ml: {sum(r['edema_ml'] > 0.5 for r in normal)}/{len(normal)}")
    roi = [r["roi_edema_dice"] for r in edema if "roi_edema_dice" in r]
    if roi:
        print(f"  ROI mode edema Dice: min {min(roi):.3f} median {statistics.median(roi):.3f}")
    missing = [r for r in visible if not r["found"]]
    print(f"  visible sides not found: {len(missing)}; segment time median "
          f"{statistics.median(r['t_seg'] for r in rows):.2f} s, max {max(r['t_seg'] for r in rows):.2f} s")


if __name__ == "__main__":
    main()
