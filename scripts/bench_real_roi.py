"""ROI mode on real scans with reader masks: Dice against each reader, volumes, readers' agreement,
and a leave-one-scan-out choice of the lesion model's constants.

Layout of ``--data DIR`` (as ``../shared/realdata/sij_stir``): one folder per scan holding
``stir.nii.gz``, ``bone_region.nii.gz``, optionally ``normal_marrow.nii.gz`` and any number of
reader masks ``lesion_<reader>_<trial>.nii.gz`` (e.g. ``lesion_reader1_trial2.nii.gz``).

    python scripts/bench_real_roi.py --data ../shared/realdata/sij_stir [--png OUT] [--json OUT.json]
    python scripts/bench_real_roi.py --data ../shared/realdata/sij_stir --loso [--workers 2] [--markdown T.md]
        [--grid background_sigma_mm=6,10 --grid grow_sd=2,2.25,2.5,2.75,3]

Methods, per scan: bme-mri with the given normal-marrow sample (``ours-given``) and with the
normal marrow found automatically (``ours-auto``), the VHI authors' published thresholds (``vhi``,
needs the sample) and a plain threshold at the sample's mean + 3 SD (``mean+3sd``). Per scan and
method: mean Dice against the reader masks, that Dice / the readers' agreement with each other
(the median Dice between masks of *different* readers), and the volume / the readers' mean.

``--loso``: the constants named in ``GRID`` are chosen on three labelled scans and scored on the
fourth, for each scan in turn (the scan scored never takes part in choosing). One setting serves
both reference modes (it is one configuration). The choice: among the settings whose volumes on
the three scans, in both modes, all pass the acceptance band (:func:`volume_ok`), the one with
the highest mean Dice / readers' agreement; if none passes, the one with fewest failures. The
choice on all labelled scans together is printed too: it should be the shipped default
(``configs/default.yaml``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's bme_mri first

GRID = {"grow_sd": (2.0, 2.25, 2.5, 2.75, 3.0), "border_contrast_fraction": (0.0, 0.25, 0.5)}
OURS = (("ours-given", True), ("ours-auto", False))
BASELINES = ("vhi", "mean+3sd")
NEAR_NORMAL_ML = 1.0  # readers' mean below this: a near-normal scan, judged by volume + 1 ml


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * float((a & b).sum()) / total


def volume_ok(volume_ml: float, readers_ml: float) -> bool:
    """The acceptance band: within 0.5-2 x the readers' mean volume; on a near-normal scan
    (readers' mean under 1 ml) at most the readers' mean + 1 ml."""
    if readers_ml < NEAR_NORMAL_ML:
        return volume_ml <= readers_ml + 1.0
    return 0.5 * readers_ml <= volume_ml <= 2.0 * readers_ml


def load_scan(folder: Path, config) -> dict:
    """Image, masks on its grid, reader masks by name, and the readers' agreement."""
    from bme_mri.nifti import read_nifti
    from bme_mri.quantify.grid import mask_on_grid

    image = read_nifti(folder / "stir.nii.gz")
    tol = config.quantify.roi.grid_tolerance_voxel
    bone = read_nifti(folder / "bone_region.nii.gz")
    normal_path = folder / "normal_marrow.nii.gz"
    normal = read_nifti(normal_path) if normal_path.is_file() else None
    readers = {p.name.replace(".nii.gz", "").replace("lesion_", ""):
               mask_on_grid(image.geometry, read_nifti(p), "reader mask", tol).array
               for p in sorted(folder.glob("lesion_*.nii.gz"))}
    voxel_ml = image.geometry.voxel_volume_ml
    names = list(readers)
    between = [dice(readers[a], readers[b]) for a, b in itertools.combinations(names, 2)
               if a.split("_")[0] != b.split("_")[0]]
    return {"name": folder.name, "image": image, "bone": bone, "normal": normal, "readers": readers,
            "readers_ml": {k: float(v.sum() * voxel_ml) for k, v in readers.items()},
            "agreement": float(np.median(between)) if between else None,
            "pairwise": {f"{a}~{b}": dice(readers[a], readers[b]) for a, b in itertools.combinations(names, 2)}}


def score(mask: np.ndarray, volume_ml: float, scan: dict) -> dict:
    entry = {"edema_ml": volume_ml}
    if scan["readers"]:
        entry["dice"] = {k: dice(mask, v) for k, v in scan["readers"].items()}
        entry["mean_dice"] = float(np.mean(list(entry["dice"].values())))
        readers_ml = float(np.mean(list(scan["readers_ml"].values())))
        entry["volume_ratio"] = volume_ml / readers_ml if readers_ml > 0 else None
        entry["volume_ok"] = volume_ok(volume_ml, readers_ml)
        if scan["agreement"]:
            entry["dice_over_agreement"] = entry["mean_dice"] / scan["agreement"]
    return entry


def mean_plus_3sd(scan: dict, config) -> tuple[np.ndarray, float]:
    """The plain baseline: bone voxels above the given sample's mean + 3 SD (raw image)."""
    from bme_mri.quantify.grid import mask_on_grid

    tol = config.quantify.roi.grid_tolerance_voxel
    geometry = scan["image"].geometry
    raw = np.asarray(scan["image"].array, dtype=np.float64)
    bone = mask_on_grid(geometry, scan["bone"], "bone", tol).array
    normal = mask_on_grid(geometry, scan["normal"], "sample", tol).array
    values = raw[normal]
    mask = bone & (raw > values.mean() + 3.0 * values.std())
    return mask, float(mask.sum() * geometry.voxel_volume_ml)


def with_settings(config, **roi):
    """``config`` with ``quantify.roi`` fields replaced."""
    section = config.quantify.roi.model_copy(update=roi)
    return config.model_copy(update={"quantify": config.quantify.model_copy(update={"roi": section})})


def run_method(scan: dict, config, name: str):
    """(mask, volume ml, result or None, seconds) of one method on one scan."""
    from bme_mri.quantify import quantify_roi

    start = time.perf_counter()
    if name == "mean+3sd":
        mask, volume = mean_plus_3sd(scan, config)
        return mask, volume, None, time.perf_counter() - start
    use_given = name in ("ours-given", "vhi")
    method = "vhi" if name == "vhi" else "hysteresis"
    result = quantify_roi(scan["image"], scan["bone"], scan["normal"] if use_given else None, config, method=method)
    return result.edema_mask, result.edema_ml, result, time.perf_counter() - start


def bench_scan(folder: Path, config, png_dir: Path | None) -> dict:
    scan = load_scan(folder, config)
    row = {"scan": scan["name"], "readers_ml": scan["readers_ml"], "agreement": scan["agreement"],
           "reader_pairwise_dice": scan["pairwise"], "methods": {}}
    masks = {}
    for name in [n for n, _ in OURS] + list(BASELINES):
        if name != "ours-auto" and scan["normal"] is None:
            row["methods"][name] = {"error": "no normal_marrow.nii.gz"}
            continue
        try:
            mask, volume, result, seconds = run_method(scan, config, name)
        except Exception as exc:  # a benchmark reports and goes on
            row["methods"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        masks[name] = mask
        entry = {**score(mask, volume, scan), "seconds": seconds}
        if result is not None:
            entry.update({"edema_ml_range": list(result.edema_ml_range), "threshold": result.threshold,
                          "reference_median": result.reference.median,
                          "reference_sd": result.reference.robust_sd, "warnings": result.warnings,
                          "details": result.details})
        row["methods"][name] = entry
    if png_dir is not None and masks:
        from bme_mri.quantify.grid import mask_on_grid

        tol = config.quantify.roi.grid_tolerance_voxel
        geometry = scan["image"].geometry
        shown = ({"readers": next(iter(scan["readers"].values()))} if scan["readers"] else {}) | masks
        render_png(scan["image"], shown, mask_on_grid(geometry, scan["bone"], "bone", tol).array,
                   None if scan["normal"] is None else mask_on_grid(geometry, scan["normal"], "ref", tol).array,
                   png_dir / f"{scan['name']}_masks.png")
    return row


def render_png(image, masks: dict, bone: np.ndarray, reference: np.ndarray | None, path: Path,
               n_slices: int = 6) -> None:
    """Slices through the bone mask (voxel grid, k slices) with each method's mask outlined."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage.segmentation import find_boundaries

    array = image.array
    ks = np.flatnonzero(bone.any(axis=(0, 1)))
    ks = ks[np.linspace(0, len(ks) - 1, min(n_slices, len(ks))).astype(int)]
    ii, jj = np.nonzero(bone.any(axis=2))
    margin = 10
    crop = (slice(max(ii.min() - margin, 0), ii.max() + margin), slice(max(jj.min() - margin, 0), jj.max() + margin))
    palette = {"readers": "red", "ours-given": "magenta", "ours-auto": "orange", "vhi": "lime", "mean+3sd": "blue"}
    names = list(masks)
    fig, axes = plt.subplots(len(names), len(ks), figsize=(4.5 * len(ks), 3.2 * len(names)), squeeze=False)
    vmax = float(np.percentile(array[bone], 99.5)) * 1.3
    for row, name in enumerate(names):
        for col, k in enumerate(ks):
            ax = axes[row, col]
            ax.imshow(np.rot90(array[crop + (k,)]), cmap="gray", vmin=0, vmax=vmax)
            layers = [(bone, "yellow")] + ([(reference, "cyan")] if reference is not None else [])
            for mask, colour in layers + [(masks[name], palette.get(name, "lime"))]:
                edge = find_boundaries(np.rot90(mask[crop + (k,)]), mode="inner")
                overlay = np.zeros(edge.shape + (4,))
                overlay[edge] = matplotlib.colors.to_rgba(colour)
                ax.imshow(overlay, interpolation="nearest")
            ax.set_title(f"{name} k={k}", fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def print_table(rows: list[dict]) -> None:
    for row in rows:
        readers = row["readers_ml"]
        agreement = f"; readers agree (Dice between readers, median) {row['agreement']:.3f}" if row["agreement"] else ""
        print(f"scan {row['scan']}: readers " + ", ".join(f"{k} {v:.2f} ml" for k, v in readers.items()) + agreement)
        for name, entry in row["methods"].items():
            if "error" in entry:
                print(f"  {name:11s} ERROR {entry['error']}")
                continue
            line = f"  {name:11s} {entry['edema_ml']:7.2f} ml"
            if "edema_ml_range" in entry:
                low, high = entry["edema_ml_range"]
                line += f" [{low:.2f}-{high:.2f}]"
            if "dice" in entry:
                line += (f"  ratio {entry['volume_ratio']:.2f}{'' if entry['volume_ok'] else ' (out of band)'}"
                         f"  Dice {entry['mean_dice']:.3f} [" + " ".join(f"{v:.3f}" for v in entry["dice"].values()) + "]")
                if "dice_over_agreement" in entry:
                    line += f"  / agreement {entry['dice_over_agreement']:.2f}"
            print(line)


def _run_setting(args: tuple) -> tuple:
    """One (setting, scan, method) run for the leave-one-scan-out grid (a worker process)."""
    folder, setting, name, base_config = args
    config = with_settings(base_config, **setting)
    scan = load_scan(Path(folder), config)
    mask, volume, _, _ = run_method(scan, config, name)
    return folder, tuple(sorted(setting.items())), name, score(mask, volume, scan)


def choose(results: dict, scans: list[str]) -> tuple:
    """The setting chosen on ``scans`` for both reference modes together (one configuration serves
    both; see the module docstring): (key, failures, mean Dice / agreement)."""
    best = None
    for key in results[OURS[0][0]]:
        entries = [results[name][key][s] for name, _ in OURS for s in scans]
        failures = sum(not e["volume_ok"] for e in entries)
        mean_ratio = float(np.mean([e["dice_over_agreement"] for e in entries]))
        if best is None or (-failures, mean_ratio) > best[0]:
            best = ((-failures, mean_ratio), key)
    (neg_failures, mean_ratio), key = best
    return key, -neg_failures, mean_ratio


def loso(folders: list[Path], base_config, workers: int, baseline_rows: dict, grid: dict | None = None) -> dict:
    """Leave-one-scan-out over ``grid`` (default ``GRID``; one setting for both reference
    modes); prints and returns the table."""
    grid = grid or GRID
    settings = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    jobs = [(str(f), s, name, base_config) for f in folders for s in settings for name, _ in OURS]
    results: dict = {}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        for folder, key, name, entry in pool.map(_run_setting, jobs):
            results.setdefault(name, {}).setdefault(key, {})[Path(folder).name] = entry
    names = [f.name for f in folders]
    out: dict = {"grid": {k: list(v) for k, v in grid.items()}, "seconds": time.perf_counter() - start,
                 "folds": [], "modes": {},
                 "all_settings": {name: [{"setting": dict(key), "scans": per_scan} for key, per_scan in entries.items()]
                                  for name, entries in results.items()}}
    print(f"\nleave-one-scan-out over {len(settings)} settings x {len(names)} scans "
          f"({out['seconds']:.0f} s): constants chosen on three scans (both reference modes), scored on the fourth")
    chosen = {}
    for held in names:
        train = [n for n in names if n != held]
        key, failures, train_ratio = choose(results, train)
        chosen[held] = key
        out["folds"].append({"scan": held, "chosen_on": train, "setting": dict(key), "train_failures": failures,
                             "train_mean_ratio": train_ratio})
        print(f"  {held}: chosen on {'+'.join(train)}: " + ", ".join(f"{k} {v:g}" for k, v in dict(key).items()))
    all_key, _, _ = choose(results, names)
    out["chosen_on_all"] = dict(all_key)
    for name, _ in OURS:
        folds = []
        for held in names:
            entry = results[name][chosen[held]][held]
            vhi = baseline_rows[held]["methods"].get("vhi", {})
            folds.append({"scan": held, "setting": dict(chosen[held]), **entry,
                          "vhi_mean_dice": vhi.get("mean_dice"),
                          "beats_vhi": entry["mean_dice"] >= vhi.get("mean_dice", -1.0)})
        ratios = [f["dice_over_agreement"] for f in folds]
        passed = all(f["beats_vhi"] and f["volume_ok"] for f in folds) and float(np.median(ratios)) >= 0.8
        out["modes"][name] = {"folds": folds, "median_dice_over_agreement": float(np.median(ratios)),
                              "acceptance": passed}
        print(f"{name}:")
        for f in folds:
            print(f"  {f['scan']}: Dice {f['mean_dice']:.3f} (VHI {f['vhi_mean_dice']:.3f}{'' if f['beats_vhi'] else ', NOT beaten'}),"
                  f" / agreement {f['dice_over_agreement']:.2f}, volume {f['edema_ml']:.2f} ml"
                  f" ratio {f['volume_ratio']:.2f}{'' if f['volume_ok'] else ' OUT OF BAND'}")
        print(f"  median Dice / agreement {np.median(ratios):.2f} (>= 0.8 asked); every scan beats VHI and "
              f"in band: {all(f['beats_vhi'] and f['volume_ok'] for f in folds)}; acceptance "
              f"{'PASS' if passed else 'FAIL'}")
    print("chosen on all four (the shipped default should be this): "
          + ", ".join(f"{k} {v:g}" for k, v in dict(all_key).items()))
    return out


def markdown(rows: list[dict], loso_table: dict | None) -> str:
    """The tables for docs/validation.md."""
    lines = ["| scan | readers' mean (ml) | readers agree | method | volume (ml) [range] | x readers | Dice (mean of readers) | Dice / agreement |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if not row["readers_ml"]:
            continue
        mean_ml = np.mean(list(row["readers_ml"].values()))
        for name, e in row["methods"].items():
            if "dice" not in e:
                continue
            span = f" [{e['edema_ml_range'][0]:.2f}-{e['edema_ml_range'][1]:.2f}]" if "edema_ml_range" in e else ""
            lines.append(f"| {row['scan']} | {mean_ml:.2f} | {row['agreement']:.2f} | {name} | {e['edema_ml']:.2f}{span} |"
                         f" {e['volume_ratio']:.2f} | {e['mean_dice']:.3f} | {e.get('dice_over_agreement', float('nan')):.2f} |")
    if loso_table:
        lines += ["", "| mode | scan | constants chosen on the other three | Dice | VHI Dice | Dice / agreement | x readers |",
                  "|---|---|---|---|---|---|---|"]
        for name, mode in loso_table["modes"].items():
            for f in mode["folds"]:
                setting = ", ".join(f"{k} {v:g}" for k, v in f["setting"].items())
                band = "" if f["volume_ok"] else " (out of band)"
                lines.append(f"| {name} | {f['scan']} | {setting} | {f['mean_dice']:.3f} | {f['vhi_mean_dice']:.3f} |"
                             f" {f['dice_over_agreement']:.2f} | {f['volume_ratio']:.2f}{band} |")
            lines.append(f"| {name} | median | | | | {mode['median_dice_over_agreement']:.2f} | |")
        lines.append("")
        lines.append("Chosen on all four (the shipped default): "
                     + ", ".join(f"{k} {v:g}" for k, v in loso_table["chosen_on_all"].items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of scans (one sub-folder each)")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--png", type=Path, default=None, help="write mask overlays here")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--loso", action="store_true", help="leave-one-scan-out choice of the GRID constants")
    parser.add_argument("--workers", type=int, default=2, help="processes for --loso (default 2)")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                        help="a quantify.roi constant and its candidates for --loso, instead of GRID (repeatable), "
                             "e.g. --grid background_sigma_mm=6,10 --grid grow_sd=2,2.25,2.5,2.75,3")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables as Markdown here")
    args = parser.parse_args(argv)
    from bme_mri.config import load_config

    config = load_config(args.config)
    folders = sorted(p for p in args.data.iterdir() if (p / "stir.nii.gz").is_file())
    if not folders:
        print(f"no scans (folders with stir.nii.gz) in {args.data}", file=sys.stderr)
        return 2
    rows = []
    for folder in folders:
        try:
            rows.append(bench_scan(folder, config, args.png))
        except Exception as exc:
            print(f"scan {folder.name}: ERROR {type(exc).__name__}: {exc}")
    print_table(rows)
    loso_table = None
    if args.loso:
        by_name = {r["scan"]: r for r in rows}
        labelled = [f for f in folders if f.name in by_name and by_name[f.name]["agreement"]]
        grid = {key: tuple(float(v) for v in values.split(","))
                for key, values in (item.split("=", 1) for item in args.grid)} or None
        loso_table = loso(labelled, config, args.workers, by_name, grid)
    if args.json:
        args.json.write_text(json.dumps({"scans": rows, "loso": loso_table}, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(rows, loso_table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
