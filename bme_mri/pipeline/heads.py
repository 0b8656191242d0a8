"""``bme-mri heads``: femoral heads of one MR series (DICOM folder or NIfTI), by the classical
sphere search or the learned network.

Any contrast is accepted (STIR, T1, T2 with or without fat suppression, PD, Dixon, diffusion):
only the heads are located, nothing is quantified. No head in view is an empty list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bme_mri.config import Config
from bme_mri.errors import BmeError, SeriesSelectionError
from bme_mri.segment.heads import HeadLocation, find_heads_classical, search_heads_classical
from bme_mri.segment.missing import MissingHead, missing_heads
from bme_mri.segment.localize import mirror_pair
from bme_mri.types import Side, Volume

METHODS = ("classical", "learned")
_LOG = logging.getLogger(__name__)


def load_series(path: Path, config: Config, sequence: str | None = None, series: str | None = None) -> Volume:
    """A NIfTI file, or one series of a DICOM file/folder, read through the same discovery
    (so a converted file and its DICOM folder carry the same class and give the same heads).

    With several series in ``path``, pick one:

    * ``series``: a SeriesNumber (``6``), a SeriesInstanceUID (or stack id), or a piece of the
      series description (case-insensitive); it must leave exactly one image stack;
    * ``sequence``: a sequence class (``t2``, ``pd``, ``dwi``: by class only, so ``t2`` does not
      pick a ``t2_localizer``), else a piece of the description or the b-value of a diffusion
      series split by b-value (``b50``). For a single NIfTI file a class name says what the file
      is (it has no headers to say it itself).

    An ambiguous choice raises with every candidate listed. ``Volume.meta`` names the series
    read (``series_uid``, ``series_number``, ``description``, ``sequence``, ``b_value``).
    """
    from bme_mri.errors import InputError
    from bme_mri.ingest import discover, is_nifti_path, load_volume
    from bme_mri.types import SequenceClass

    path = Path(path)
    if not path.exists():
        raise InputError(f"input {path} does not exist")
    discovery = discover(path, config.ingest)
    stacks = [s for s in discovery.all_stacks() if not s.error]
    if not stacks:
        errors = [s.error for s in discovery.all_stacks() if s.error]
        raise SeriesSelectionError(f"{path}: no readable MR series found" + (f" ({errors[0]})" if errors else ""))
    classes = {c.value for c in SequenceClass}
    one_nifti = path.is_file() and is_nifti_path(path, config.ingest) and len(stacks) == 1
    if one_nifti and sequence and sequence.lower() in classes and stacks[0].sequence.value != sequence.lower():
        stack = stacks[0]
        stack.warnings.append(f"--sequence {sequence.lower()}: taken for this file (its own class: "
                              f"{stack.sequence.value}, {stack.classification_reason})")
        stack.sequence = SequenceClass(sequence.lower())
        stack.classification_reason = f"--sequence {sequence.lower()} (given for this file)"

    def name(stack) -> str:  # as listed below, and accepted by --sequence / --series
        tail = stack.stack_id.rsplit("_", 1)[-1]
        extra = f" {tail}" if re.fullmatch(r"b\d+", tail) else ""
        return f"{stack.description or stack.series_uid}{extra}"

    def listed(candidates) -> str:
        return "; ".join(f"#{s.series_number if s.series_number is not None else '?'} {name(s)} "
                         f"({s.sequence.value}{'/' + s.subtype if s.subtype else ''})" for s in candidates)

    if series:
        wanted = series.strip()
        by_number = [s for s in stacks if wanted.isdigit() and s.series_number == int(wanted)]
        by_uid = [s for s in stacks if wanted in (s.series_uid, s.stack_id)]
        by_name = [s for s in stacks if wanted.lower() in name(s).lower()]
        stacks = by_uid or by_number or by_name
        if not stacks:
            raise SeriesSelectionError(f"{path}: no series numbered, with UID or described {series!r}; "
                                       f"it holds: {listed(discovery.all_stacks())}")
    if sequence and not (one_nifti and sequence.lower() in classes):
        wanted = sequence.lower()
        if wanted in classes:
            stacks = [s for s in stacks if s.sequence.value == wanted]
        else:
            stacks = [s for s in stacks if wanted in name(s).lower()
                      or s.stack_id.lower().endswith("_" + wanted)  # e.g. 'b50' of a split diffusion series
                      or _b_label(s) == wanted]  # or of a diffusion series of one b-value
        if not stacks:
            raise SeriesSelectionError(f"{path}: no series of class or description {sequence!r}")
    if len(stacks) > 1:
        names = listed(stacks)
        if len({name(s) for s in stacks}) == 1:
            raise SeriesSelectionError(
                f"{path} holds {len(stacks)} image stacks of one series ({names}), e.g. the planes of a "
                "multi-plane localizer: bme-mri cannot tell them apart; point at another series")
        raise SeriesSelectionError(f"{path} holds {len(stacks)} series ({names}): pick one with --series "
                                   "NUMBER|UID|DESCRIPTION or --sequence CLASS_OR_DESCRIPTION")
    stack = stacks[0]
    volume = load_volume(stack, config.ingest)
    volume.meta["b_value"] = _b_value(stack)
    return volume


@dataclass
class HeadsFound:
    """The heads of a volume and the sides whose head lies in view but was not found
    (:class:`~bme_mri.segment.missing.MissingHead`, each with its reason)."""

    heads: list[HeadLocation]
    missing: list[MissingHead] = field(default_factory=list)


def _b_value(stack) -> float | None:
    """The b-value (s/mm^2) of a diffusion stack, None for any other."""
    from bme_mri.ingest.models import as_float

    return as_float(stack.headers.get("DiffusionBValue")) if stack.sequence.value == "dwi" else None


def _b_label(stack) -> str:
    """'b800' for a diffusion stack of b-value 800 s/mm^2, '' otherwise."""
    b_value = _b_value(stack)
    return f"b{b_value:g}" if b_value is not None else ""


def locate_heads(volume: Volume, config: Config, method: str = "classical",
                 model_dir: Path | str | None = None, finder=None) -> HeadsFound:
    """:func:`find_heads` with the sides not found (classical method: judged from the body
    midline, :func:`~bme_mri.segment.missing.missing_heads`; the learned method names none)."""
    if method != "classical":
        return HeadsFound(find_heads(volume, config, method, model_dir, finder))
    search = search_heads_classical(volume, config.segment)
    dropped: list[str] = []
    heads = sound_heads(search.heads, config, dropped)
    if search.midline_x_mm is None:
        return HeadsFound(heads)
    loc = config.segment.localize
    why = "; ".join(dropped) or (f"no sphere of radius {loc.radius_min_mm:g}-{loc.radius_max_mm:g} mm with a "
                                 "femoral head's cortical shell")
    found = {Side(h.side): (np.asarray(h.center_lps_mm), h.radius_mm) for h in heads}
    missing = missing_heads(volume.geometry, found, search.midline_x_mm, search.midline_how, loc, why)
    if dropped:
        missing = [replace(m, reason=m.reason + f"; {why}") if why not in m.reason else m for m in missing]
    return HeadsFound(heads, missing)


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


def sound_heads(heads: list[HeadLocation], config: Config, dropped: list[str] | None = None) -> list[HeadLocation]:
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
            if dropped is not None:
                x, y, z = head.center_lps_mm
                dropped.append(f"the candidate at LPS ({x:.0f}, {y:.0f}, {z:.0f}) mm failed the head-fit check ({why})")
    return kept


def series_read(volume: Volume) -> dict:
    """Which series a volume was read from: UID, number, description, class, b-value (s/mm^2)."""
    meta = volume.meta
    return {"series_uid": meta.get("series_uid"), "series_number": meta.get("series_number"),
            "description": meta.get("description"), "sequence": meta.get("sequence"),
            "b_value": meta.get("b_value"), "source": str(meta.get("source") or "")}


def heads_json(heads: list[HeadLocation], volume: Volume | None = None,
               missing: list[MissingHead] | None = None) -> dict:
    """``{"series": {...}, "heads": [{"side", "center_lps_mm", "radius_mm", "confidence", ...}],
    "not_found": [{"side", "not_analysed", "expected_center_lps_mm"}]}`` (``series``:
    :func:`series_read`, when ``volume`` is given)."""
    out: dict = {"series": series_read(volume)} if volume is not None else {}
    out["heads"] = [h.to_dict() for h in heads]
    out["not_found"] = [m.to_dict() for m in missing or []]
    return out
