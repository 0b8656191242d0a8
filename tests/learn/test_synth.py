"""Synthetic training data: reproducible from a seed, contrast randomised, target = the head."""

from __future__ import annotations

import numpy as np

from bme_mri.learn.synth import SynthRecipe, normalise, synth_sample


def test_sample_is_a_pure_function_of_seed_index_and_draw():
    recipe = SynthRecipe(shape=(24, 24, 24))
    a_image, a_target = synth_sample(5, 2, 0, recipe)
    b_image, b_target = synth_sample(5, 2, 0, recipe)
    c_image, _ = synth_sample(5, 2, 1, recipe)
    assert np.array_equal(a_image, b_image) and np.array_equal(a_target, b_target)
    assert not np.allclose(a_image, c_image)
    assert a_image.dtype == np.float32 and a_target.dtype == np.uint8
    assert set(np.unique(a_target)) <= {0, 1}


def test_head_contrast_is_not_fixed_across_draws():
    """No contrast is learned: the head is brighter than its surroundings in some draws and
    darker in others (the same anatomy: full field of view so the target stays the same)."""
    recipe = SynthRecipe(shape=(32, 32, 32), fov_offset_mm=(90.0, 0.0, 0.0), p_full_fov=1.0)
    brighter = []
    for draw in range(10):
        image, target = synth_sample(3, 0, draw, recipe)
        head = target > 0
        assert head.sum() > 100
        brighter.append(float(image[head].mean()) > float(np.median(image[~head])))
    assert any(brighter) and not all(brighter)


def test_target_volume_is_that_of_femoral_heads():
    """A 240 mm field centred between the hips holds both heads: two heads' volume (40-70 ml
    each in adults, scaled by 0.85-1.2 and +/-8% per axis here)."""
    recipe = SynthRecipe(shape=(80, 80, 80), fov_offset_mm=(1.0, 1.0, 1.0), p_full_fov=1.0)
    for i in range(2):
        ml = float(synth_sample(8, i, 0, recipe)[1].sum()) * 27 / 1000
        assert 2 * 40 * (0.85 * 0.92) ** 3 < ml < 2 * 70 * (1.2 * 1.08) ** 3


def test_normalise_maps_percentiles_and_zeros_outside_coverage():
    rng = np.random.default_rng(0)
    image = rng.uniform(100, 200, (10, 10, 10)).astype(np.float32)
    covered = np.zeros(image.shape, bool)
    covered[2:8] = True
    out = normalise(image, covered)
    assert np.all(out[~covered] == 0)
    inside = out[covered]
    assert abs(np.percentile(inside, 1)) < 0.02 and abs(np.percentile(inside, 99) - 1) < 0.02
