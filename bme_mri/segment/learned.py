"""The learned hip segmenter: the network finds the femoral heads, the sphere fit measures them.

The network (:mod:`bme_mri.learn`) says where each head is and on which side, on any contrast
and field of view; the classical cortical-shell sphere fit
(:func:`~bme_mri.segment.localize.fit_head_sphere`), seeded at the network's centre, keeps
sub-voxel precision on the 1.5 mm working grid. The two check each other:

* the fit is kept when it is sound and its centre lies within ``learned.max_fit_offset_mm``
  of the network's; the offset is recorded on the head (``network_offset_mm``) and QC flags
  ``head_network_disagrees`` beyond ``qc.head.max_network_offset_mm``;
* when the fit fails or wanders off, the head keeps the network's centre and radius with a
  fit quality of 0, so QC flags ``head_fit_poor`` (blocking): a head the two methods do not
  agree on never yields a confident number.

Everything after localisation (neck, regions, reference marrow, edema, necrosis) is the
classical segmenter's, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bme_mri.segment.classical import ClassicalSegmenter
from bme_mri.segment.fatty_marrow import fat_bright_field
from bme_mri.segment.head_fit import fit_candidate, sound_fit
from bme_mri.segment.heads import HeadLocation
from bme_mri.segment.localize import SphereFit, fibonacci_directions
from bme_mri.segment.marrow import smooth_image
from bme_mri.segment.settings import SegmentSettings
from bme_mri.types import Geometry, Side, Volume


@dataclass
class CheckedHead:
    """A network head and the sphere fit seeded from it (working-grid mm, LPS)."""

    side: Side
    network: HeadLocation
    fit: SphereFit  # the sound fit, or a stand-in from the network (quality 0) when none held
    fit_held: bool  # the sphere fit was sound and close to the network's centre
    offset_mm: float | None  # |fit centre - network centre| (mm); None when no fit converged


def check_with_sphere_fit(network_heads: list[HeadLocation], work_geom: Geometry, work: np.ndarray,
                          body: np.ndarray, settings: SegmentSettings,
                          covered: np.ndarray | None = None) -> list[CheckedHead]:
    """Seed the cortical-shell sphere fit at each network head and compare the two.

    ``work`` is the body-normalised image on ``work_geom`` (the classical segmenter's working
    image, :meth:`ClassicalSegmenter._working_image`); ``body`` its body mask. ``covered``
    (the working-grid voxels inside the field of view) is given for a fat-bright series: the
    step-edge fit (:func:`~bme_mri.segment.fatty_marrow.fit_head_step`) applies, or the shell
    fit where the step fit finds no sound sphere (:func:`~bme_mri.segment.head_fit.fit_candidate`).
    """
    loc = settings.localize
    spacing = loc.work_spacing_mm
    smooth = smooth_image(work, (spacing,) * 3, 1.0)
    origin = np.asarray(work_geom.origin_lps_mm, dtype=np.float64)
    scale = float(np.median(work[body])) if body.any() else 1.0
    limit = settings.learned.max_fit_offset_mm
    out = []
    for head in network_heads:
        start = np.asarray(head.center_lps_mm, dtype=np.float64)
        fit = fit_candidate(smooth, spacing, origin, start, scale, loc, covered)
        offset = None if fit is None else float(np.linalg.norm(fit.center_mm - start))
        held = sound_fit(fit, loc) and offset <= limit
        if not held:
            directions = fibonacci_directions(loc.n_directions)
            fit = SphereFit(center_mm=start, radius_mm=float(np.clip(head.radius_mm, loc.radius_min_mm,
                                                                     loc.radius_max_mm)),
                            quality=0.0, residual_mm=float("inf"), shell_contrast=0.0,
                            directions=directions, on_sphere=np.zeros(len(directions), bool))
        fit.vote = float(head.confidence)
        out.append(CheckedHead(side=Side(head.side), network=head, fit=fit, fit_held=held,
                               offset_mm=offset))
    return out


def refined_locations(checked: list[CheckedHead], keep_unconfirmed: bool = False) -> list[HeadLocation]:
    """``bme-mri heads --method learned``: heads the sphere fit confirmed, with the fitted
    centre and radius. A network head the fit does not confirm is left out (two methods that
    do not agree on a head are not a head to report), unless ``keep_unconfirmed``: then it
    comes with the network's coarse estimate and a flag saying so."""
    heads = []
    for c in checked:
        flags = list(c.network.flags)
        if c.fit_held:
            centre, radius = c.fit.center_mm, c.fit.radius_mm
            flags.append(f"centre and radius from the cortical-shell sphere fit seeded by the network "
                         f"({c.offset_mm:.1f} mm from the network's centre)")
        elif keep_unconfirmed:
            centre, radius = np.asarray(c.network.center_lps_mm), c.network.radius_mm
            why = ("no sphere fit converged" if c.offset_mm is None
                   else f"the sphere fit landed {c.offset_mm:.1f} mm away or was unsound")
            flags.append(f"sphere fit does not confirm this head ({why}): centre and radius are the "
                         "network's coarse estimate")
        else:
            continue
        heads.append(HeadLocation(side=c.side.value, center_lps_mm=tuple(float(v) for v in centre),
                                  radius_mm=float(radius), confidence=c.network.confidence,
                                  method="learned", volume_ml=float(4.0 / 3.0 * np.pi * radius ** 3 / 1000.0),
                                  flags=flags,
                                  fit_quality=float(c.fit.quality) if c.fit_held else None,
                                  fit_residual_mm=float(c.fit.residual_mm) if c.fit_held else None))
    return heads


class LearnedSegmenter(ClassicalSegmenter):
    """The classical segmenter with the network locating the heads (see the module).

    ``finder``: a loaded :class:`~bme_mri.learn.infer.LearnedHeadFinder`; by default the one
    of ``settings.learned`` from :func:`bme_mri.learn.infer.cached_finder` (one per process).
    """

    def __init__(self, settings: SegmentSettings, finder=None) -> None:
        super().__init__(settings)
        if finder is None:
            from bme_mri.learn.infer import cached_finder

            finder = cached_finder(settings.learned, settings.localize)
        self.finder = finder

    def _locate(self, image: Volume, work_geom, work, vote_image, body,
                warnings: list[str]) -> dict[Side, SphereFit]:
        covered = fat_bright_field(image, work_geom, self.settings.localize)
        checked = check_with_sphere_fit(self.finder.find(image), work_geom, work, body, self.settings,
                                        covered)
        sides: dict[Side, SphereFit] = {}
        for c in checked:
            c.fit.network_offset_mm = c.offset_mm
            if not c.fit_held:
                warnings.append(f"{c.side.value} femoral head: the sphere fit does not confirm the "
                                "network's head (" + ("no fit converged" if c.offset_mm is None else
                                                      f"fit {c.offset_mm:.1f} mm away or unsound")
                                + "); the network's coarse centre and radius are used")
            sides[c.side] = c.fit
        return sides


def find_heads_learned(volume: Volume, settings: SegmentSettings, finder,
                       keep_unconfirmed: bool = False) -> list[HeadLocation]:
    """Heads of any volume by the network, checked and refined by the sphere fit
    (:func:`refined_locations`)."""
    segmenter = ClassicalSegmenter(settings)
    warnings: list[str] = []
    work_geom, work, _vote, body = segmenter._working_image(volume, None, warnings)
    network = finder.find(volume)
    if not network or not body.any():
        return network
    covered = fat_bright_field(volume, work_geom, settings.localize)
    return refined_locations(check_with_sphere_fit(network, work_geom, work, body, settings, covered),
                             keep_unconfirmed)
