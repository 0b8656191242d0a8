"""Precision of the classical head measurement on thick slices: the refit on the image's own
grid, the neck cross-sections and the plausible-radius rule, on spheres built here (no phantom)."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.segment.classical import ClassicalSegmenter
from bme_mri.segment.localize import (
    SphereFit, fibonacci_directions, neck_from_sections, prior_neck_axis, ray_voxel_extent_mm,
    refine_on_native,
)
from bme_mri.types import Geometry, Volume

CENTRE = np.array([0.0, 0.0, 0.0])


def _hip_volume(radius: float, marrow: float, spacing=(1.8, 1.8, 4.0), neck_radius: float | None = None,
                neck_axis=None, size_mm: float = 84.0) -> Volume:
    """A femoral head on a coronal grid (slices along LPS y, 4 mm thick), voxels box-averaged
    from 3 x 3 x 3 sub-samples: marrow (``marrow``) inside a 2 mm cortex (50), 3 mm cartilage
    (300), acetabular bone (150) beyond, and optionally a neck cylinder of ``neck_radius`` with
    the same cortex along ``neck_axis`` (unit LPS), surrounded by fluid-bright tissue (400)."""
    direction = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # i->x, j->-z, k->y
    shape = tuple(int(size_mm / s) for s in spacing)
    origin = -direction @ (np.array(shape) * np.asarray(spacing) / 2.0)
    geometry = Geometry(shape, tuple(spacing), tuple(origin), direction)
    offsets = np.array([(a, b, c) for a in (-1 / 3, 0, 1 / 3) for b in (-1 / 3, 0, 1 / 3)
                        for c in (-1 / 3, 0, 1 / 3)])
    idx = np.indices(shape).reshape(3, -1).T.astype(float)
    total = np.zeros(len(idx))
    for off in offsets:
        p = geometry.index_to_lps(idx + off) - CENTRE
        r = np.linalg.norm(p, axis=1)
        value = np.full(len(p), 150.0)
        value[r <= radius + 3.0] = 300.0
        bone_outer = r <= radius
        bone_inner = r <= radius - 2.0
        if neck_radius is not None:
            a = np.asarray(neck_axis, float)
            along = p @ a
            off_axis = np.linalg.norm(p - along[:, None] * a, axis=1)
            in_neck = (along > 0) & (along < 2.5 * radius)
            value[in_neck & (off_axis > neck_radius) & (r > radius)] = 400.0
            bone_outer |= in_neck & (off_axis <= neck_radius)
            bone_inner |= in_neck & (off_axis <= neck_radius - 2.0)
        value[bone_outer] = 50.0
        value[bone_inner] = marrow
        total += value
    return Volume((total / len(offsets)).reshape(shape).astype(np.float32), geometry)


def _fit(centre, radius: float) -> SphereFit:
    directions = fibonacci_directions(400)
    return SphereFit(np.asarray(centre, float), radius, 0.8, 0.5, 0.3, directions,
                     np.ones(len(directions), bool))


def test_rays_along_the_slice_normal_see_the_slice_thickness():
    geometry = _hip_volume(22.0, 400.0, size_mm=20.0).geometry
    extent = ray_voxel_extent_mm(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), geometry)
    assert extent == pytest.approx([4.0, 1.8, 1.8])


@pytest.mark.parametrize("marrow", [400.0, 120.0])  # edema-bright and fat-dark (STIR) marrow
def test_refit_on_thick_slices_recovers_radius_and_centre(marrow):
    settings = load_config().segment.localize
    volume = _hip_volume(22.0, marrow)
    start = _fit(CENTRE + np.array([0.8, -0.9, 0.6]), 21.0)  # a working-grid fit: 1.3 mm off, 1 mm small
    refined, why = refine_on_native(volume.array, volume.geometry, start, settings)
    assert why is None and refined.native
    assert abs(refined.radius_mm - 22.0) <= 0.3, refined.radius_mm
    assert np.linalg.norm(refined.center_mm - CENTRE) <= 0.4, refined.center_mm


def test_refit_that_would_move_the_sphere_far_is_not_taken():
    settings = load_config().segment.localize.model_copy(update={"native_max_change_mm": 0.2})
    volume = _hip_volume(22.0, 400.0)
    start = _fit(CENTRE + np.array([1.5, 0.0, 0.0]), 21.0)
    refined, why = refine_on_native(volume.array, volume.geometry, start, settings)
    assert refined is start and "working grid" in why


@pytest.mark.parametrize("rule", ["taper_at_centre", "surface_meets_sphere"])
def test_neck_sections_give_the_junction_where_the_neck_meets_the_sphere(rule):
    config = load_config().segment
    config = config.model_copy(update={"neck": config.neck.model_copy(update={"junction_rule": rule})})
    radius, neck_radius = 22.0, 15.0
    prior = prior_neck_axis(1.0, config.neck)
    true_axis = prior + np.array([0.0, 0.0, -0.12])  # ~7 deg from the textbook direction
    true_axis /= np.linalg.norm(true_axis)
    volume = _hip_volume(radius, 400.0, neck_radius=neck_radius, neck_axis=true_axis, size_mm=120.0)
    sections = neck_from_sections(volume.array, volume.geometry, CENTRE, radius, prior, prior,
                                  config.neck, config.localize)
    assert sections is not None
    assert abs(sections.neck_radius_mm - neck_radius) <= 0.6, sections.neck_radius_mm
    assert abs(sections.junction_mm - np.sqrt(radius ** 2 - neck_radius ** 2)) <= 0.8
    assert np.degrees(np.arccos(np.clip(sections.axis @ true_axis, -1, 1))) <= 3.0


def test_a_sphere_of_16_mm_radius_is_not_accepted_as_a_femoral_head():
    settings = load_config().segment
    small = _hip_volume(16.0, 400.0)
    normal = _hip_volume(23.0, 400.0)
    segmenter = ClassicalSegmenter(settings)
    assert segmenter._plausible(small, [_fit(CENTRE, 16.5)]) == []
    kept = segmenter._plausible(normal, [_fit(CENTRE, 22.0)])
    assert len(kept) == 1 and abs(kept[0].radius_mm - 23.0) <= 0.3
