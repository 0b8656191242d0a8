"""The classical (non-learned) hip segmenter: sphere search, relative thresholds.

Steps: resample the analysed image (and the T1, if any) onto an LPS-aligned isotropic working
grid; optionally N4; vote for sphere centres (STIR + T1); fit a sphere to the dark cortical
shell of each candidate (STIR), refit it on the analysed image's own grid (thick slices are not
blurred twice) and keep it when its radius is an adult femoral head's; keep at most one head
per side (a pair: left = larger LPS x; a lone head: side from the body midline or the edge the
body runs off); neck axis, neck radius and head-neck junction from cross-sections of the neck
(the opening in the cortex near the textbook neck direction seeds them and stands in when
they do not hold); then, on the analysed image's own grid, the head / marrow / neck regions, the patient's normal-marrow reference per side,
edema (:mod:`bme_mri.segment.marrow`) and necrosis (:mod:`bme_mri.segment.necrosis`).
Nothing here knows phantom intensities or shapes: every level is relative to the image.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from scipy import ndimage

from bme_mri.errors import NoFemoralHeadError, SegmentationError
from bme_mri.segment.base import HeadFinding, ReferenceMarrow, Segmentation
from bme_mri.segment.fatty_marrow import fat_bright_field
from bme_mri.segment.head_fit import fit_candidate, sound_fit
from bme_mri.segment.localize import (
    SphereFit, accumulator_peaks, coarse_to_work_index, coarsen, mirror_pair,
    neck_from_gap, neck_from_sections, prior_neck_axis, refine_on_native, side_from_cut_edge,
    side_from_neck, vote_centres,
)
from bme_mri.segment.marrow import edema_mask, edema_threshold, reference_from_values, smooth_image
from bme_mri.segment.missing import missing_heads
from bme_mri.segment.necrosis import find_necrosis
from bme_mri.segment.order_stats import exact_median, exact_percentile
from bme_mri.segment.ranges import border_range_ml, combined_range, threshold_range
from bme_mri.segment.regions import deep_marrow, head_regions
from bme_mri.segment.resample import field_of_view, n4_corrected, resample_onto, working_geometry
from bme_mri.segment.settings import SegmentSettings
from bme_mri.types import Label, Side, Volume


_WIDER_THAN_FIELD = "(wider than the field of view)"  # how _midline_x ends the midline of a narrow field inside the body


class ClassicalSegmenter:
    """Segments femoral heads, edema and necrosis with image-relative rules (see module)."""

    def __init__(self, settings: SegmentSettings) -> None:
        self.settings = settings

    # ---- localisation ----------------------------------------------------------------
    def _working_image(self, image: Volume, t1: Volume | None, warnings: list[str]):
        loc = self.settings.localize
        work_geom = working_geometry(image.geometry, loc.work_spacing_mm)
        stir = resample_onto(image, work_geom)
        covered = field_of_view(image, work_geom)
        scale = float(exact_percentile(stir[covered], 99.5)) if covered.any() else 1.0
        body = covered & (stir > 0.05 * scale)
        if body.any():  # air noise can pass the first cut: keep what is clearly tissue
            smooth = smooth_image(stir, (loc.work_spacing_mm,) * 3, loc.body_smoothing_mm)
            body = covered & (smooth > loc.body_fraction * float(exact_median(stir[body])))
        if loc.n4_bias_correction and body.sum() > 1000:
            stir = n4_corrected(stir, loc.work_spacing_mm, loc.n4_shrink_factor,
                                loc.n4_iterations, body)
        body_scale = float(exact_median(stir[body])) if body.any() else 1.0
        work = stir / max(body_scale, 1e-6)
        vote_image = work
        if t1 is not None:
            try:
                t1_work = resample_onto(t1, work_geom)
                t1_body = body & (t1_work > 0)
                if t1_body.sum() > 1000:
                    t1_level = float(exact_median(t1_work[t1_body]))
                    vote_image = work + t1_work / max(t1_level, 1e-6)
            except Exception as exc:  # noqa: BLE001 - the T1 only helps; say why it was dropped
                warnings.append(f"T1 not used for localisation: {exc}")
        return work_geom, np.asarray(work, dtype=np.float32), np.asarray(vote_image, dtype=np.float32), body

    def _find_heads(self, work_geom, work, vote_image, body,
                    covered: np.ndarray | None = None, field: np.ndarray | None = None
                    ) -> Iterator[tuple[SphereFit, float]]:
        """Head candidates, strongest vote first: each sound sphere fit with the vote of the
        next peak (an upper bound on the score of any structure still to come; 0 after the
        last). Votes on STIR (+ T1), shell fits on the STIR alone (the T1's dark
        cartilage would widen the shell). ``covered`` (the working-grid voxels inside the
        field of view) is given for a fat-bright series: its heads are fitted by their step
        edge (:func:`~bme_mri.segment.fatty_marrow.fit_head_step`) instead of a dark shell
        (or by the shell fit where the step fit finds no sound sphere, ``step_edge_try_shell``;
        :func:`~bme_mri.segment.head_fit.fit_candidate`).
        ``field``: the working-grid voxels at least ``vote_fov_margin_mm`` inside the field of
        view, where edges vote; None = every body voxel."""
        loc = self.settings.localize
        spacing = loc.work_spacing_mm
        scale = 1.0  # _working_image divided the image by its median in the body
        factor = max(1, int(round(loc.vote_spacing_mm / spacing)))
        voters = body if field is None else body & field
        if not voters.any():  # a field thinner than twice the margin: every body voxel votes
            voters = body
        coarse_image, coarse_body = coarsen(vote_image, voters, factor)
        acc = vote_centres(coarse_image, spacing * factor, coarse_body, loc)
        smooth = smooth_image(work, (spacing,) * 3, 1.0)
        origin = np.asarray(work_geom.origin_lps_mm)
        peaks = accumulator_peaks(acc, spacing * factor, loc)
        for n, (idx, value) in enumerate(peaks):
            start = origin + coarse_to_work_index(idx, factor) * spacing
            fit = fit_candidate(smooth, spacing, origin, start, scale, loc, covered)
            if not sound_fit(fit, loc):
                continue
            fit.vote = value
            yield fit, (peaks[n + 1][1] if n + 1 < len(peaks) else 0.0)

    @staticmethod
    def _distinct(fits: list[SphereFit]) -> list[SphereFit]:
        """One fit per structure: of fits within 10 mm of each other, the one whose shell more
        rays see stands (not the first tried: a vote peak beside the head can converge to a
        poorer sphere there; contrasts seed 4, T2 fat-sat 2 x 2 x 5 mm: q 0.35 at 9 mm from the
        head, beside the head's own q 0.73), carrying the strongest vote of the group. Applied
        after the plausible-radius rule, so a concentric acetabulum (radius beyond the range)
        cannot displace the head. Returned strongest vote first."""
        kept: list[SphereFit] = []
        for fit in sorted(fits, key=lambda f: f.quality, reverse=True):
            if all(np.linalg.norm(fit.center_mm - k.center_mm) > 10.0 for k in kept):
                kept.append(fit)
        for k in kept:
            k.vote = max(f.vote for f in fits if np.linalg.norm(f.center_mm - k.center_mm) <= 10.0)
        return sorted(kept, key=lambda f: f.vote, reverse=True)

    def _locate(self, image: Volume, work_geom, work, vote_image, body,
                warnings: list[str]) -> dict[Side, SphereFit]:
        """At most one fitted head per side (the learned segmenter replaces this step): the
        candidates, each refitted on the image's own grid and kept when its radius is a plausible
        adult femoral head's (:meth:`_plausible`), then sided. On a fat-bright series (no fat
        suppression) the candidates are fitted by their step edge instead
        (:mod:`bme_mri.segment.fatty_marrow`; or by the shell fit where the step fit finds no
        sound sphere, ``step_edge_try_shell``); a step-edge fit is not refitted on the own grid (it
        finds no dark shell)."""
        loc = self.settings.localize
        covered = fat_bright_field(image, work_geom, loc)
        # the image drops to zero outside the field: the gradient of that step is no anatomy
        # (a thin slab's top and bottom planes held most of the strongest edges)
        field = field_of_view(image, work_geom, loc.vote_fov_margin_mm) if loc.vote_fov_margin_mm > 0 else None
        plausible: list[SphereFit] = []
        for fit, next_vote in self._find_heads(work_geom, work, vote_image, body, covered, field):
            plausible += self._plausible(image, [fit])
            if loc.stop_when_paired and self._pair_settled(plausible, next_vote):
                break
        sides = self._assign_sides(self._distinct(plausible), body, work_geom, warnings)
        for side, fit in sorted(sides.items(), key=lambda kv: kv[0].value):
            if fit.native_note:
                warnings.append(f"{side.value} femoral head: {fit.native_note}")
        return sides

    def _plausible(self, image: Volume, fits: list[SphereFit]) -> list[SphereFit]:
        """Candidates refitted on ``image``'s own grid (when configured; shell fits only: a
        step-edge fit finds no dark shell to refit), without
        those whose final radius lies outside ``head_radius_range_mm``: the search range is wider
        (a thick-slice fit on the working grid comes out small) and round vessels, bowel loops and
        organ edges of radius 15-18 mm passed it on real scans."""
        loc = self.settings.localize
        lo, hi = loc.head_radius_range_mm
        kept = []
        for fit in fits:
            refined = fit
            if loc.native_refine and not fit.native and fit.edge == "shell":
                refined, why = refine_on_native(image.array, image.geometry, fit, loc)
                refined.native_note = why
            if lo <= refined.radius_mm <= hi:
                kept.append(refined)
        return kept

    def _midline_x(self, body: np.ndarray, work_geom, warnings: list[str]) -> tuple[float, str]:
        """LPS x of the body midline (mm) and how it was judged. When the body runs off one
        x edge of the field of view, the midline lies beyond that edge (a one-hip field)."""
        spacing = self.settings.localize.work_spacing_mm
        xs = np.flatnonzero(body.any(axis=(1, 2)))
        x0 = work_geom.origin_lps_mm[0]
        if xs.size == 0:
            return 0.0, "patient x = 0"
        columns = body.sum(axis=(1, 2)).astype(float)
        if spacing * body.shape[0] >= self.settings.localize.both_hips_fov_mm:
            centre = x0 + spacing * float((np.arange(body.shape[0]) * columns).sum() / columns.sum())
            return centre, "centre of the imaged body (field wide enough for both hips)"
        low_edge = float(body[:2].mean())  # fraction of the x edge planes covered by body
        high_edge = float(body[-2:].mean())
        gap = self.settings.localize.edge_body_difference
        if low_edge > high_edge + gap:
            return x0 - 1e3, "body running off the -x (right) edge of the field"
        if high_edge > low_edge + gap:
            return x0 + spacing * body.shape[0] + 1e3, "body running off the +x (left) edge of the field"
        if max(low_edge, high_edge) < gap:
            return x0 + spacing * 0.5 * (xs[0] + xs[-1]), "centre of the body"
        centre = x0 + spacing * float((np.arange(body.shape[0]) * columns).sum() / columns.sum())
        return centre, f"centre of the imaged body {_WIDER_THAN_FIELD}"

    def _best_pair(self, ranked: list[SphereFit]) -> tuple[SphereFit, SphereFit] | None:
        """The left-right pair of highest total score (boundary fraction x vote) among
        ``ranked`` (highest score first): mirror images (:func:`mirror_pair`), the weaker
        scoring at least ``pair_min_score_fraction`` of the stronger. None without a pair."""
        loc = self.settings.localize
        best_pair, best_score = None, -1.0
        for i, a in enumerate(ranked):
            for b in ranked[i + 1:]:
                sa, sb = a.quality * a.vote, b.quality * b.vote
                if (mirror_pair(a.center_mm, a.radius_mm, b.center_mm, b.radius_mm, loc)
                        and min(sa, sb) >= loc.pair_min_score_fraction * max(sa, sb)
                        and sa + sb > best_score):
                    best_pair, best_score = (a, b), sa + sb
        return best_pair

    def _pair_settled(self, plausible: list[SphereFit], next_vote: float) -> bool:
        """Whether the vote peaks still to be fitted cannot change the pair of heads: the best
        pair so far (:meth:`_best_pair` after :meth:`_distinct`) is sound (both boundary
        fractions >= ``stop_min_quality``) and its weaker head scores at least ``next_vote``.
        A score is boundary fraction (<= 1) x vote and the peaks come strongest first, so no
        structure still to come can outscore either head or form a better pair; only a fit of
        the same head could still replace it (a higher boundary fraction within 10 mm,
        :meth:`_distinct`), which a sound pair leaves little room for. On two clear heads this
        skips the remaining peaks' fits (bench: 6 of 8)."""
        loc = self.settings.localize
        kept = self._distinct([replace(f) for f in plausible])  # _distinct sets votes: work on copies
        pair = self._best_pair(sorted(kept, key=lambda f: f.quality * f.vote, reverse=True))
        if pair is None:
            return False
        return (min(f.quality for f in pair) >= loc.stop_min_quality
                and min(f.quality * f.vote for f in pair) >= next_vote)

    def _assign_sides(self, fits: list[SphereFit], body: np.ndarray, work_geom,
                      warnings: list[str]) -> dict[Side, SphereFit]:
        """At most one head per side (left = larger LPS x).

        Two candidates form a pair when they lie the bilateral separation apart in x (which
        rules out the same femur's trochanter), are near mirror images (radius, height and
        front-back position agree within ``pair_max_*``) and the weaker one's score (boundary
        fraction x vote) is at least ``pair_min_score_fraction`` of the stronger's; the pair
        with the highest total score wins. Without a pair, the best candidate is a lone head:
        cut by the field of view on one x side, that side is lateral
        (:func:`~bme_mri.segment.localize.side_from_cut_edge`); otherwise it is sided by the
        body midline (near the midline: by its neck opening).
        """
        loc = self.settings.localize
        ranked = sorted(fits, key=lambda f: f.quality * f.vote, reverse=True)
        if not ranked:
            return {}
        best_pair = self._best_pair(ranked)
        if best_pair is not None:
            a, b = best_pair
            left, right = (a, b) if a.center_mm[0] > b.center_mm[0] else (b, a)
            return {Side.LEFT: left, Side.RIGHT: right}
        best = ranked[0]
        sign, why = side_from_cut_edge(best.center_mm, best.radius_mm, body,
                                       np.asarray(work_geom.origin_lps_mm), loc.work_spacing_mm,
                                       loc.cut_edge_reach)
        if sign:
            side = Side.LEFT if sign > 0 else Side.RIGHT
            warnings.append(f"one femoral head found; side {side.value} from where the field of view "
                            f"cuts it (its lateral side: {why})")
            return {side: best}
        midline, how = self._midline_x(body, work_geom, warnings)
        offset = best.center_mm[0] - midline
        side = Side.LEFT if offset > 0 else Side.RIGHT
        on_midline = abs(offset) < best.radius_mm
        if on_midline and how.endswith(_WIDER_THAN_FIELD):
            # a narrow field inside the body: its centre is the midline only when the field is
            # centred on the patient; patients lie centred on the table, so a candidate this
            # near the scanner's x = 0 is on the midline too (a head lies >= 60 mm from it)
            on_midline = abs(best.center_mm[0]) < loc.isocentre_exclusion_mm
        if on_midline:
            warnings.append(f"a round candidate at LPS x = {best.center_mm[0]:.0f} mm, {offset:+.0f} mm from the "
                            f"body midline ({how}), within its radius ({best.radius_mm:.0f} mm): a femoral head "
                            "lies half the distance between the hips from the midline, never on it; not reported")
            return {}
        if abs(offset) < loc.midline_margin_mm:
            sign, left_rays, right_rays = side_from_neck(best, self.settings.neck)
            if sign:
                side = Side.LEFT if sign > 0 else Side.RIGHT
                warnings.append(f"one femoral head found {offset:+.0f} mm from the body midline "
                                f"({how}); side {side.value} from the femoral neck opening "
                                f"(cortex-free rays towards left/right neck: {left_rays}/{right_rays})")
                return {side: best}
            warnings.append(f"one femoral head found {offset:+.0f} mm from the body midline ({how}); "
                            "side uncertain")
        warnings.append(f"one femoral head found; side {side.value} from its position relative "
                        f"to the {how}")
        return {side: best}

    def _refine_native(self, image: Volume, sides: dict[Side, SphereFit],
                       warnings: list[str]) -> dict[Side, SphereFit]:
        """Each side's sphere refitted on the analysed image's own grid
        (:func:`~bme_mri.segment.localize.refine_on_native`), when configured."""
        loc = self.settings.localize
        if not loc.native_refine:
            return sides
        out = {}
        for side, fit in sides.items():
            if (fit.native or fit.native_note or fit.quality < loc.min_boundary_fraction
                    or fit.edge != "shell"):  # a step-edge fit has no dark shell to refit
                out[side] = fit  # refitted (or tried) already, or no sound shell to refit
                continue
            refined, why = refine_on_native(image.array, image.geometry, fit, loc)
            if why:
                warnings.append(f"{side.value} femoral head: {why}")
            out[side] = refined
        return out

    # ---- main ------------------------------------------------------------------------
    def segment(self, image: Volume, t1: Volume | None = None) -> Segmentation:
        """Segment ``image`` (STIR / T2 fat-sat on its own grid); ``t1`` helps when given."""
        s = self.settings
        timings: dict[str, float] = {}
        warnings: list[str] = []
        t0 = time.perf_counter()
        work_geom, work, vote_image, body = self._working_image(image, t1, warnings)
        timings["resample"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sides = self._locate(image, work_geom, work, vote_image, body, warnings)
        sides = self._refine_native(image, sides, warnings)
        timings["localize"] = time.perf_counter() - t0
        midline, how = self._midline_x(body, work_geom, warnings)
        if not sides:
            why = (f"no sphere of radius {s.localize.radius_min_mm:g}-{s.localize.radius_max_mm:g} mm "
                   "with a cortical shell")
            raise NoFemoralHeadError(
                f"no femoral head found in series {image.meta.get('series_uid', '?')} "
                f"({image.meta.get('description', 'no description')}): {why}; check that the series "
                "covers the hips", missing_heads(image.geometry, {}, midline, how, s.localize, why))
        t0 = time.perf_counter()
        heads: list[HeadFinding] = []
        for side, fit in sorted(sides.items(), key=lambda kv: kv[0].value):
            sign = 1.0 if side == Side.LEFT else -1.0
            axis, junction, neck_radius, notes = neck_from_gap(fit, s.neck, sign)
            if s.neck.measure_sections:
                # seeded at the opening's axis and at the textbook axis: the one whose sections
                # line up with it (smallest re-aim) wins; an opening skewed by an effusion or a
                # weak cortex can seed the sections 20-30 deg off
                prior = prior_neck_axis(sign, s.neck)
                tries = [neck_from_sections(image.array, image.geometry, fit.center_mm, fit.radius_mm,
                                            seed, prior, s.neck, s.localize) for seed in (axis, prior)]
                tries = [t for t in tries if t is not None]
                sections = min(tries, key=lambda t: t.aim_change_deg) if tries else None
                if sections is None:
                    notes.append("neck cross-sections did not hold; junction from the opening in the "
                                 "head's cortex")
                else:
                    axis, junction, neck_radius = sections.axis, sections.junction_mm, sections.neck_radius_mm
                    notes = []
            heads.append(HeadFinding(side=side, center_lps_mm=tuple(float(v) for v in fit.center_mm),
                                     radius_mm=fit.radius_mm,
                                     neck_axis_lps=tuple(float(v) for v in axis),
                                     junction_distance_mm=junction, neck_radius_mm=neck_radius,
                                     fit_quality=fit.quality, fit_residual_mm=fit.residual_mm,
                                     notes=notes, network_offset_mm=fit.network_offset_mm))
        timings["neck"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        seg = self._label(image, t1, heads, warnings)
        timings["label"] = time.perf_counter() - t0
        seg.timings_s = timings
        seg.missing_heads = missing_heads(image.geometry, {h.side: (np.asarray(h.center_lps_mm), h.radius_mm)
                                                           for h in heads}, midline, how, s.localize)
        return seg

    def _label(self, image: Volume, t1: Volume | None, heads: list[HeadFinding],
               warnings: list[str]) -> Segmentation:
        s = self.settings
        geometry = image.geometry
        voxel_ml = geometry.voxel_volume_ml
        smoothed = smooth_image(image.array, geometry.spacing_mm, s.edema.smoothing_sigma_mm)
        t1_on_grid = None
        if t1 is not None and s.necrosis.enabled:
            try:
                t1_on_grid = resample_onto(t1, geometry)
            except Exception as exc:  # noqa: BLE001
                warnings.append(f"T1 not used for necrosis: {exc}")
        regions = [head_regions(geometry, h, s.edema.cortex_thickness_mm, s.neck.neck_length_mm)
                   for h in heads]
        # reference per side, then sanity across sides
        refs: list[ReferenceMarrow | None] = []
        for head, reg in zip(heads, regions):
            local = smoothed[reg.box]
            deep = deep_marrow(reg, head, s.reference.min_depth_mm)
            refs.append(reference_from_values(
                local[reg.head_marrow | reg.neck_marrow],
                f"lower intensity mode of femoral head and neck marrow, {head.side.value} side",
                s.reference, s.edema,
                mode_values=local[deep] if deep.sum() >= s.reference.min_voxels else None))
        valid = [r for r in refs if r is not None and r.n_voxels >= s.reference.min_voxels]
        if not valid:
            pooled = np.concatenate([smoothed[reg.box][reg.head_marrow | reg.neck_marrow]
                                     for reg in regions])
            fallback = reference_from_values(pooled, "lower intensity mode of all femoral marrow",
                                             s.reference, s.edema)
            if fallback is None:
                raise SegmentationError("no femoral marrow found to serve as the normal reference")
            warnings.append(f"few reference marrow voxels ({fallback.n_voxels}); pooled sides")
            valid = [fallback]
        lowest = min(valid, key=lambda r: r.median)
        for head, ref in zip(heads, refs):
            head.own_reference = ref  # before any fallback: quality control compares the sides
        for i, ref in enumerate(refs):
            if ref is None or ref.n_voxels < s.reference.min_voxels:
                if ref is not lowest:
                    warnings.append(f"{heads[i].side.value} side: too little normal-looking marrow "
                                    f"for its own reference; using {lowest.description}")
                refs[i] = lowest
            elif ref.median > s.reference.side_ratio_warn * lowest.median:
                warnings.append(f"{heads[i].side.value} marrow reference {ref.median:.4g} is "
                                f"> {s.reference.side_ratio_warn:g} x the other side's; "
                                "using the other side's reference (diffuse edema?)")
                refs[i] = lowest
        labels = np.zeros(geometry.shape, np.uint8)
        edema_all = np.zeros(geometry.shape, bool)
        ranges: dict[Side, dict[str, tuple[float, float]]] = {}
        for head, reg, ref in zip(heads, regions, refs):
            local = smoothed[reg.box]
            marrow = reg.head_marrow | reg.neck_marrow
            # the plateau comes from head marrow clear of the joint fluid's partial volume
            core_region = reg.head_marrow & (reg.radial_mm <= head.radius_mm - s.edema.core_min_depth_mm)
            threshold = edema_threshold(local, marrow, ref, voxel_ml, s.edema, core_region)

            def edema_at(level: float, local=local, marrow=marrow, ref=ref, reg=reg) -> np.ndarray:
                found = edema_mask(local, marrow, ref, level, voxel_ml, s.edema, geometry.spacing_mm)
                # neck edema counts only where it continues from the head's marrow (the neck region
                # is a cylinder around the fitted axis: what lies outside the cortex is not marrow)
                pieces, n_pieces = ndimage.label(found)
                if n_pieces:
                    touching = np.unique(pieces[found & reg.head_marrow])
                    found = np.isin(pieces, touching[touching > 0])
                return found

            edema = edema_at(threshold)
            head.edema_threshold = threshold
            head.reference = ref
            box_labels = labels[reg.box]
            box_labels[reg.head] = np.maximum(box_labels[reg.head], Label.HEAD_MARROW)
            box_labels[edema & reg.head] = Label.EDEMA
            edema_all[reg.box] |= edema
            necrosis = np.zeros_like(edema)
            if s.necrosis.enabled:
                t1_local = None if t1_on_grid is None else t1_on_grid[reg.box]
                centre = geometry.lps_to_index(np.asarray(head.center_lps_mm)) - np.array(
                    [b.start for b in reg.box])
                found = find_necrosis(image.array[reg.box], t1_local, reg, ref, head, centre,
                                      geometry.spacing_mm, s.necrosis)
                if found.any():
                    necrosis = found & reg.head
                    box_labels[necrosis] = Label.NECROSIS
                    edema_all[reg.box] &= ~found
            in_head = reg.head & ~necrosis
            edema_ml = float(np.count_nonzero(edema & in_head)) * voxel_ml
            ranges[head.side] = {
                "edema": combined_range(
                    edema_ml, threshold_range(edema_at, threshold, ref.robust_sd, s.edema.range_sd, in_head,
                                              voxel_ml, edema_ml),
                    border_range_ml(edema & in_head, in_head, voxel_ml)),
                "necrosis": border_range_ml(necrosis, reg.head, voxel_ml)}
        return Segmentation(labels=labels, geometry=geometry, heads=heads, edema_headneck=edema_all,
                            reference=lowest, warnings=warnings, ranges_ml=ranges)
