"""The dark-shell search along rays (:func:`bme_mri.segment.localize.shell_boundaries_rays`) and
the neck's choice of each ray's strongest shell (``_strongest_shells``): profiles built here."""

from __future__ import annotations

import numpy as np

from bme_mri.segment.localize import _strongest_shells, shell_boundaries_rays

STEP = 0.25  # mm per sample


def _ray(shells_mm: list[tuple[float, float]], length_mm: float = 40.0) -> np.ndarray:
    """A bright profile (1.0) with dark shells: (centre mm, depth) each 1.5 mm wide, smoothed."""
    t = np.arange(0.0, length_mm, STEP)
    profile = np.ones_like(t)
    for centre, depth in shells_mm:
        profile -= depth * np.exp(-0.5 * ((t - centre) / 0.6) ** 2)
    return profile


def test_each_ray_lists_its_shells_innermost_first_at_the_outer_surface():
    profiles = np.stack([_ray([(10.0, 0.6), (20.0, 0.6)]), _ray([(15.0, 0.6)]), _ray([])])
    found = shell_boundaries_rays(profiles, STEP, 5.0, 30.0, 0.2, 3.0, with_minima=True)
    assert [len(f) for f in found] == [2, 1, 0]
    (s1, m1), (s2, m2) = found[0]
    assert m1 == 10.0 and m2 == 20.0  # the minima
    assert 10.0 < s1 < 11.5 and 20.0 < s2 < 21.5  # the steepest rise just outside each
    assert found[1][0][1] == 15.0


def test_a_shallow_dip_or_one_without_an_outer_rise_is_no_shell():
    shallow = _ray([(12.0, 0.1)])
    t = np.arange(0.0, 40.0, STEP)
    step_down = np.where(t < 12.0, 1.0, 0.3)  # dark from 12 mm on: no rise outwards
    found = shell_boundaries_rays(np.stack([shallow, step_down]), STEP, 5.0, 30.0, 0.2, 3.0)
    assert found == [[], []]
    inner_only = shell_boundaries_rays(np.stack([step_down]), STEP, 5.0, 30.0, 0.2, 3.0,
                                       need_outer=False)
    assert inner_only == [[]]  # a step has no local minimum either


def test_the_neck_takes_each_rays_strongest_shell_first_on_ties():
    """Ray 0: a faint trabecula inside a deep cortex -> the cortex; ray 1: two equal shells ->
    the inner one; ray 2: no shell -> left out; rays are reported in ascending order."""
    profiles = np.stack([_ray([(8.0, 0.3), (16.0, 0.7)]), _ray([(9.0, 0.5), (18.0, 0.5)]), _ray([])])
    rays = np.array([0, 1, 2])
    shells = shell_boundaries_rays(profiles, STEP, 4.0, 30.0, 0.1, 3.0, with_minima=True)
    chosen = _strongest_shells(profiles, rays, shells, STEP)
    assert [r for r, _ in chosen] == [0, 1]
    assert 16.0 < chosen[0][1] < 17.5
    assert 9.0 < chosen[1][1] < 10.5
    only_second = _strongest_shells(profiles[[1]], np.array([0]), shells[1:2], STEP)
    assert only_second == [(0, chosen[1][1])]
