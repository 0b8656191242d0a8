"""bme-mri heads: picking one series of a folder (real exam, skipped without shared/realdata)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bme_mri.config import load_config
from bme_mri.errors import SeriesSelectionError
from bme_mri.pipeline.heads import load_series

REALDATA = Path(os.environ.get("BME_REALDATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"))
DIFFUSION = REALDATA / "pelvis_dicom" / "ProstateX-0001" / "07-08-2011" / "7.000000-ep2ddifftraDYNDISTMIX-61648"


@pytest.mark.skipif(not DIFFUSION.is_dir(), reason=f"real exam not present at {DIFFUSION}")
def test_split_diffusion_series_needs_sequence_and_b_value_picks_one():
    config = load_config()
    with pytest.raises(SeriesSelectionError, match="b50 .*--sequence"):
        load_series(DIFFUSION, config)
    volume = load_series(DIFFUSION, config, sequence="b50")
    assert volume.array.ndim == 3 and volume.array.shape[2] == 19
    with pytest.raises(SeriesSelectionError, match="no series of class or description"):
        load_series(DIFFUSION, config, sequence="stir")


def test_missing_input_is_a_bme_error(tmp_path):
    from bme_mri.errors import BmeError

    with pytest.raises(BmeError, match="does not exist"):
        load_series(tmp_path / "nothing", load_config())
