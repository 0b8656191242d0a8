"""Exception hierarchy. Every message says what was found, where, and what to do.

All errors derive from :class:`BmeError`; the CLI prints ``str(error)`` on one line and
exits non-zero without a traceback (``--debug`` shows it). Each concern also subclasses a
builtin so callers catching ``ValueError``/``OSError`` keep working.
"""

from __future__ import annotations


class BmeError(Exception):
    """Root of all bme-mri errors; ``str(err)`` is a one-line message for the user."""


class ConfigError(BmeError, ValueError):
    """A configuration file is missing, malformed, or has an unknown/mistyped key."""


class DicomReadError(BmeError, OSError):
    """A file could not be read as DICOM (truncated, not DICOM, unreadable, no decoder)."""


class GeometryError(BmeError, ValueError):
    """Slices do not form one regular 3-D grid (gap, duplicate, mixed orientation, ...)."""


class SeriesSelectionError(BmeError, LookupError):
    """No series in a study is suitable for analysis."""


class NoEdemaSeriesError(SeriesSelectionError):
    """A study has no edema-sensitive series (no STIR, no fat-suppressed T2): nothing to measure.

    Not a failure of the tool: such a study is reported as not analysable, with what it holds.
    """


class SequenceConflictError(BmeError, ValueError):
    """``--sequence`` names an edema-sensitive class (STIR, T2 fat-sat) for a file whose own
    sidecar, tags or name say it is something else (a T1, a T2, a PD...)."""


class SegmentationError(BmeError, RuntimeError):
    """Segmentation could not find the anatomy it needs (e.g. no femoral head)."""


class NoFemoralHeadError(SegmentationError):
    """No femoral head was found in the analysed series; ``missing`` lists the sides whose head
    should lie in its field of view (:class:`bme_mri.segment.missing.MissingHead`)."""

    def __init__(self, message: str, missing: tuple = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)

    def __reduce__(self):
        return type(self), (str(self), self.missing)


class RegistrationError(BmeError, RuntimeError):
    """Follow-up to baseline registration failed its quality check."""


class OutputError(BmeError, OSError):
    """An output could not be written (e.g. the output folder is inside the input)."""


class InputError(BmeError, FileNotFoundError):
    """The input path does not exist, or holds no DICOM or NIfTI image at all."""


class ImageValueError(BmeError, ValueError):
    """An image holds voxel values that cannot be measured (NaN or infinite) where it is measured."""
