"""`bme-mri convert` on real exams (../shared/realdata: both pelvic exams and every dicom_zoo
folder; skipped when absent): exit 0 or 1, one line per skipped series with its reason, no
partial or temporary file, and every written NIfTI on dcm2niix's grid in world coordinates with
the same voxel values (issue 22). The comparison with dcm2niix skips where it is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bme_mri.cli import main

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
ZOO = REALDATA / "dicom_zoo"
PELVIS = REALDATA / "pelvis_dicom"


def _folders() -> list[Path]:
    folders = []
    expected = ZOO / "expected_classes.json"
    if expected.is_file():
        folders += sorted({ZOO / e["folder"] for e in json.loads(expected.read_text())})
    if PELVIS.is_dir():
        folders += sorted(p for p in PELVIS.iterdir() if p.is_dir())
    return folders


pytestmark = pytest.mark.skipif(not _folders(), reason=f"real exams not present under {REALDATA}")


def _dcm2niix() -> str | None:
    local = Path(sys.executable).parent / "dcm2niix"
    return str(local) if local.exists() else shutil.which("dcm2niix")


def _corners(shape, affine) -> np.ndarray:
    points = np.array([[i, j, k, 1.0] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1)
                       for k in (0, shape[2] - 1)]) @ affine.T
    points = np.round(points[:, :3], 3)
    return points[np.lexsort(points.T)]


def _on_grid_of(ours, theirs) -> bool:
    """True when one of dcm2niix's volumes lies on our grid voxel for voxel (world coordinates)
    with the same values (up to one constant factor: Philips' precise scaling)."""
    import nibabel as nib

    a_img = nib.load(str(ours))
    a = np.asarray(a_img.dataobj, dtype=np.float64)
    for path in theirs:
        t_img = nib.load(str(path))
        data = np.asarray(t_img.dataobj, dtype=np.float64)
        data = data[..., None] if data.ndim == 2 else data
        volumes = [data] if data.ndim == 3 else [data[..., v] for v in range(data.shape[3])]
        if a.shape[2] > 1 and not np.allclose(_corners(volumes[0].shape, t_img.affine),
                                              _corners(a.shape, a_img.affine), atol=1e-2):
            continue
        index = np.indices(volumes[0].shape).reshape(3, -1).T
        mine = (np.c_[index, np.ones(len(index))] @ t_img.affine.T @ np.linalg.inv(a_img.affine).T)[:, :3]
        rounded = np.rint(mine).astype(int)
        if (np.max(np.abs(mine - rounded)) > 1e-2 or rounded.min() < 0
                or np.any(rounded.max(axis=0) >= a.shape)):
            continue
        values = a[rounded[:, 0], rounded[:, 1], rounded[:, 2]]
        for volume in volumes:
            b = volume.reshape(-1)
            scale = (values @ b) / max(b @ b, 1e-12)
            if np.allclose(values, scale * b, rtol=1e-3, atol=1e-3 * max(1.0, np.abs(values).max())):
                return True
    return False


@pytest.mark.parametrize("folder", _folders(), ids=[str(f.relative_to(REALDATA)) for f in _folders()])
def test_convert_real_exam(folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["convert", str(folder), "--out", str(out)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code in (0, 1), lines
    written = [Path(line.split(None, 1)[1]) for line in lines if line.startswith("wrote ")]
    skipped = [line for line in lines if line.startswith("skipped ")]
    assert len(written) + len(skipped) == len(lines) - 1, lines  # + the summary line
    assert (code == 1) == bool(skipped)
    assert all("Traceback" not in line and "internal error" not in line for line in lines)
    for line in skipped:
        assert len(line.split(": ", 1)[1]) > 20  # a reason, not just a name
    files = sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else []
    assert not [p for p in files if ".tmp" in p.name or p.name.startswith(".")], files
    assert sorted(p for p in files if p.name.endswith(".nii.gz")) == sorted(written)
    for path in written:  # a diffusion file's b-value, also as dcm2niix's .bval
        side = json.loads(Path(str(path)[: -len(".nii.gz")] + ".json").read_text())
        bval = Path(str(path)[: -len(".nii.gz")] + ".bval")
        if side.get("bme_mri_sequence") == "dwi":
            assert float(bval.read_text()) == side["DiffusionBValue"]
        else:
            assert not bval.exists()
    exe = _dcm2niix()
    if exe is None or not written:
        return
    niix = tmp_path / "niix"
    niix.mkdir()
    subprocess.run([exe, "-z", "n", "-f", "%s_%e_%j", "-o", str(niix), str(folder)], capture_output=True,
                   check=False)
    theirs = sorted(niix.glob("*.nii"))
    off = [p.name for p in written if not _on_grid_of(p, theirs)]
    assert off == [], f"not on dcm2niix's grid: {off}"
