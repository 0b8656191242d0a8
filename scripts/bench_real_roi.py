"""ROI mode on real scans with reader masks: Dice against each reader, volumes, readers' agreement.

Layout of ``--data DIR`` (as ``../shared/realdata/sij_stir``): one folder per scan holding
``stir.nii.gz``, ``bone_region.nii.gz``, optionally ``normal_marrow.nii.gz`` and any number of
reader masks ``lesion_*.nii.gz``. Every scan is run with our method (given and automatic
reference) and the VHI baseline (given reference only); scans without reader masks are run
(errors reported) but give no Dice.

    python scripts/bench_real_roi.py --data ../shared/realdata/sij_stir [--png OUT] [--json OUT.json]

Prints per scan and method: Dice against each reader mask, volume (ml), volume / readers' mean,
and per scan the readers' pairwise Dice; then the median over scans of each method's mean Dice.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's bme_mri first

RUNS = (("ours-given", "hysteresis", True), ("ours-auto", "hysteresis", False), ("vhi", "vhi", True))


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * float((a & b).sum()) / total


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
    palette = {"readers": "red", "ours-given": "magenta", "ours-auto": "orange", "vhi": "lime"}
    names = list(masks)
    fig, axes = plt.subplots(len(names), len(ks), figsize=(4.5 * len(ks), 3.2 * len(names)), squeeze=False)
    vmax = float(np.percentile(array[bone], 99.5)) * 1.3
    for row, name in enumerate(names):
        for col, k in enumerate(ks):
            ax = axes[row, col]
            ax.imshow(np.rot90(array[crop + (k,)]), cmap="gray", vmin=0, vmax=vmax)
            layers = [(bone, "yellow", False)]
            if reference is not None:
                layers.append((reference, "cyan", False))
            layers.append((masks[name], palette.get(name, "lime"), True))
            for mask, colour, outline_only in layers:
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


def bench_scan(folder: Path, config, png_dir: Path | None) -> dict:
    from bme_mri.nifti import read_nifti
    from bme_mri.quantify import quantify_roi
    from bme_mri.quantify.grid import mask_on_grid

    image = read_nifti(folder / "stir.nii.gz")
    bone = read_nifti(folder / "bone_region.nii.gz")
    normal_path = folder / "normal_marrow.nii.gz"
    normal = read_nifti(normal_path) if normal_path.is_file() else None
    tol = config.quantify.roi.grid_tolerance_voxel
    readers = {p.name.replace(".nii.gz", "").replace("lesion_", ""):
               mask_on_grid(image.geometry, read_nifti(p), "reader mask", tol).array
               for p in sorted(folder.glob("lesion_*.nii.gz"))}
    voxel_ml = image.geometry.voxel_volume_ml
    row: dict = {"scan": folder.name, "readers": {k: float(v.sum() * voxel_ml) for k, v in readers.items()},
                 "reader_pairwise_dice": {f"{a}~{b}": _dice(readers[a], readers[b])
                                          for a, b in itertools.combinations(readers, 2)},
                 "methods": {}}
    reader_mean_ml = float(np.mean(list(row["readers"].values()))) if readers else None
    masks = {}
    for name, method, use_given in RUNS:
        if use_given and normal is None:
            row["methods"][name] = {"error": "no normal_marrow.nii.gz"}
            continue
        start = time.perf_counter()
        try:
            result = quantify_roi(image, bone, normal if use_given else None, config, method=method)
        except Exception as exc:  # a benchmark reports and goes on
            row["methods"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        masks[name] = result.edema_mask
        entry = {"edema_ml": result.edema_ml, "threshold": result.threshold,
                 "reference_median": result.reference.median, "reference_sd": result.reference.robust_sd,
                 "seconds": time.perf_counter() - start, "warnings": result.warnings,
                 "dice": {k: _dice(result.edema_mask, v) for k, v in readers.items()}}
        if reader_mean_ml:
            entry["volume_ratio"] = result.edema_ml / reader_mean_ml
        row["methods"][name] = entry
        if name == "ours-auto":
            auto_reference = result.reference.mask
    if png_dir is not None and masks:
        shown = dict(masks)
        if readers:
            shown = {"readers": next(iter(readers.values())), **shown}
        render_png(image, shown, mask_on_grid(image.geometry, bone, "bone", tol).array,
                   None if normal is None else mask_on_grid(image.geometry, normal, "ref", tol).array,
                   png_dir / f"{folder.name}_masks.png")
        if "ours-auto" in masks:
            render_png(image, {"ours-auto": masks["ours-auto"]},
                       mask_on_grid(image.geometry, bone, "bone", tol).array, auto_reference,
                       png_dir / f"{folder.name}_auto_reference.png")
    return row


def print_table(rows: list[dict]) -> None:
    for row in rows:
        readers = row["readers"]
        print(f"scan {row['scan']}: readers " + ", ".join(f"{k} {v:.1f} ml" for k, v in readers.items()))
        if row["reader_pairwise_dice"]:
            pair = list(row["reader_pairwise_dice"].values())
            print(f"  readers' pairwise Dice: min {min(pair):.3f} median {np.median(pair):.3f} max {max(pair):.3f}")
        for name, entry in row["methods"].items():
            if "error" in entry:
                print(f"  {name:11s} ERROR {entry['error']}")
                continue
            dices = " ".join(f"{v:.3f}" for v in entry["dice"].values())
            ratio = f" ratio {entry['volume_ratio']:.2f}" if "volume_ratio" in entry else ""
            print(f"  {name:11s} {entry['edema_ml']:7.1f} ml{ratio}  Dice vs readers [{dices}]"
                  f"  threshold {entry['threshold']:.0f} (ref median {entry['reference_median']:.0f},"
                  f" sd {entry['reference_sd']:.1f}){'  WARN ' + '; '.join(entry['warnings']) if entry['warnings'] else ''}")
    print("median over scans with reader masks (mean Dice per scan; volume ratio):")
    for name, _, _ in RUNS:
        dices = [np.mean(list(r["methods"][name]["dice"].values())) for r in rows
                 if name in r["methods"] and "dice" in r["methods"][name] and r["methods"][name]["dice"]]
        ratios = [r["methods"][name]["volume_ratio"] for r in rows
                  if name in r["methods"] and "volume_ratio" in r["methods"][name]]
        if dices:
            print(f"  {name:11s} Dice {np.median(dices):.3f}  volume ratio {np.median(ratios):.2f}  (n={len(dices)})")
    pairs = [np.median(list(r["reader_pairwise_dice"].values())) for r in rows if r["reader_pairwise_dice"]]
    if pairs:
        print(f"  {'readers':11s} Dice {np.median(pairs):.3f} (pairwise)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of scans (one sub-folder each)")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--png", type=Path, default=None, help="write mask overlays here")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
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
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
