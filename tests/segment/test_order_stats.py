"""Exact medians and percentiles (:mod:`bme_mri.segment.order_stats`): the same numbers as
numpy's, bit for bit, whatever the values' order, ties, dtype or NaN."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.segment import order_stats
from bme_mri.segment.order_stats import exact_median, exact_percentile


def _values(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "skewed":
        return rng.gamma(2.0, 100.0, n).astype(np.float32)
    if kind == "ties":
        return rng.integers(0, 40, n).astype(np.float32)
    if kind == "sorted":  # a bracket from a strided sample of sorted storage
        return np.sort(rng.normal(0.0, 1.0, n)).astype(np.float32)
    if kind == "float64":
        return rng.normal(0.0, 1.0, n)
    return np.concatenate([np.zeros(n // 2, np.float32), rng.random(n - n // 2).astype(np.float32)])


@pytest.mark.parametrize("kind", ["skewed", "ties", "sorted", "float64", "half_zero"])
@pytest.mark.parametrize("seed", range(4))
def test_median_and_percentiles_equal_numpys_bit_for_bit(kind, seed):
    rng = np.random.default_rng(seed)
    values = _values(kind, int(rng.integers(70_000, 250_000)), rng)
    original = values.copy()
    median = exact_median(values)
    assert median == np.median(original) and type(median) is type(np.median(original))
    for q in (0.0, 0.5, 50.0, 90.0, 99.5, 100.0, float(rng.uniform(0, 100))):
        got = exact_percentile(values, q)
        assert got == np.percentile(original, q), q
        assert type(got) is type(np.percentile(original, q))
    np.testing.assert_array_equal(values, original)  # the input is left as it was


def test_the_sample_only_brackets_the_answer():
    """The strided sample decides the speed, not the value: the same values in another order
    give the same median, and the fast path (not numpy's fallback) answered."""
    rng = np.random.default_rng(7)
    values = rng.gamma(2.0, 50.0, 200_001).astype(np.float32)
    shuffled = rng.permutation(values)
    assert order_stats._order_statistics(values, [100_000]) is not None
    assert exact_median(values) == exact_median(shuffled) == np.median(values)


def test_a_bracket_that_misses_falls_back_to_numpy():
    """A sample unlike the rest (every 64th value far above the others) brackets the wrong
    values: numpy answers, with the same numbers."""
    values = np.random.default_rng(3).random(100_000).astype(np.float32)
    values[::64] = 1e6
    assert order_stats._order_statistics(values, [50_000]) is None
    assert exact_median(values) == np.median(values)
    assert exact_percentile(values, 90.0) == np.percentile(values, 90.0)


def test_nan_gives_nan_as_numpy_does():
    values = np.r_[np.random.default_rng(4).random(100_000), np.nan]
    assert np.isnan(exact_median(values)) and np.isnan(exact_percentile(values, 90.0))


def test_integers_and_numpy_scalar_percentiles_are_numpys_own():
    """numpy's median of integers is a float64 and a numpy-scalar q interpolates in float64:
    those go to numpy itself, so type and value are numpy's."""
    rng = np.random.default_rng(5)
    ints = rng.integers(-3000, 3000, 100_001).astype(np.int16)
    assert exact_median(ints) == np.median(ints) and type(exact_median(ints)) is type(np.median(ints))
    values = rng.gamma(2.0, 10.0, 100_000).astype(np.float32)
    q = np.float64(99.5)
    assert exact_percentile(values, q) == np.percentile(values, q)
    assert type(exact_percentile(values, q)) is type(np.percentile(values, q))
