"""Noise and bias of a phantom cohort: the stress-noisy cohort and the --snr / --bias overrides."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bme_mri.cli import main
from bme_mri.errors import ConfigError
from bme_mri.phantom import COHORTS, cohort_plans
from bme_mri.phantom.cohort import with_acquisition
from bme_mri.phantom.physics import make_bias


def _variation_across_a_head(bias, rng: np.random.Generator) -> float:
    """Largest minus smallest field value over a 48 mm ball placed at random in a hip field."""
    centre = rng.uniform(-150.0, 150.0, 3)
    points = rng.normal(size=(3000, 3))
    points = centre + points / np.linalg.norm(points, axis=1)[:, None] * 24.0 * rng.uniform(0, 1, (3000, 1))
    values = bias(points)
    return float(values.max() - values.min())


def test_stress_noisy_is_the_stress_cohort_with_more_noise_and_a_stronger_field():
    stress, noisy = cohort_plans("stress"), cohort_plans("stress-noisy")
    assert "stress-noisy" in COHORTS
    assert [p.courses for p in noisy] == [p.courses for p in stress]
    for plain, harder in zip(stress, noisy):
        assert harder.snr == pytest.approx(0.8 * plain.snr)  # noise sd x1.25
        assert harder.bias == 0.35 and harder.bias >= plain.bias
        assert max(harder.bias_wavelength_mm) < min(plain.bias_wavelength_mm) + 100.0
        same = dataclasses.replace(harder, snr=plain.snr, bias=plain.bias,
                                   bias_wavelength_mm=plain.bias_wavelength_mm)
        assert same == plain  # anatomy, courses, effusions, bladder as in stress
    assert 8.0 <= min(p.snr for p in noisy) and max(p.snr for p in noisy) <= 12.0


def test_shorter_bias_waves_vary_more_across_one_femoral_head():
    rng = np.random.default_rng(0)
    usual = [_variation_across_a_head(make_bias(rng, 0.35), rng) for _ in range(40)]
    short = [_variation_across_a_head(make_bias(rng, 0.35, (150.0, 300.0)), rng) for _ in range(40)]
    assert np.median(short) > 1.5 * np.median(usual)
    assert max(short) <= 0.7 + 1e-6  # never beyond the field's +/-35%


def test_snr_and_bias_override_every_patient_and_nothing_else():
    plans = cohort_plans("stress")
    changed = with_acquisition(plans, seed=3, snr=(10.0, 15.0), bias=0.3)
    assert all(10.0 <= p.snr <= 15.0 and p.bias == 0.3 for p in changed)
    assert len({p.snr for p in changed}) == len(changed)  # drawn per patient
    assert [dataclasses.replace(p, snr=0.0, bias=0.0) for p in changed] == \
        [dataclasses.replace(p, snr=0.0, bias=0.0) for p in plans]
    assert [p.snr for p in with_acquisition(plans, 3, (10.0, 15.0))] == [p.snr for p in changed]
    assert [p.snr for p in with_acquisition(plans, 4, (10.0, 15.0))] != [p.snr for p in changed]
    assert with_acquisition(plans, 3) == plans


@pytest.mark.parametrize("snr, bias", [((15.0, 10.0), None), ((0.0, 5.0), None), (None, 0.5)])
def test_a_meaningless_snr_range_or_bias_is_refused(snr, bias):
    with pytest.raises(ConfigError):
        with_acquisition(cohort_plans("smoke"), 1, snr, bias)


def test_phantom_command_refuses_a_bad_snr_range_as_a_user_error(tmp_path, capsys):
    code = main(["phantom", str(tmp_path / "p"), "--cohort", "smoke", "--snr", "15", "10"])
    text = capsys.readouterr()
    assert code == 2 and "SNR range 15-10" in text.err
    assert not (tmp_path / "p").exists()
