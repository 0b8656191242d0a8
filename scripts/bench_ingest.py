#!/usr/bin/env python
"""Benchmark ingest: discover + assemble every series of a phantom folder, vs SimpleITK and dcm2niix.

Usage::

    python scripts/bench_ingest.py --studies 10 --repeats 3 --workdir /tmp/bme-bench

Generates (or reuses) a phantom folder under ``--workdir`` (``bme_mri.phantom.generate_cohort``
with cohort 'bench'; a simpler write_mr_series folder when that is unavailable or
``--simple``), then times, as the median of ``--repeats`` runs on the same files:

* bme-mri: ``discover`` + ``load_volume`` of every stack (float32 volumes in memory);
* SimpleITK: ``GetGDCMSeriesIDs`` + ``ImageSeriesReader`` per series of every folder;
* dcm2niix: one subprocess over the whole folder, uncompressed NIfTI to a temp folder.

Target: faster than SimpleITK, within 2x of dcm2niix. The OS file cache is warm for all three
after the first repeat (each tool runs once before timing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def ingest_settings():
    from bme_mri.ingest.settings import IngestSettings

    section = yaml.safe_load((REPO / "configs" / "default.yaml").read_text(encoding="utf-8"))["ingest"]
    return IngestSettings.model_validate(section)


def simple_folder(root: Path, studies: int, seed: int) -> None:
    """Per study: coronal STIR 256x256x24, coronal T1 256x256x24, axial T2 FS 256x256x24,
    3-plane localizer; shuffled file names, uint16 with per-slice rescale on some."""
    from bme_mri.phantom.dicom_write import deterministic_uid, write_mr_series
    from bme_mri.types import Geometry

    rng = np.random.default_rng(seed)
    coronal = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T
    axial = np.eye(3)
    sagittal = np.array([[0, 1.0, 0], [0, 0, -1.0], [-1.0, 0, 0]]).T
    for s in range(studies):
        study = {"PatientID": f"BENCH{s:03d}", "StudyInstanceUID": deterministic_uid("bench", seed, s),
                 "StudyDate": "20240101", "Manufacturer": ("SIEMENS", "GE MEDICAL SYSTEMS", "Philips")[s % 3]}
        series = [("COR STIR", coronal, 24, {"InversionTime": 150.0}),
                  ("COR T1 TSE", coronal, 24, {"EchoTime": 12.0, "RepetitionTime": 550.0}),
                  ("AX T2 FS", axial, 24, {"EchoTime": 80.0, "RepetitionTime": 4000.0, "ScanOptions": "FS"})]
        for number, (description, direction, n, tags) in enumerate(series, start=2):
            geometry = Geometry((256, 256, n), (0.75, 0.75, 4.0), (-96.0, -96.0, -40.0), direction)
            array = rng.uniform(0, 1000, geometry.shape)
            names = [f"{rng.integers(1 << 30):x}.dcm" for _ in range(n)]
            write_mr_series(array, geometry, root / f"s{s:02d}", {**study, **tags, "SeriesNumber": number,
                            "SeriesDescription": description}, file_names=names,
                            per_slice_rescale=bool(s % 2), instance_order=("ascending", "descending")[s % 2], rng=rng)
        loc_uid = deterministic_uid("loc", seed, s)
        for plane, direction in (("c", coronal), ("a", axial), ("s", sagittal)):
            geometry = Geometry((256, 256, 1), (1.5, 1.5, 10.0), (-190.0, -190.0, 0.0), direction)
            write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, root / f"s{s:02d}",
                            {**study, "SeriesNumber": 1, "SeriesDescription": "3-plane loc",
                             "SeriesInstanceUID": loc_uid, "ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]},
                            file_names=[f"loc_{plane}.dcm"], rng=rng)


def prepare(workdir: Path, studies: int, seed: int, simple: bool) -> Path:
    marker = workdir / ("simple" if simple else "phantom") / f"n{studies}_s{seed}"
    dicom = marker / "dicom"
    if (marker / "done").exists():
        return dicom
    shutil.rmtree(marker, ignore_errors=True)
    marker.mkdir(parents=True)
    if not simple:
        try:
            from bme_mri.phantom import generate_cohort

            generate_cohort(marker, cohort="bench", seed=seed)
            if studies != 10:
                print(f"note: the 'bench' cohort has its own study count; --studies {studies} ignored")
        except Exception as exc:  # phantom unavailable: fall back to a simple folder
            print(f"phantom generator unavailable ({type(exc).__name__}: {exc}); using a simple folder")
            shutil.rmtree(marker, ignore_errors=True)
            return prepare(workdir, studies, seed, simple=True)
    else:
        simple_folder(dicom, studies, seed)
    (marker / "done").write_text("ok")
    return dicom


def run_ours(root: Path, settings) -> dict:
    from bme_mri.ingest import discover, load_volume

    t0 = time.perf_counter()
    discovery = discover(root, settings)
    t1 = time.perf_counter()
    voxels = 0
    loaded = 0
    for stack in discovery.all_stacks():
        if stack.error is None:
            voxels += load_volume(stack, settings).array.size
            loaded += 1
    t2 = time.perf_counter()
    return {"total": t2 - t0, "discover": t1 - t0, "series": loaded, "voxels": voxels,
            "errors": sum(1 for s in discovery.all_stacks() if s.error)}


def run_sitk(root: Path) -> dict:
    import SimpleITK as sitk

    sitk.ProcessObject_SetGlobalWarningDisplay(False)  # localizers: 'non uniform sampling'
    t0 = time.perf_counter()
    series = 0
    voxels = 0
    for folder, _, names in os.walk(root):
        if not names:
            continue
        for series_id in sitk.ImageSeriesReader.GetGDCMSeriesIDs(folder):
            files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder, series_id)
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(files)
            voxels += reader.Execute().GetNumberOfPixels()
            series += 1
    return {"total": time.perf_counter() - t0, "series": series, "voxels": voxels}


def dcm2niix_exe() -> str | None:
    local = Path(sys.executable).parent / "dcm2niix"
    return str(local) if local.exists() else shutil.which("dcm2niix")


def run_dcm2niix(root: Path, exe: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench_niix_"))
    try:
        t0 = time.perf_counter()
        subprocess.run([exe, "-z", "n", "-f", "%s_%d_%j", "-o", str(out), str(root)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t0
        return {"total": elapsed, "series": len(list(out.glob("*.nii")))}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def median_of(fn, repeats: int) -> tuple[float, dict]:
    fn()  # warm-up: imports and OS file cache, not timed
    runs = [fn() for _ in range(repeats)]
    return statistics.median(r["total"] for r in runs), runs[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bme_mri_bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--simple", action="store_true", help="use the simple write_mr_series folder")
    args = parser.parse_args(argv)

    settings = ingest_settings()
    root = prepare(args.workdir, args.studies, args.seed, args.simple)
    n_files = sum(len(f) for _, _, f in os.walk(root))
    size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
    print(f"input: {root} ({n_files} files, {size_mb:.0f} MB)")
    rows = []
    ours, info = median_of(lambda: run_ours(root, settings), args.repeats)
    rows.append(("bme-mri discover+load_volume", ours, f"{info['series']} stacks, {info['voxels'] / 1e6:.1f} Mvox, "
                 f"discover {info['discover']:.3f} s, {info['errors']} stacks with errors"))
    sitk_t, info = median_of(lambda: run_sitk(root), args.repeats)
    rows.append(("SimpleITK GDCM series reader", sitk_t, f"{info['series']} series, {info['voxels'] / 1e6:.1f} Mvox"))
    exe = dcm2niix_exe()
    niix_t = None
    if exe:
        niix_t, info = median_of(lambda: run_dcm2niix(root, exe), args.repeats)
        rows.append(("dcm2niix (-z n, to temp dir)", niix_t, f"{info['series']} NIfTI files"))
    else:
        print("dcm2niix not found: pip install dcm2niix")
    print(f"\nmedian of {args.repeats} runs (after one warm-up run each)")
    print(f"{'tool':34s} {'seconds':>9s}  {'x bme-mri':>9s}  notes")
    for name, seconds, note in rows:
        print(f"{name:34s} {seconds:9.3f}  {seconds / ours:9.2f}  {note}")
    print(f"\nbme-mri vs SimpleITK: {sitk_t / ours:.2f}x faster (target > 1)")
    if niix_t is not None:
        print(f"bme-mri vs dcm2niix: {ours / niix_t:.2f}x the time of dcm2niix (target <= 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
