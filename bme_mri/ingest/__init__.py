"""Ingest stage: discover DICOM/NIfTI input, classify and select series, assemble volumes.

Public face::

    discovery = discover(root, settings)                 # headers only
    selection = select_series(discovery.studies[0], settings)
    volume = load_volume(selection.analysis, settings)   # float32, LPS geometry
    inspect_input(root, settings) / render_inspect(result)
    convert_input(root, out_dir, settings)
"""

from bme_mri.ingest.assemble import load_volume
from bme_mri.ingest.classify import classify_stack
from bme_mri.ingest.convert import convert_input
from bme_mri.ingest.discover import discover, is_nifti_path
from bme_mri.ingest.inspect import inspect_input, render_inspect
from bme_mri.ingest.models import (
    ConvertedSeries,
    Discovery,
    InspectResult,
    Selection,
    SkippedFile,
    StackInfo,
    StudyInfo,
)
from bme_mri.ingest.select import select_series
from bme_mri.ingest.settings import IngestSettings

__all__ = [
    "ConvertedSeries",
    "Discovery",
    "IngestSettings",
    "InspectResult",
    "Selection",
    "SkippedFile",
    "StackInfo",
    "StudyInfo",
    "classify_stack",
    "convert_input",
    "discover",
    "is_nifti_path",
    "inspect_input",
    "load_volume",
    "render_inspect",
    "select_series",
]
