"""Sample a scene onto a series' voxel grid with partial volume, and label the truth.

Partial volume: every voxel is first sampled at its centre. A voxel whose tissue or label
differs from one of its 6 face neighbours (a border voxel) is re-sampled as the mean of
``2 x 2 x 2`` sub-samples at +/- 1/4 voxel along i, j and k (k = slice spacing = slice
thickness here); elsewhere the voxel is uniform and its centre value stands for the mean
(the edema field is smooth, so its centre value is its mean to first order).
The truth label of a border voxel is the majority label of the same 8 sub-samples (ties go
to the lower label value, e.g. 4 head / 4 background -> background); of any other voxel, its
centre label. Volumes in truth.json are not counted from this map but computed from the model
(see :mod:`bme_mri.phantom.truth`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bme_mri.phantom.scene import Sample, Scene, sample_visit
from bme_mri.phantom.tissue import SequenceParams, Tissue, intensity_table
from bme_mri.types import Geometry

_OFFSETS = np.array([[di, dj, dk] for di in (-0.25, 0.25) for dj in (-0.25, 0.25)
                     for dk in (-0.25, 0.25)], dtype=np.float64)
_CHUNK_POINTS = 1_000_000


def _values(table: np.ndarray, sample: Sample) -> np.ndarray:
    value = table[sample.tissue]
    marrow = sample.tissue == Tissue.MARROW
    e = sample.edema[marrow]
    value[marrow] = (1.0 - e) * table[Tissue.MARROW] + e * table[Tissue.EDEMA_WATER]
    return value


def _sample_indices(scene: Scene, geometry: Geometry, ijk: np.ndarray) -> Sample:
    parts = [sample_visit(scene, geometry.index_to_lps(ijk[s:s + _CHUNK_POINTS]))
             for s in range(0, ijk.shape[0], _CHUNK_POINTS)]
    return Sample(tissue=np.concatenate([p.tissue for p in parts]),
                  edema=np.concatenate([p.edema for p in parts]),
                  label=np.concatenate([p.label for p in parts]))


def _border(codes: np.ndarray) -> np.ndarray:
    border = np.zeros(codes.shape, bool)
    for axis in range(3):
        if codes.shape[axis] < 2:
            continue
        diff = np.diff(codes, axis=axis) != 0
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        border[tuple(lo)] |= diff
        border[tuple(hi)] |= diff
    return border


def render_grid(scene: Scene, geometry: Geometry, sequences: Sequence[SequenceParams],
                with_labels: bool = False) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Noise-free, bias-free images (one per sequence, float32 ``[i, j, k]``) on ``geometry``,
    and the truth label map (uint8) when ``with_labels``."""
    tables = [intensity_table(seq) for seq in sequences]
    ijk = np.indices(geometry.shape, dtype=np.float64).reshape(3, -1).T
    centre = _sample_indices(scene, geometry, ijk)
    images = [_values(t, centre).reshape(geometry.shape) for t in tables]
    labels = centre.label.reshape(geometry.shape).copy()
    codes = centre.tissue.reshape(geometry.shape).astype(np.int16) * 4 + labels
    border = np.flatnonzero(_border(codes))
    if border.size:
        sub_ijk = (ijk[border][:, None, :] + _OFFSETS).reshape(-1, 3)
        sub = _sample_indices(scene, geometry, sub_ijk)
        n_sub = len(_OFFSETS)
        for table, image in zip(tables, images):
            image.reshape(-1)[border] = _values(table, sub).reshape(-1, n_sub).mean(axis=1)
        votes = np.stack([(sub.label.reshape(-1, n_sub) == v).sum(axis=1) for v in range(4)], axis=1)
        labels.reshape(-1)[border] = np.argmax(votes, axis=1).astype(np.uint8)
    return [im.astype(np.float32) for im in images], (labels if with_labels else None)
