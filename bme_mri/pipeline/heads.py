"""``bme-mri heads``: femoral heads of one MR series (DICOM folder or NIfTI), by the classical
sphere search or the learned network.

Any contrast is accepted (STIR, T1, T2 with or without fat suppression, PD, Dixon, diffusion):
only the heads are located, nothing is quantified. No head in view is an empty list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from bme_mri.config import Config
from bme_mri.errors import BmeError, SeriesSelectionError
from bme_mri.ingest.finite import require_finite
from bme_mri.segment.heads import HeadLocation, find_heads_classical
from bme_mri.segment.localize import mirror_pair
from bme_mri.types import Volume

METHODS = ("classical", "learned")
_LOG = logging.getLogger(__name__)


def load_series(path: Path, config: Config, sequence: str | None = None) -> Volume:
    """A NIfTI file, or one series of a DICOM file/folder.

    With several series in ``path``, ``sequence`` picks one: a sequence class (``t2``,
    ``pd``, ``dwi``, ...), a piece of the series description or the b-value of a diffusion
    series split by b-value (``b50``), case-insensitive; it must leave exactly one series.
    """
    from bme_mri.ingest import load_volume
    from bme_mri.ingest.found import nifti_or_discovery

    discovery = nifti_or_discovery(path, config.ingest)
    if isinstance(discovery, Volume):
        require_finite(discovery.array, str(path))
        return discovery
    stacks = [s for s in discovery.all_stacks() if not s.error]
    if not stacks:
        raise SeriesSelectionError(f"{path}: no readable MR series found")

    def name(stack) -> str:  # as listed below, and accepted by --sequence
        tail = stack.stack_id.rsplit("_", 1)[-1]
        extra = f" {tail}" if re.fullmatch(r"b\d+", tail) else ""
        return f"{stack.description or stack.series_uid}{extra}"

    if sequence:
        wanted = sequence.lower()
        stacks = [s for s in stacks if s.sequence.value == wanted or wanted in name(s).lower()
                  or s.stack_id.lower().endswith("_" + wanted)]  # e.g. 'b50' of a split diffusion series
        if not stacks:
            raise SeriesSelectionError(f"{path}: no series of class or description {sequence!r}")
    if len(stacks) > 1:
        names = "; ".join(f"{name(s)} ({s.sequence.value})" for s in stacks[:8])
        if len({name(s) for s in stacks}) == 1:
            raise SeriesSelectionError(
                f"{path} holds {len(stacks)} image stacks of one series ({names}), e.g. the planes of a "
                "multi-plane localizer: bme-mri cannot tell them apart; point at another series")
        raise SeriesSelectionError(f"{path} holds {len(stacks)} series ({names}): point at one series "
                                   "folder or pass --sequence CLASS_OR_DESCRIPTION")
    return load_volume(stacks[0], config.ingest)


def find_heads(volume: Volume, config: Config, method: str = "classical",
               model_dir: Path | str | None = None, finder=None) -> list[HeadLocation]:
    """Femoral heads of ``volume`` by ``method`` ('classical' or 'learned'). ``finder``: an
    already loaded :class:`~bme_mri.learn.infer.LearnedHeadFinder` (load the model once per
    worker)."""
    if method == "classical":
        return sound_heads(find_heads_classical(volume, config.segment), config)
    if method == "learned":
        from bme_mri.segment.learned import find_heads_learned

        if finder is None:
            from bme_mri.learn.infer import LearnedHeadFinder

            finder = LearnedHeadFinder(config.segment.learned, config.segment.localize,
                                       model_dir=None if model_dir is None else str(model_dir))
        return sound_heads(find_heads_learned(volume, config.segment, finder), config)
    raise BmeError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def sound_heads(heads: list[HeadLocation], config: Config) -> list[HeadLocation]:
    """``heads`` judged by the head-fit rule of the pipeline's QC (``qc.head``, as
    :func:`~bme_mri.quantify.qc.head_fit_flag`: boundary on too few rays, or boundary points
    scattering more than ``max_fit_residual_mm`` around the sphere; in ``run`` such a head is
    flagged ``head_fit_poor``, its figures are marked as failing QC and its status call is
    blocked). A head no sphere fit measured (``fit_quality`` None) fails the rule too.

    A failing head is not reported (logged with the reason) unless it is one of exactly one
    left and one right head lying as a pair of femoral heads do
    (:func:`~bme_mri.segment.localize.mirror_pair`) and its mirror image passes the rule: then
    that head corroborates it and it is reported with a ``head_fit_poor`` flag (phantom T2
    fat-sat heads on 5 mm slices fit poorly but lie within 5 mm of the truth). Two failing
    fits corroborate nothing: on a real PD slab with added noise two round organs in front of
    the heads (residuals 1.23 / 1.28 mm) lay as a mirror pair (``perturb_real_heads.py``).
    On the real pelvic series every failing lone fit was a round organ or vessel (residual
    1.27-1.34 mm), while the heads' fits scattered 0.38-0.90 mm. The heads given are not
    changed."""
    from bme_mri.quantify.qc import head_fit_flag

    def failure(head: HeadLocation) -> str | None:
        if head.fit_quality is None or head.fit_residual_mm is None:
            return "no sphere fit measured it"
        flag = head_fit_flag(head, config.qc)
        return None if flag is None else flag.reason

    loc = config.segment.localize
    sides = [h.side for h in heads]
    paired = (sorted(sides) == ["left", "right"]
              and mirror_pair(heads[0].center_lps_mm, heads[0].radius_mm, heads[1].center_lps_mm,
                              heads[1].radius_mm, loc))
    reasons = [failure(head) for head in heads]
    paired = paired and any(why is None for why in reasons)  # two failing fits corroborate nothing
    kept = []
    for head, why in zip(heads, reasons):
        if why is None:
            kept.append(head)
        elif paired:
            kept.append(replace(head, flags=[*head.flags, f"head_fit_poor: {why}; reported as one of a "
                                             "left-right pair of heads"]))
        else:
            _LOG.warning("%s candidate at LPS (%.0f, %.0f, %.0f) mm not reported: %s", head.side,
                         *head.center_lps_mm, why)
    return kept


def heads_json(heads: list[HeadLocation]) -> dict:
    """``{"heads": [{"side", "center_lps_mm", "radius_mm", "confidence", ...}]}``."""
    return {"heads": [h.to_dict() for h in heads]}
