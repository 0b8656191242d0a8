"""How the classical femoral-head finder holds up when real series are perturbed a little.

The real pelvic exams (``../shared/realdata/pelvis_dicom``) are few, and the finder was tuned
on them; an exam held out elsewhere differs by noise, coil shading, slice thickness, field of
view and storage order. This script perturbs each T2 / PD series that shows the hips, runs
``bme-mri heads``' classical finder (:func:`bme_mri.pipeline.heads.find_heads`) and scores it
against the by-eye marks exactly as ``eval_heads.py`` does (found within 10 mm, false > 25 mm,
wrong side; in view judged on the unperturbed series). Perturbations:

* ``noise3%`` / ``noise6%``: Rician noise, sd a fraction of the 99th percentile (3 seeds);
* ``bias±20%x`` ...: a linear multiplicative shading across the field along LPS x or y;
* ``scale×0.1`` / ``scale×10``: intensity units (the result must not change);
* ``slices×2`` / ``pixels×2``: slices or in-plane pixels averaged in pairs (SimpleITK
  ``BinShrink``, which keeps the world geometry);
* ``keep x>0`` / ``keep x<0``: one hip's half of the field;
* ``flip i`` / ``flip j`` / ``flip k``: storage order reversed, anatomy unchanged in LPS (the
  result must not change).

Usage: ``python scripts/perturb_real_heads.py [--data DIR] [--out results.json] [--quick]``
(``--quick``: one seed, no bias sweep). Prints one line per series and perturbation and a
summary of every head lost, false head or side flip. Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from eval_heads import MARKS, score_against_marks  # noqa: E402

from bme_mri.config import load_config  # noqa: E402
from bme_mri.segment.resample import to_sitk  # noqa: E402
from bme_mri.types import Geometry, Volume  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata" / "pelvis_dicom"
SERIES = [("t2", "t2_tse_tra"), ("t2", "t2_tse_cor"), ("pd", "pd ref")]  # hips in view, 3-D enough


def from_sitk(image: sitk.Image, meta: dict) -> Volume:
    """A :class:`Volume` with ``image``'s array ``[i, j, k]`` and world geometry (LPS)."""
    array = sitk.GetArrayFromImage(image).transpose(2, 1, 0).astype(np.float32)
    geometry = Geometry(array.shape, image.GetSpacing(), image.GetOrigin(),
                        np.asarray(image.GetDirection(), float).reshape(3, 3))
    return Volume(array, geometry, dict(meta))


def blank_border(array: np.ndarray) -> np.ndarray:
    """The all-zero border planes a scanner writes (they stay zero under noise)."""
    blank = np.zeros(array.shape, bool)
    for axis in range(3):
        filled = np.any(array != 0, axis=tuple(a for a in range(3) if a != axis))
        index = [slice(None)] * 3
        index[axis] = ~filled
        blank[tuple(index)] = True
    return blank


def rician(volume: Volume, fraction: float, seed: int) -> Volume:
    rng = np.random.default_rng(seed)
    sd = fraction * float(np.percentile(volume.array, 99))
    noisy = np.hypot(volume.array + rng.normal(0, sd, volume.array.shape), rng.normal(0, sd, volume.array.shape))
    noisy[blank_border(volume.array)] = 0
    return Volume(noisy.astype(np.float32), volume.geometry, volume.meta)


def shading(volume: Volume, amplitude: float, axis: int) -> Volume:
    geometry = volume.geometry
    lps = geometry.index_to_lps(np.indices(geometry.shape).reshape(3, -1).T)[:, axis].reshape(geometry.shape)
    ramp = 2 * (lps - lps.min()) / max(float(np.ptp(lps)), 1e-6) - 1  # -1 .. 1 across the field
    return Volume((volume.array * (1 + amplitude * ramp)).astype(np.float32), geometry, volume.meta)


def scaled(volume: Volume, factor: float) -> Volume:
    return Volume(volume.array * np.float32(factor), volume.geometry, volume.meta)


def averaged(volume: Volume, factors: tuple[int, int, int]) -> Volume:
    return from_sitk(sitk.BinShrink(to_sitk(volume), list(factors)), volume.meta)


def one_half(volume: Volume, positive_x: bool) -> Volume:
    """The half of the field on one side of LPS x = 0 (cut along the storage axis nearest x)."""
    geometry = volume.geometry
    axis = int(np.argmax(np.abs(np.asarray(geometry.direction_lps)[0])))
    centre = (np.asarray(geometry.shape) - 1) / 2
    steps = np.tile(centre, (geometry.shape[axis], 1))
    steps[:, axis] = np.arange(geometry.shape[axis])
    x = geometry.index_to_lps(steps)[:, 0]
    keep = np.flatnonzero(x > 0 if positive_x else x < 0)
    start, stop = [0, 0, 0], list(geometry.shape)
    start[axis], stop[axis] = int(keep[0]), int(keep[-1]) + 1
    size = [b - a for a, b in zip(start, stop)]
    return from_sitk(sitk.RegionOfInterest(to_sitk(volume), size, start), volume.meta)


def flipped(volume: Volume, axis: int) -> Volume:
    """Storage order reversed along ``axis``; the anatomy stays where it is in LPS (the
    origin moves to the far corner and that axis' direction turns round)."""
    geometry = volume.geometry
    corner = [0.0, 0.0, 0.0]
    corner[axis] = geometry.shape[axis] - 1.0
    direction = np.array(geometry.direction_lps, float)
    direction[:, axis] *= -1
    flipped_geometry = Geometry(geometry.shape, geometry.spacing_mm,
                                tuple(geometry.index_to_lps(np.array([corner]))[0]), direction)
    return Volume(np.ascontiguousarray(np.flip(volume.array, axis)), flipped_geometry, volume.meta)


def perturbations(quick: bool) -> list[tuple[str, Callable[[Volume], Volume]]]:
    seeds = (1,) if quick else (1, 2, 3)
    out: list[tuple[str, Callable[[Volume], Volume]]] = []
    for fraction in (0.03, 0.06):
        for seed in seeds:
            out.append((f"noise{fraction:.0%} s{seed}", lambda v, f=fraction, s=seed: rician(v, f, s)))
    amplitudes = (0.35,) if quick else (0.2, 0.35)
    for amplitude in amplitudes:
        for axis, name in ((0, "x"), (1, "y")):
            for sign in (1, -1):
                out.append((f"bias{sign * amplitude:+.0%}{name}",
                            lambda v, a=sign * amplitude, ax=axis: shading(v, a, ax)))
    out += [("scale×0.1", lambda v: scaled(v, 0.1)), ("scale×10", lambda v: scaled(v, 10.0)),
            ("slices×2", lambda v: averaged(v, (1, 1, 2))), ("pixels×2", lambda v: averaged(v, (2, 2, 1))),
            ("keep x>0", lambda v: one_half(v, True)), ("keep x<0", lambda v: one_half(v, False)),
            ("flip i", lambda v: flipped(v, 0)), ("flip j", lambda v: flipped(v, 1)),
            ("flip k", lambda v: flipped(v, 2))]
    return out


def series_volumes(data: Path, config) -> list[tuple[str, str, Volume]]:
    """(exam, series name, volume) of every T2 / PD series of the exams that shows the hips."""
    from bme_mri.ingest import discover, load_volume

    out = []
    for exam in sorted(p for p in data.iterdir() if p.is_dir()):
        for stack in discover(exam, config.ingest).all_stacks():
            text = f"{stack.description}|{stack.stack_id}".lower()
            if stack.error is None and any(stack.sequence.value == k and key in text for k, key in SERIES):
                out.append((exam.name, f"{exam.name}_{stack.series_number}_{stack.description}",
                            load_volume(stack, config.ingest)))
    return out


def run(data: Path, quick: bool) -> list[dict]:
    from bme_mri.pipeline.heads import find_heads

    config = load_config()
    rows = []
    for exam, name, volume in series_volumes(data, config):
        marks = MARKS["exams"].get(exam, {})
        base_heads = find_heads(volume, config)
        base = score_against_marks(base_heads, marks, volume)
        for label, perturb in [("baseline", lambda v: v), *perturbations(quick)]:
            changed = perturb(volume)
            heads = find_heads(changed, config)
            # in view as on the series itself: noise fills the blank border the in-view rule reads
            score = score_against_marks(heads, marks, volume if changed.geometry.shape == volume.geometry.shape
                                        else changed)
            shift = max((min(float(np.linalg.norm(np.subtract(h.center_lps_mm, b.center_lps_mm)))
                             for h in heads if h.side == b.side) for b in base_heads
                         if any(h.side == b.side for h in heads)), default=0.0)
            lost = score["found_10mm"] < min(base["found_10mm"], len(score["in_view"]))
            row = {"series": name, "perturbation": label, "found": score["found_10mm"],
                   "in_view": len(score["in_view"]), "false": score["false"], "wrong_side": score["wrong_side"],
                   "max_shift_mm": round(shift, 2), "lost": bool(lost)}
            rows.append(row)
            print(f"{name:40s} {label:14s} {row['found']}/{row['in_view']} false {row['false']} wrong "
                  f"{row['wrong_side']} shift {row['max_shift_mm']:.1f} mm{'  LOST' if lost else ''}"
                  f"{'  FALSE' if row['false'] else ''}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REALDATA)
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    parser.add_argument("--quick", action="store_true", help="one noise seed, one bias amplitude")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"real exams not found at {args.data}: nothing to measure", file=sys.stderr)
        return 2
    logging.disable(logging.WARNING)  # the finder logs every candidate it drops
    rows = run(args.data, args.quick)
    bad = [r for r in rows if r["lost"] or r["false"] or r["wrong_side"]]
    print(f"\n{len(rows)} runs; {len(bad)} with a head lost, a false head or a side flipped:")
    for r in bad:
        print(f"  {r['series']} {r['perturbation']}: {r['found']}/{r['in_view']}, false {r['false']}, "
              f"wrong side {r['wrong_side']}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
