"""Non-finite voxels (NaN, +/-inf): found and refused where they would be measured.

Converters and masking tools sometimes write NaN (outside a mask, a lost slice). A NaN in a
percentile, a median or a smoothing kernel does not fail loudly: it turns a measurement into
a confident wrong number. So an image is measured only where it is finite.
"""

from __future__ import annotations

import numpy as np

from bme_mri.errors import ImageValueError


def non_finite_message(array: np.ndarray, what: str, inside: np.ndarray | None = None,
                       where: str = "") -> str | None:
    """A one-line description of the non-finite voxels of ``array`` (within ``inside`` when
    given; ``where`` names that region), or None when there are none."""
    bad = ~np.isfinite(array)
    if inside is not None:
        bad &= inside
    count = int(np.count_nonzero(bad))
    if count == 0:
        return None
    slices = np.flatnonzero(bad.reshape(-1, bad.shape[-1]).any(axis=0)) if bad.ndim == 3 else np.array([])
    span = ""
    if slices.size:
        span = (f" in slice {slices[0]}" if slices.size == 1
                else f" in {slices.size} slices (k = {slices[0]}..{slices[-1]})")
    return (f"{what} holds {count} voxels that are not finite numbers (NaN or infinite){where}{span}; "
            "bme-mri measures only finite images: fix or replace those voxels and rerun")


def require_finite(array: np.ndarray, what: str, inside: np.ndarray | None = None, where: str = "") -> None:
    """Raise :class:`ImageValueError` when ``array`` (within ``inside``) holds NaN or inf."""
    message = non_finite_message(array, what, inside, where)
    if message:
        raise ImageValueError(message)
