"""Ingest stage: discover DICOM/NIfTI input, classify and select series, assemble volumes.

Public face::

    discovery = discover(root, settings)                 # headers only
    selection = select_series(discovery.studies[0], settings)
    volume = load_volume(selection.analysis, settings)   # float32, LPS geometry
    inspect_input(root, settings) / render_inspect(result)
    convert_input(root, out_dir, settings)
"""

from __future__ import annotations

from bme_mri.lazy import lazy_exports

# exports imported on first use (bme_mri.lazy): the config imports bme_mri.ingest.settings,
# which must not pull in pydicom, SimpleITK and scipy
_HOMES = {
    "load_volume": "assemble", "classify_stack": "classify", "convert_input": "convert",
    "discover": "discovery", "is_nifti_path": "discovery", "inspect_input": "inspect",
    "render_inspect": "inspect", "select_series": "select", "IngestSettings": "settings",
    **{name: "models" for name in ("ConvertedSeries", "Discovery", "InspectResult", "Selection",
                                   "SkippedFile", "StackInfo", "StudyInfo")},
}
__all__ = sorted(_HOMES)
__getattr__ = lazy_exports(__name__, _HOMES)
