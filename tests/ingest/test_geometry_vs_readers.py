"""Our grid and voxels agree with SimpleITK's ImageSeriesReader and with dcm2niix, in world
coordinates, for axial / coronal / sagittal / oblique / reversed stacks and pydicom's MR files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from pydicom.data import get_testdata_file

from bme_mri.ingest import discover, load_volume
from tests.ingest.conftest import AXIAL, CORONAL, SAGITTAL, make_geometry, oblique_direction, write_series

DIRECTIONS = {"axial": AXIAL, "coronal": CORONAL, "sagittal": SAGITTAL, "oblique": oblique_direction()}
PYDICOM_MR = ["MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_padded.dcm",
              "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"]


def _dcm2niix() -> str | None:
    local = Path(sys.executable).parent / "dcm2niix"
    return str(local) if local.exists() else shutil.which("dcm2niix")


def _load_single(folder: Path, settings):
    discovery = discover(folder, settings)
    stacks = discovery.all_stacks()
    assert len(stacks) == 1, [s.error for s in stacks]
    assert stacks[0].error is None, stacks[0].error
    return stacks[0], load_volume(stacks[0], settings)


def _sitk_read(folder: Path):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    return image, sitk.GetArrayFromImage(image).transpose(2, 1, 0)


def _sitk_corners(image, shape) -> np.ndarray:
    return np.array([image.TransformContinuousIndexToPhysicalPoint([float(i), float(j), float(k)])
                     for i in (0, shape[0] - 1) for j in (0, shape[1] - 1) for k in (0, shape[2] - 1)])


def _assert_same_values(ours: np.ndarray, theirs: np.ndarray) -> None:
    # identical after rescale up to float32 rounding of the other reader's arithmetic
    scale = max(1.0, float(np.max(np.abs(ours))))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6 * scale)


def _check_against_sitk(folder: Path, volume) -> None:
    image, array = _sitk_read(folder)
    assert array.shape == volume.array.shape
    corners = _sitk_corners(image, volume.geometry.shape)
    assert np.max(np.abs(corners - volume.geometry.corners_lps())) < 1e-3
    _assert_same_values(volume.array, array.astype(np.float64))


def _check_against_dcm2niix(folder: Path, volume, out: Path) -> None:
    import nibabel as nib

    exe = _dcm2niix()
    if exe is None:
        pytest.skip("dcm2niix binary not installed (pip install dcm2niix)")
    out.mkdir()
    subprocess.run([exe, "-z", "n", "-f", "%s_%e", "-o", str(out), str(folder)], check=True,
                   capture_output=True, text=True)
    files = sorted(out.glob("*.nii"))
    assert len(files) == 1, files
    image = nib.load(str(files[0]))
    data = np.asarray(image.get_fdata())
    data = data[..., 0] if data.ndim == 4 else data
    if data.ndim == 2:
        data = data[..., None]
    affine = image.affine
    # corners in RAS, as sets (dcm2niix may flip / reorder axes)
    def corners(shape, aff):
        pts = np.array([[i, j, k, 1.0] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1)
                        for k in (0, shape[2] - 1)]) @ aff.T
        pts = np.round(pts[:, :3], 4)
        return pts[np.lexsort(pts.T)]
    if volume.geometry.shape[2] > 1:
        assert np.max(np.abs(corners(data.shape, affine) - corners(volume.geometry.shape, volume.affine_ras))) < 1e-3
    # every dcm2niix voxel maps onto one of ours at the same world position, with the same value
    index = np.indices(data.shape).reshape(3, -1).T
    world = np.c_[index, np.ones(len(index))] @ affine.T
    ours = (world @ np.linalg.inv(volume.affine_ras).T)[:, :3]
    if volume.geometry.shape[2] == 1:
        ours[:, 2] = 0.0  # single slice: dcm2niix's slice thickness may differ; in-plane must match
    rounded = np.rint(ours).astype(int)
    assert np.max(np.abs(ours - rounded)) < 1e-3
    _assert_same_values(volume.array[rounded[:, 0], rounded[:, 1], rounded[:, 2]], data.reshape(-1))


@pytest.mark.parametrize("order", ["ascending", "descending"])
@pytest.mark.parametrize("plane", sorted(DIRECTIONS))
def test_grid_and_values_match_simpleitk_and_dcm2niix(tmp_path, settings, plane, order):
    geometry = make_geometry(DIRECTIONS[plane])
    names = [f"f{(5 * k) % 6:02d}.dcm" for k in range(6)]  # file names unrelated to slice order
    truth, _ = write_series(tmp_path / "dicom", geometry, seed=3, instance_order=order,
                            per_slice_rescale=True, file_names=names)
    stack, volume = _load_single(tmp_path / "dicom", settings)
    assert stack.orientation == plane
    assert volume.geometry.same_grid(geometry, tol_mm=1e-4)
    np.testing.assert_allclose(volume.array, truth, atol=0.02 * truth.max() / 1000)
    _check_against_sitk(tmp_path / "dicom", volume)
    _check_against_dcm2niix(tmp_path / "dicom", volume, tmp_path / "niix")


@pytest.mark.parametrize("name", PYDICOM_MR)
def test_pydicom_mr_files_match_simpleitk_and_dcm2niix(tmp_path, settings, name):
    folder = tmp_path / "dicom"
    folder.mkdir()
    shutil.copy(get_testdata_file(name), folder / name)
    _, volume = _load_single(folder, settings)
    assert volume.array.shape == (64, 64, 1)
    reference = np.asarray(sitk.GetArrayFromImage(sitk.ReadImage(get_testdata_file("MR_small.dcm"))), float)
    _assert_same_values(volume.array, reference.transpose(2, 1, 0))
    _check_against_sitk(folder, volume)
    if name != "MR_small_bigendian.dcm":  # dcm2niix refuses big-endian files written by pydicom
        _check_against_dcm2niix(folder, volume, tmp_path / "niix")


def test_left_blob_has_larger_lps_x_and_smaller_ras_x(tmp_path, settings):
    geometry = make_geometry(CORONAL, shape=(20, 16, 5), spacing=(2.0, 2.0, 4.0), origin=(-19.0, 0.0, 15.0))
    array = np.full(geometry.shape, 10.0)
    # the blob sits at the patient's left: LPS x > 0, i.e. the high-i end (i runs along +x)
    left_voxels = geometry.index_to_lps(np.indices(geometry.shape).reshape(3, -1).T)[:, 0] > 5.0
    array.reshape(-1)[left_voxels] = 900.0
    from bme_mri.phantom.dicom_write import write_mr_series
    write_mr_series(array, geometry, tmp_path / "d", {"PatientID": "L", "SeriesDescription": "COR STIR"},
                    file_names=[f"z{k}.dcm" for k in (3, 1, 4, 0, 2)])
    _, volume = _load_single(tmp_path / "d", settings)
    bright = np.argwhere(volume.array > 500)
    dark = np.argwhere(volume.array < 50)
    bright_lps = volume.geometry.index_to_lps(bright)
    dark_lps = volume.geometry.index_to_lps(dark)
    assert bright_lps[:, 0].mean() > dark_lps[:, 0].mean() + 10  # left = larger LPS x
    ras = lambda ijk: (np.c_[ijk, np.ones(len(ijk))] @ volume.affine_ras.T)[:, 0]
    assert ras(bright).mean() < ras(dark).mean() - 10  # and smaller RAS x (RAS +x is the right)
