"""Inference of the learned femoral-head finder: volume -> head locations (LPS mm).

The volume is resampled onto the LPS-aligned 3 mm working grid that covers it, normalised as
in training (:func:`bme_mri.learn.synth.normalise`), zero-padded to a multiple of the
network's stride product, and segmented. Each connected component of p(head) >= threshold of
at least ``min_component_ml`` is a candidate: centre = probability-weighted centroid (LPS mm),
radius = radius of the sphere of the component's volume, confidence = mean p(head) inside it.
Side from the patient frame: two candidates the bilateral distance apart in x are a pair
(left = larger LPS x); otherwise a candidate cut by the field on one x side has that side
lateral (:func:`~bme_mri.segment.localize.side_from_cut_edge`), else its side is where it
lies against the body midline (the body's centre when the field is wide enough for both
hips, else beyond the x edge the body runs off). At most ``max_heads_per_side`` per side (the most confident).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from bme_mri.learn.net import divisor, load_weights, require_torch, resolve_device
from bme_mri.learn.synth import normalise
from bme_mri.segment.heads import HeadLocation
from bme_mri.segment.localize import side_from_cut_edge
from bme_mri.segment.resample import resample_onto, working_geometry
from bme_mri.segment.settings import LearnedSettings, LocalizeSettings
from bme_mri.types import Geometry, Volume

WORK_SPACING_MM = 3.0


def to_working_grid(volume: Volume, spacing_mm: float = WORK_SPACING_MM) -> tuple[Geometry, np.ndarray]:
    """(working geometry, normalised image) of ``volume`` on the LPS-aligned isotropic grid."""
    geom = working_geometry(volume.geometry, spacing_mm)
    image = resample_onto(volume, geom)
    covered = resample_onto(Volume(np.ones(volume.geometry.shape, np.float32), volume.geometry), geom) > 0.5
    return geom, normalise(image, covered)


@dataclass
class HeadProbability:
    """p(head) on the working grid (float32 ``[x, y, z]``) and the grid."""

    probability: np.ndarray
    geometry: Geometry
    image: np.ndarray  # the normalised network input (for figures)


def _body(image: np.ndarray) -> np.ndarray:
    """Imaged tissue on the normalised working image (not air, not outside the field)."""
    return (image != 0) & (ndimage.gaussian_filter(image, 1.0) > 0.15)


def _midline_x(image: np.ndarray, geom: Geometry, loc: LocalizeSettings) -> tuple[float, str]:
    """LPS x of the body midline and how it was judged (mirrors the classical rule)."""
    body = _body(image)
    x0, spacing = geom.origin_lps_mm[0], geom.spacing_mm[0]
    columns = body.sum(axis=(1, 2)).astype(float)
    if columns.sum() == 0:
        return x0 + spacing * 0.5 * (body.shape[0] - 1), "centre of the field of view (no body found)"
    centre = x0 + spacing * float((np.arange(body.shape[0]) * columns).sum() / columns.sum())
    if spacing * body.shape[0] >= loc.both_hips_fov_mm:
        return centre, "centre of the imaged body (field wide enough for both hips)"
    low, high = float(body[:2].mean()), float(body[-2:].mean())
    if low > high + loc.edge_body_difference:
        return x0 - 1e3, "body running off the -x (right) edge of the field"
    if high > low + loc.edge_body_difference:
        return x0 + spacing * body.shape[0] + 1e3, "body running off the +x (left) edge of the field"
    return centre, "centre of the imaged body"


_FINDERS: dict[tuple, "LearnedHeadFinder"] = {}


def cached_finder(settings: LearnedSettings, localize: LocalizeSettings) -> "LearnedHeadFinder":
    """The finder of ``settings`` loaded once per process (a batch worker segments many
    studies with one model in memory); keyed by the model folder, device and settings."""
    key = (str(settings.model_dir), settings.device, settings.model_dump_json(), localize.model_dump_json())
    finder = _FINDERS.get(key)
    if finder is None:
        finder = _FINDERS[key] = LearnedHeadFinder(settings, localize)
    return finder


class LearnedHeadFinder:
    """Loads the network once; :meth:`find` runs it on any volume."""

    def __init__(self, settings: LearnedSettings, localize: LocalizeSettings,
                 model_dir: str | None = None, device: str | None = None) -> None:
        torch = require_torch()
        self.settings, self.localize = settings, localize
        self.device = resolve_device(device or settings.device)
        if self.device == "cpu":
            torch.set_num_threads(settings.cpu_threads)
        self.model_dir = model_dir or settings.model_dir
        self.net, self.arch = load_weights(self.model_dir, self.device)

    def probability(self, volume: Volume) -> HeadProbability:
        torch = require_torch()
        geom, image = to_working_grid(volume, float(self.arch.get("spacing_mm", WORK_SPACING_MM)))
        d = divisor(self.arch)
        pad = [(0, (-s) % d) for s in image.shape]
        x = torch.from_numpy(np.pad(image, pad)[None, None]).to(self.device)
        with torch.no_grad():
            p = torch.softmax(self.net(x), 1)[0, 1].cpu().numpy()
        p = p[tuple(slice(0, s) for s in image.shape)]
        return HeadProbability(probability=np.ascontiguousarray(p, np.float32), geometry=geom, image=image)

    def find(self, volume: Volume) -> list[HeadLocation]:
        """Femoral heads in ``volume``; an empty list when none is in view."""
        return heads_from_probability(self.probability(volume), self.settings, self.localize)


def heads_from_probability(hp: HeadProbability, settings: LearnedSettings,
                           loc: LocalizeSettings) -> list[HeadLocation]:
    """Connected components of p(head) -> at most ``max_heads_per_side`` heads per side."""
    p, geom = hp.probability, hp.geometry
    voxel_ml = float(np.prod(geom.spacing_mm)) / 1000.0
    mask = p >= settings.probability_threshold
    components, n = ndimage.label(mask)
    candidates = []
    covered = hp.image != 0
    edge = covered & ~ndimage.binary_erosion(covered, border_value=0)
    for k in range(1, n + 1):
        region = components == k
        volume_ml = float(region.sum()) * voxel_ml
        if volume_ml < settings.min_component_ml:
            continue
        weights = p[region]
        idx = np.argwhere(region)
        centre_idx = (idx * weights[:, None]).sum(0) / weights.sum()
        centre = geom.index_to_lps(centre_idx[None])[0]
        flags = []
        if (region & edge).any():
            flags.append("head region touches the edge of the field of view (may be cut)")
        candidates.append({"centre": centre, "volume_ml": volume_ml, "confidence": float(weights.mean()),
                           "radius": float((3.0 * volume_ml * 1000.0 / (4.0 * np.pi)) ** (1.0 / 3.0)),
                           "flags": flags})
    if not candidates:
        return []
    candidates.sort(key=lambda c: c["confidence"] * c["volume_ml"], reverse=True)
    sided: list[tuple[str, dict]] = []
    pair = None
    for i, a in enumerate(candidates):
        for b in candidates[i + 1:]:
            dx = abs(a["centre"][0] - b["centre"][0])
            if loc.bilateral_min_separation_mm <= dx <= loc.bilateral_max_separation_mm:
                pair = (a, b)
                break
        if pair:
            break
    if pair:
        left, right = sorted(pair, key=lambda c: -c["centre"][0])
        sided = [("left", left), ("right", right)]
        for c in (left, right):
            c["flags"].append("side from the pair of heads (left = larger LPS x)")
    else:
        midline, how = _midline_x(hp.image, geom, loc)
        body = _body(hp.image)
        per_side: dict[str, int] = {}
        for c in candidates:
            sign, why = side_from_cut_edge(c["centre"], c["radius"], body, np.asarray(geom.origin_lps_mm),
                                           float(geom.spacing_mm[0]), loc.cut_edge_reach)
            if sign:
                side = "left" if sign > 0 else "right"
                note = f"side from where the field of view cuts it (its lateral side: {why})"
            else:
                side = "left" if c["centre"][0] > midline else "right"
                offset = c["centre"][0] - midline
                note = f"side from its position ({offset:+.0f} mm in x) against the {how}"
                if abs(offset) < loc.midline_margin_mm:
                    note += "; close to the body midline: side uncertain"
            if per_side.get(side, 0) >= settings.max_heads_per_side:
                continue
            per_side[side] = per_side.get(side, 0) + 1
            c["flags"].append(note)
            sided.append((side, c))
    heads = [HeadLocation(side=side, center_lps_mm=tuple(float(v) for v in c["centre"]),
                          radius_mm=c["radius"], confidence=c["confidence"], method="learned",
                          volume_ml=c["volume_ml"], flags=c["flags"]) for side, c in sided]
    return sorted(heads, key=lambda h: h.side)
