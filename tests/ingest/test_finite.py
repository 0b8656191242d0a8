"""Non-finite voxels are named (count, slices) and refused where measured."""

import numpy as np
import pytest

from bme_mri.errors import BmeError, ImageValueError
from bme_mri.ingest.finite import non_finite_message, require_finite


def test_a_finite_image_passes():
    require_finite(np.zeros((4, 4, 3), np.float32), "image")
    assert non_finite_message(np.ones((2, 2, 2)), "image") is None


def test_the_message_counts_the_voxels_and_names_the_slices():
    array = np.zeros((4, 4, 6), np.float32)
    array[0, 0, 2] = np.nan
    array[1:3, 1, 4] = -np.inf
    message = non_finite_message(array, "series T2")
    assert message.startswith("series T2 holds 3 voxels") and "2 slices (k = 2..4)" in message


def test_only_the_measured_region_counts():
    array = np.zeros((4, 4, 3), np.float32)
    array[0, 0, 0] = np.nan
    inside = np.zeros(array.shape, bool)
    inside[2:, 2:, :] = True
    require_finite(array, "image", inside)
    with pytest.raises(ImageValueError) as err:
        require_finite(array, "image", ~inside, where=" inside the mask")
    assert isinstance(err.value, BmeError) and "inside the mask in slice 0" in str(err.value)
