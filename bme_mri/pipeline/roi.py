"""``bme-mri quantify``: ROI mode for other joints (knee, ankle, foot, sacroiliac joint).

The user gives a bone mask (and optionally a normal-marrow mask; masks on another grid are
resampled onto the image by nearest neighbour, with a warning); bme-mri
finds edema inside the bone mask relative to the reference marrow and writes the edema mask
plus a JSON of volumes and the threshold used.
"""

from __future__ import annotations

from pathlib import Path

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.errors import BmeError
from bme_mri.io_utils import ensure_outside, write_json_atomic
from bme_mri.nifti import read_nifti, write_nifti
from bme_mri.types import Volume
from bme_mri.pipeline.worker import DISCLAIMER


def load_image(path: Path, config: Config) -> Volume:
    """A NIfTI file, or the one analysable series of a DICOM file/folder."""
    from bme_mri.ingest import load_volume, select_series
    from bme_mri.ingest.found import nifti_or_discovery

    discovery = nifti_or_discovery(path, config.ingest, "IMAGE")
    if isinstance(discovery, Volume):
        return discovery
    if len(discovery.studies) != 1:
        raise BmeError(f"{path} holds {len(discovery.studies)} studies; give IMAGE as one series folder "
                       "or a NIfTI file")
    (study,) = discovery.studies
    usable = [s for s in study.stacks if not s.error]
    stack = usable[0] if len(usable) == 1 else select_series(study, config.ingest).analysis
    return load_volume(stack, config.ingest, require_finite_values=False)  # checked inside the masks


def run_roi(image_path: Path, roi_path: Path, reference_path: Path | None, out_dir: Path, config: Config,
            method: str | None = None) -> Path:
    """Quantify edema inside ``roi_path``; write into ``out_dir``:

    ``edema_mask.nii.gz`` (the lesions), ``reference.nii.gz`` (the reference marrow voxels the
    statistics came from: the given sample, or those found automatically), ``overlay.png``
    (slices through the most edema with bone, reference and edema drawn) and
    ``roi_result.json`` (volumes, levels, reference statistics, warnings).
    ``method``: "hysteresis" or "vhi" (None: ``quantify.roi.method``).
    """
    from bme_mri.quantify import quantify_roi
    from bme_mri.quantify.grid import mask_on_grid
    from bme_mri.report.roi_overlay import render_roi_overlay_png

    inputs = [Path(image_path), Path(roi_path)] + ([Path(reference_path)] if reference_path else [])
    ensure_outside(Path(out_dir), inputs)
    for option, given in (("IMAGE", image_path), ("--roi", roi_path), ("--reference", reference_path)):
        if given is not None and not Path(given).exists():
            raise BmeError(f"{option} {given} does not exist")
    image = load_image(image_path, config)
    bone = read_nifti(roi_path)
    reference = read_nifti(reference_path) if reference_path else None
    result = quantify_roi(image, bone, reference, config, method=method)
    out_dir = Path(out_dir)
    mask_path = write_nifti(result.edema_mask.astype("uint8"), image.geometry, out_dir / "edema_mask.nii.gz")
    reference_out = write_nifti(result.reference.mask.astype("uint8"), image.geometry,
                                out_dir / "reference.nii.gz")
    bone_on_grid = mask_on_grid(image.geometry, bone, "bone mask",
                                config.quantify.roi.grid_tolerance_voxel).array
    overlay = render_roi_overlay_png(
        image.array, image.geometry, bone_on_grid, result.edema_mask, result.reference.mask,
        out_dir / "overlay.png",
        title=(f"edema {result.edema_ml:.1f} ml (range {result.edema_ml_range[0]:.1f}-{result.edema_ml_range[1]:.1f}; "
               f"{result.method}, {result.reference_source} reference)"))
    payload = {"bme_mri_version": __version__, "config_digest": config.digest(), "disclaimer": DISCLAIMER,
               "image": str(image_path), "roi": str(roi_path),
               "reference_input": str(reference_path) if reference_path else None,
               "edema_mask": mask_path.name, "reference_mask": reference_out.name,
               "overlay": overlay.name, **result.to_dict()}
    json_path = out_dir / "roi_result.json"
    write_json_atomic(json_path, payload)
    return json_path
