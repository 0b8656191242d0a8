"""Compare two analysed visits of one patient, hip by hip.

For each side measured at both visits: register the follow-up onto the baseline around that
femoral head (:func:`~bme_mri.compare.register.register_hip`), resample the follow-up labels onto
the baseline grid and map the edema change inside a cube around the head
(:func:`~bme_mri.compare.change.change_map`), and call the status from the volumes
(:func:`~bme_mri.compare.longitudinal.call_side`).

The status comes from each visit's own volumes, so it does not depend on the registration. The
change map does: when the registration fails its quality check the change map is **not**
computed (``change`` is None) and a warning says so; nor is it when the hip was not measured at
either visit (a blocking QC flag: no edema or necrosis figure there). A side missing at a visit
is said so in the pair's warnings, with why: its femoral head was not found ("femoral head not
found: ...", :attr:`~bme_mri.compare.visit.VisitResult.not_found`) or it lies outside the field
of view; such a side, seen at the other visit, gets an ``indeterminate`` row with that reason
(:attr:`PairComparison.unpaired`): no hip lost in silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bme_mri.compare.change import ChangeMap, change_map, resample_labels
from bme_mri.compare.longitudinal import LongitudinalRow, call_side, unpaired_row
from bme_mri.compare.register import Registration, register_hip
from bme_mri.compare.settings import CompareSettings
from bme_mri.compare.status import StatusCall
from bme_mri.compare.visit import VisitResult
from bme_mri.quantify.qc import BLOCKING, WARNING, QcFlag
from bme_mri.types import Geometry, Label, Side


@dataclass
class SideComparison:
    """One hip, follow-up vs reference visit."""

    side: Side
    registration: Registration
    change: ChangeMap | None
    call: StatusCall
    row: LongitudinalRow
    followup_labels_on_baseline: np.ndarray | None = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list)
    baseline_center_lps_mm: tuple[float, float, float] | None = None  # head centre registered around


@dataclass
class PairComparison:
    """Both hips of one follow-up vs one reference visit."""

    patient_id: str
    baseline_uid: str
    followup_uid: str
    compared_with: str
    sides: dict[Side, SideComparison]
    warnings: list[str] = field(default_factory=list)
    unpaired: dict[Side, LongitudinalRow] = field(default_factory=dict)  # seen at one visit only: indeterminate

    def rows(self) -> list[LongitudinalRow]:
        """Every hip's row, right then left: compared ones and those seen at one visit only."""
        rows = {side: comparison.row for side, comparison in self.sides.items()} | self.unpaired
        return [rows[side] for side in (Side.RIGHT, Side.LEFT) if side in rows]


def head_region(geometry: Geometry, center_lps_mm: np.ndarray, radius_mm: float) -> np.ndarray:
    """Boolean mask of voxels within ``radius_mm`` (LPS mm) of ``center_lps_mm``."""
    idx = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in geometry.shape],
                               indexing="ij"), axis=-1)
    points = geometry.index_to_lps(idx)
    return np.linalg.norm(points - np.asarray(center_lps_mm, dtype=np.float64), axis=-1) <= radius_mm


def compare_studies(baseline: VisitResult, followup: VisitResult, settings: CompareSettings,
                    patient_id: str, compared_with: str = "baseline",
                    qc_blocking: Sequence[str] = ()) -> PairComparison:
    """Register, map change and call the status for every side measured at both visits.

    Parameters
    ----------
    baseline : the reference visit (the baseline, or the previous visit).
    followup : the later visit.
    settings : the ``compare`` config section.
    patient_id : written into the rows.
    compared_with : 'baseline' or 'previous' (recorded in the rows).
    qc_blocking : QC flag codes that block a call (``qc.blocking``); a failed registration
        adds ``registration_flagged``, blocking only when listed there.
    """
    result = PairComparison(patient_id, baseline.study_uid, followup.study_uid, compared_with, {})
    base_geometry = baseline.volume.geometry
    for side in (Side.RIGHT, Side.LEFT):
        base_side = baseline.sides.get(side)
        follow_side = followup.sides.get(side)
        if base_side is None or follow_side is None:
            # no hip lost in silence: a head not found is said so, apart from a side out of view
            seen = base_side is not None or follow_side is not None
            absent = [(name, visit.absence(side)) for name, visit, volumes in
                      (("baseline", baseline, base_side), ("follow-up", followup, follow_side))
                      if volumes is None and (seen or side in visit.not_found)]
            for name, why in absent:
                result.warnings.append(f"{side.value} hip at the {name} visit: {why}; no comparison for this side")
            if absent:  # seen at one visit, or its head not found at either
                result.unpaired[side] = unpaired_row(
                    patient_id, side, baseline.study_date, followup.study_date, base_side, follow_side,
                    absent, compared_with, baseline.study_uid, followup.study_uid)
            continue
        center = np.asarray(base_side.center_lps_mm, dtype=np.float64)
        registration = register_hip(baseline.volume, followup.volume, center,
                                    settings.registration,
                                    followup_center_lps_mm=np.asarray(follow_side.center_lps_mm),
                                    baseline_lesion=baseline.labels >= Label.EDEMA,
                                    followup_lesion=followup.labels >= Label.EDEMA)
        warnings: list[str] = []
        change = None
        on_baseline = None
        unmeasured = [visit for visit, volumes in (("baseline", base_side), ("follow-up", follow_side))
                      if not volumes.measured]
        if unmeasured:  # blocked means not measured: no change to map either
            warnings.append(f"{side.value} hip not measured at the {' and '.join(unmeasured)} visit "
                            "(blocking quality control); no change map")
        elif registration.ok:
            on_baseline = resample_labels(followup.labels, followup.volume.geometry,
                                          base_geometry, registration.matrix_lps)
            region = head_region(base_geometry, center, settings.registration.cube_mm / 2.0)
            change = change_map(baseline.labels, on_baseline, base_geometry.voxel_volume_ml,
                                region=region,
                                min_component_ml=settings.change.min_component_ml)
        if not registration.ok:
            warnings.append(f"{side.value} hip: {registration.message}; change map not computed")
        extra = [] if registration.ok else [QcFlag(
            "registration_flagged", f"{registration.message}; change map not computed (the call "
            "uses each visit's own volumes)",
            BLOCKING if "registration_flagged" in qc_blocking else WARNING)]
        call, row = call_side(patient_id, side, baseline.study_date, followup.study_date,
                              base_side, follow_side, settings.status, compared_with,
                              registration.ok, registration.quality_ncc,
                              baseline.study_uid, followup.study_uid, extra_flags=extra)
        result.sides[side] = SideComparison(side, registration, change, call, row, on_baseline,
                                            warnings, tuple(float(v) for v in center))
        result.warnings.extend(warnings)
    return result
