"""Blocked means not measured: a hip whose evidence fails a blocking quality-control rule gets no
edema or necrosis figure.

A blocking flag (``qc.blocking``: ``head_fit_poor``, ``head_cut_by_fov``,
``reference_implausible``, ``not_fat_suppressed``) says the evidence cannot carry an edema or
necrosis volume: the head is not where the sphere says, a sixth of it is unseen, the edema
threshold comes from marrow of an unknown place, or fatty marrow is as bright as edema. Such a
hip keeps its row and its flags; its edema, edema fraction, head-and-neck edema and necrosis are
None (empty cells, null), the reason is ``not_measured``, and the label map holds no edema or
necrosis for it (the head region stays, for review). The withheld figures are dropped, not kept
anywhere (a number in study.json is read as a result, whatever key it sits under). The femoral
head volume is withheld too when the head itself is not measured whole: its fit failed
(``head_fit_poor``) or the field of view cuts it (``head_cut_by_fov``: a truncated head compared
with a whole one at another visit reads as a head that changed size).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bme_mri.quantify.volumes import SideMeasurement
from bme_mri.types import Label

# the head itself was not measured whole: no head volume either
HEAD_NOT_MEASURED_CODES = ("head_fit_poor", "head_cut_by_fov")
WITHHELD = ("edema_ml", "edema_fraction", "edema_headneck_ml", "necrosis_ml", "edema_ml_range", "necrosis_ml_range")

# what a picture's title says for each blocking code (the full reasons are in the tables)
SHORT_REASON = {
    "head_fit_poor": "femoral head fit unreliable",
    "head_cut_by_fov": "femoral head cut by the field of view",
    "reference_implausible": "normal-marrow reference implausible",
    "not_fat_suppressed": "fat not suppressed on this series",
}


def not_measured_text(blocking: list) -> str:
    """'not measured: fat not suppressed on this series (not_fat_suppressed); ...' for a hip's
    blocking flags (objects with ``code``)."""
    codes = list(dict.fromkeys(f.code for f in blocking))
    return "not measured: " + "; ".join(f"{SHORT_REASON.get(c, c.replace('_', ' '))} ({c})" for c in codes)


def withhold_blocked(segmentation, measurements: list[SideMeasurement], qc: list) -> list[SideMeasurement]:
    """``measurements`` with the figures of every hip whose :class:`~bme_mri.quantify.qc.HipQc`
    has a blocking flag set to None (see module); ``segmentation.labels`` and
    ``segmentation.edema_headneck`` lose that hip's edema and necrosis (in place: voxels nearest
    its head centre, as they were counted)."""
    blocked = {q.side: q.blocking for q in qc if q.blocking}
    if not blocked:
        return measurements
    out = []
    for m in measurements:
        flags = blocked.get(m.side)
        if not flags:
            out.append(m)
            continue
        codes = {f.code for f in flags}
        keys = WITHHELD + (("femoral_head_ml",) if codes & set(HEAD_NOT_MEASURED_CODES) else ())
        out.append(replace(m, **{k: None for k in keys}, not_measured=not_measured_text(flags)))
    _clear_lesions(segmentation, {side for side in blocked})
    return out


def _clear_lesions(segmentation, sides: set) -> None:
    """Edema and necrosis voxels of the heads on ``sides`` become head marrow (label map) or
    nothing (head-and-neck edema)."""
    heads = segmentation.heads
    withheld = np.array([h.side in sides for h in heads])
    if not withheld.any():
        return
    labels = segmentation.labels
    lesion = labels >= Label.EDEMA
    owner = segmentation.nearest_head(lesion)
    if owner.size:
        idx = np.argwhere(lesion)[withheld[owner]]
        labels[tuple(idx.T)] = Label.HEAD_MARROW
    headneck = segmentation.edema_headneck
    if headneck is not None:
        owner = segmentation.nearest_head(headneck)
        if owner.size:
            idx = np.argwhere(headneck)[withheld[owner]]
            headneck[tuple(idx.T)] = False
