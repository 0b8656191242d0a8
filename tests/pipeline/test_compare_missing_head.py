"""compare says which hip it could not compare and why: a head not found at the follow-up (the left
head of a smoke phantom's follow-up STIR filled in with the tissue around it) is carried into the
follow-up's study.json (sides_not_analysed), the printed warnings and the report, in words apart
from a side outside the field of view."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np

from bme_mri.cli import main
from bme_mri.config import load_config
from bme_mri.ingest import convert_input
from bme_mri.phantom.cohort import cohort_plans, generate_plans

SEED = 5  # smoke BME0000: both heads in view at both visits


def _hide_left_head(stir: Path, out: Path) -> Path:
    """``stir`` with a 32 mm sphere around its left femoral head filled with the tissue around it."""
    image = nib.load(str(stir))
    array = np.asarray(image.dataobj).astype(np.float32)
    ijk = np.indices(array.shape).reshape(3, -1)
    lps = (image.affine[:3, :3] @ ijk + image.affine[:3, 3:]).T * np.array([-1.0, -1.0, 1.0])
    distance = np.linalg.norm(lps - np.array([95.0, 0.0, 0.0]), axis=1).reshape(array.shape)
    around = float(np.median(array[(distance > 32.0) & (distance < 47.0)]))
    array[distance <= 32.0] = around + np.random.default_rng(0).normal(0.0, 15.0, int((distance <= 32.0).sum()))
    out.mkdir(parents=True)
    path = out / stir.name
    nib.save(nib.Nifti1Image(array, image.affine, image.header), str(path))
    shutil.copy(stir.with_suffix("").with_suffix(".json"), path.with_suffix("").with_suffix(".json"))
    return path


def test_compare_carries_a_head_not_found_into_study_json_output_and_report(tmp_path, capsys):
    generate_plans(tmp_path / "phantom", "smoke", cohort_plans("smoke")[:1], SEED)
    convert_input(tmp_path / "phantom" / "dicom", tmp_path / "nifti", load_config().ingest)
    baseline, followup = sorted((tmp_path / "nifti").rglob("*_STIR.nii.gz"))
    hidden = _hide_left_head(followup, tmp_path / "edited" / "sub-BME0000" / "ses-20240408")
    code = main(["compare", str(baseline), str(hidden), "--out", str(tmp_path / "out")])
    printed = capsys.readouterr()
    assert code == 0
    record = json.loads((tmp_path / "out" / "followup" / "study.json").read_text())
    assert [s["side"] for s in record["sides"]] == ["right"]
    (missing,) = record["sides_not_analysed"]
    assert missing["side"] == "left" and missing["not_analysed"].startswith("femoral head not found: ")
    line = [w for w in printed.err.splitlines() if w.startswith("warning: left hip")]
    assert line == [f"warning: left hip at the follow-up visit: {missing['not_analysed']}; no comparison "
                    "for this side"]
    assert "outside the field of view" not in printed.err
    html = (tmp_path / "out" / "report.html").read_text()
    assert "not analysed: femoral head not found: " in html
    assert json.loads((tmp_path / "out" / "baseline" / "study.json").read_text())["sides_not_analysed"] == []
