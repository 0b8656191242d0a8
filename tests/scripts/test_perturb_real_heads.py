"""scripts/perturb_real_heads.py: perturbations keep the anatomy where it is in LPS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.types import Geometry, Volume


@pytest.fixture()
def volume():
    direction = np.array([[0.8, 0.0, 0.6], [0.0, 1.0, 0.0], [-0.6, 0.0, 0.8]])  # oblique
    geometry = Geometry((9, 7, 5), (0.7, 0.9, 3.0), (-6.0, 5.0, 12.0), direction)  # x = 0 at i ~ 4.3
    array = np.random.default_rng(0).uniform(1, 100, geometry.shape).astype(np.float32)
    return Volume(array, geometry, {})


def _value_at(volume: Volume, lps: np.ndarray) -> float:
    index = np.rint(volume.geometry.lps_to_index(lps[None])[0]).astype(int)
    return float(volume.array[tuple(index)])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_storage_flip_leaves_every_value_at_its_lps_position(perturb, volume, axis):
    flipped = perturb.flipped(volume, axis)
    assert not np.array_equal(flipped.array, volume.array)
    for index in [(0, 0, 0), (8, 6, 4), (3, 2, 1)]:
        lps = volume.geometry.index_to_lps(np.array([index], float))[0]
        assert _value_at(flipped, lps) == volume.array[index]


def test_pairs_averaged_and_one_half_keep_world_positions(perturb, volume):
    thick = perturb.averaged(volume, (1, 1, 2))
    assert thick.geometry.spacing_mm[2] == pytest.approx(6.0)
    # the first thick slice is centred between the first two thin ones
    expected = volume.geometry.index_to_lps(np.array([[0.0, 0.0, 0.5]]))[0]
    assert np.allclose(thick.geometry.index_to_lps(np.array([[0.0, 0.0, 0.0]]))[0], expected, atol=1e-4)
    assert thick.array[2, 3, 0] == pytest.approx(volume.array[2, 3, :2].mean(), rel=1e-5)
    half = perturb.one_half(volume, positive_x=True)
    assert half.geometry.shape == (4, 7, 5)  # i = 5..8
    corner = half.geometry.index_to_lps(np.array([[0, 3, 2]], float))[0]
    assert np.allclose(corner, volume.geometry.index_to_lps(np.array([[5, 3, 2]], float))[0])
    assert half.array[0, 3, 2] == volume.array[5, 3, 2]


REAL = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "pelvis_dicom"


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real exams not present at {REAL}")
def test_real_heads_do_not_move_when_storage_order_or_units_change(perturb):
    from bme_mri.pipeline.heads import find_heads

    config = load_config()
    exam, name, volume = next(s for s in perturb.series_volumes(REAL, config) if "t2_tse_cor" in s[1])
    base = find_heads(volume, config)
    assert len(base) == 2, name
    for changed in (perturb.flipped(volume, 0), perturb.flipped(volume, 2), perturb.scaled(volume, 10.0)):
        heads = find_heads(changed, config)
        assert [h.side for h in heads] == [h.side for h in base]
        assert all(np.allclose(h.center_lps_mm, b.center_lps_mm, atol=1e-3) for h, b in zip(heads, base))
