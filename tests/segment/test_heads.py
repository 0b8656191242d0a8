"""find_heads_classical: the classical sphere search on any volume, as head locations."""

from __future__ import annotations

import numpy as np

from bme_mri.config import load_config
from bme_mri.segment.heads import find_heads_classical


def test_classical_heads_match_the_phantom_truth_centres(smoke_segmented):
    config = load_config()
    checked = 0
    for study in smoke_segmented[:3]:
        heads = {h.side: h for h in find_heads_classical(study.image, config.segment)}
        for side, truth in study.truth["sides"].items():
            if side not in heads:
                continue
            checked += 1
            error = np.linalg.norm(np.asarray(heads[side].center_lps_mm) - truth["head_center_lps_mm"])
            assert error < 3.0, (study.name, side, error)
            assert heads[side].method == "classical" and 0 < heads[side].confidence <= 1
    assert checked >= 3


def test_classical_heads_on_a_volume_without_anatomy_is_an_empty_list():
    from bme_mri.types import Geometry, Volume

    rng = np.random.default_rng(0)
    volume = Volume(rng.normal(100, 5, (40, 40, 20)).astype(np.float32),
                    Geometry((40, 40, 20), (2.0, 2.0, 4.0), (0.0, 0.0, 0.0), np.eye(3)))
    assert find_heads_classical(volume, load_config().segment) == []
