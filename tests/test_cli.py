"""The CLI: one-line errors without tracebacks, inspect/convert in-process."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bme_mri.cli import app
from bme_mri.phantom.dicom_write import write_mr_series
from bme_mri.types import Geometry

CORONAL = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # row +L, column -S, normal +P


@pytest.fixture()
def stir_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    geometry = Geometry((24, 20, 8), (1.5, 1.5, 4.0), (-18.0, 0.0, 15.0), CORONAL)
    tags = {"PatientID": "P1", "StudyDate": "20260101", "SeriesNumber": 3, "SeriesDescription": "COR STIR",
            "ProtocolName": "t2_tirm_cor", "ScanningSequence": ["SE", "IR"], "SequenceVariant": ["SK", "SP"],
            "InversionTime": 150.0, "EchoTime": 40.0, "RepetitionTime": 4000.0, "Manufacturer": "SIEMENS"}
    write_mr_series(rng.uniform(0, 500, geometry.shape), geometry, tmp_path / "dicom" / "stir", tags)
    return tmp_path / "dicom"


runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("inspect", "convert", "run", "compare", "quantify", "validate", "phantom", "demo"):
        assert command in result.output


def test_inspect_json_picks_the_stir(stir_folder: Path):
    result = runner.invoke(app, ["inspect", str(stir_folder), "--json"])
    assert result.exit_code == 0, result.output
    assert "COR STIR" in result.output and "stir" in result.output


def test_bad_config_key_is_one_line_without_traceback(stir_folder: Path, tmp_path: Path):
    config = tmp_path / "c.yaml"
    config.write_text("ingest:\n  strickt: true\n")
    result = runner.invoke(app, ["inspect", str(stir_folder), "--config", str(config)])
    assert result.exit_code == 2
    assert "ingest.strickt: unknown key" in result.output
    assert "Traceback" not in result.output


def test_output_inside_input_is_refused(stir_folder: Path):
    result = runner.invoke(app, ["convert", str(stir_folder), "--out", str(stir_folder / "nifti")])
    assert result.exit_code == 2
    assert "inside the input" in result.output
    assert not (stir_folder / "nifti").exists()


def test_convert_writes_nifti_outside_input(stir_folder: Path, tmp_path: Path):
    result = runner.invoke(app, ["convert", str(stir_folder), "--out", str(tmp_path / "nifti")])
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "nifti").rglob("*.nii.gz"))


def _roi_inputs(tmp_path: Path, shift_mask: bool = False) -> tuple[Path, Path]:
    from bme_mri.nifti import write_nifti

    rng = np.random.default_rng(3)
    geometry = Geometry((40, 40, 20), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0), np.eye(3))
    ii, jj, kk = np.meshgrid(*(np.arange(n) for n in geometry.shape), indexing="ij")
    bone = (ii - 20) ** 2 + (jj - 20) ** 2 + ((kk - 10) * 2) ** 2 < 15 ** 2
    lesion = bone & ((ii - 16) ** 2 + (jj - 20) ** 2 + ((kk - 10) * 2) ** 2 < 10 ** 2)
    image = np.where(bone, 100.0, 20.0) + np.where(lesion, 300.0, 0.0) + rng.normal(0, 8, geometry.shape)
    write_nifti(image.astype(np.float32), geometry, tmp_path / "knee.nii.gz")
    mask_geometry = Geometry(geometry.shape, geometry.spacing_mm, (5.0, 0.0, 0.0), np.eye(3)) if shift_mask else geometry
    write_nifti(bone.astype(np.uint8), mask_geometry, tmp_path / "bone.nii.gz")
    return tmp_path / "knee.nii.gz", tmp_path / "bone.nii.gz"


def test_quantify_roi_mode_writes_mask_and_volumes(tmp_path: Path):
    """By default the sharp planted sphere is outlined as readers outline, out to where its
    smoothed edge fades into the noise (larger than the sphere); with the half-contrast border
    (``border_contrast_fraction: 0.5``) its physical volume is measured."""
    image, bone = _roi_inputs(tmp_path)
    lesion_ml = float(4 / 3 * np.pi * 10**3 / 1000)  # planted lesion: a sphere of radius 10 mm (k spacing 2 mm), ml
    result = runner.invoke(app, ["quantify", str(image), "--roi", str(bone), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    payload = __import__("json").loads((tmp_path / "out" / "roi_result.json").read_text())
    assert lesion_ml < payload["edema_ml"] < 2.0 * lesion_ml, payload["edema_ml"]
    low, high = payload["edema_ml_range"]
    assert low <= payload["edema_ml"] <= high
    assert (tmp_path / "out" / "edema_mask.nii.gz").is_file()
    physical = tmp_path / "half_contrast.yaml"
    physical.write_text("quantify:\n  roi:\n    border_contrast_fraction: 0.5\n")
    result = runner.invoke(app, ["quantify", str(image), "--roi", str(bone), "--out", str(tmp_path / "out2"),
                                 "--config", str(physical)])
    assert result.exit_code == 0, result.output
    payload = __import__("json").loads((tmp_path / "out2" / "roi_result.json").read_text())
    assert abs(payload["edema_ml"] - lesion_ml) < 0.1 * lesion_ml, payload["edema_ml"]


def test_quantify_resamples_a_mask_on_another_grid_with_a_warning(tmp_path: Path):
    image, bone = _roi_inputs(tmp_path, shift_mask=True)
    result = runner.invoke(app, ["quantify", str(image), "--roi", str(bone), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    payload = __import__("json").loads((tmp_path / "out" / "roi_result.json").read_text())
    assert len(payload["warnings"]) == 1 and "resampled" in payload["warnings"][0]
    assert f"warning: {payload['warnings'][0]}" in result.output  # said on the terminal too
    assert f"edema {payload['edema_ml']:.2f} ml" in result.output
    for name in ("edema_mask.nii.gz", "reference.nii.gz", "overlay.png"):
        assert (tmp_path / "out" / name).is_file(), name


def test_quantify_refuses_a_mask_that_does_not_overlap_the_image(tmp_path: Path):
    from bme_mri.nifti import write_nifti

    image, _ = _roi_inputs(tmp_path)
    far = Geometry((40, 40, 20), (1.0, 1.0, 2.0), (900.0, 0.0, 0.0), np.eye(3))
    write_nifti(np.ones(far.shape, dtype=np.uint8), far, tmp_path / "far.nii.gz")
    result = runner.invoke(app, ["quantify", str(image), "--roi", str(tmp_path / "far.nii.gz"),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "does not overlap" in result.output
    assert "Traceback" not in result.output


def test_quantify_vhi_method_without_a_reference_is_a_one_line_error(tmp_path: Path):
    image, bone = _roi_inputs(tmp_path)
    result = runner.invoke(app, ["quantify", str(image), "--roi", str(bone), "--method", "vhi",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "needs a normal-marrow sample" in result.output
    assert len(result.output.strip().splitlines()) == 1
