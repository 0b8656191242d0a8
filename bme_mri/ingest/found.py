"""Refuse an input that holds nothing to read: no DICOM image and no NIfTI file at all.

Used by ``inspect``, ``convert`` and ``run`` on the :class:`~bme_mri.ingest.models.Discovery`
of their input, so a folder of junk is a one-line user error (exit 2) instead of an empty
result that looks like success.
"""

from __future__ import annotations

from pathlib import Path

from bme_mri.errors import InputError
from bme_mri.ingest.models import Discovery

# skip reasons of files that are DICOM but carry no image (the readers' words, ingest/headers.py)
_DICOM_WITHOUT_IMAGE = ("DICOM without an image", "DICOMDIR index", "corrupt DICOM header")


def require_images(discovery: Discovery) -> Discovery:
    """Return ``discovery`` when it found at least one study; raise otherwise.

    "Nothing found" means discovery made no study: every file was skipped (not DICOM, junk,
    unreadable). A folder whose DICOM series fail to assemble still has studies (each stack
    carries its error), so it passes here and its errors are reported per series.

    Raises
    ------
    InputError
        ``input PATH does not exist``; ``no DICOM or NIfTI files found under PATH`` when no
        file was DICOM or NIfTI; or, when some files were DICOM but none held a usable image
        (only DICOMDIR, structured reports, corrupt headers), a line saying how many and the
        first reason.
    """
    root = discovery.root
    if not Path(root).exists():
        raise InputError(f"input {root} does not exist")
    if discovery.studies:
        return discovery
    dicom_like = [s for s in discovery.skipped if s.reason.startswith(_DICOM_WITHOUT_IMAGE)]
    if dicom_like:
        raise InputError(f"no usable DICOM or NIfTI image found under {root}: {len(dicom_like)} DICOM "
                         f"file(s) skipped ({dicom_like[0].path.name}: {dicom_like[0].reason})")
    raise InputError(f"no DICOM or NIfTI files found under {root}")


def nifti_or_discovery(path: Path, settings, what: str = "input"):
    """The volume of a NIfTI file, or the :class:`Discovery` of a DICOM file/folder.

    ``settings``: the ``ingest`` section; ``what`` names the argument in the error message.

    Raises
    ------
    InputError
        ``WHAT PATH does not exist``.
    """
    from bme_mri.ingest import discover, is_nifti_path

    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    if path.is_file() and is_nifti_path(path, settings):
        from bme_mri.nifti import read_nifti

        return read_nifti(path)
    return discover(path, settings)
