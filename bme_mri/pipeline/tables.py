"""CSV tables of a batch: summary.csv (one row per patient x study x side) and skipped files.

Values from DICOM are written as text through the csv module; a cell that would start a
spreadsheet formula (=, +, @) is prefixed with a quote so opening the table is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bme_mri.io_utils import write_csv_atomic
from bme_mri.quantify.qc import is_blocking

SUMMARY_COLUMNS = [
    "patient_id", "study_uid", "study_date", "series_uid", "sequence", "side",
    "femoral_head_ml", "edema_ml", "edema_fraction", "necrosis_ml", "seg_path",
    "edema_headneck_ml", "series_description", "reference_median", "edema_threshold", "error",
    "not_analysed", "qc_flags", "qc_reason",
    "edema_ml_low", "edema_ml_high", "necrosis_ml_low", "necrosis_ml_high",
]


def _qc_cells(side: dict[str, Any]) -> dict[str, str]:
    """``qc_flags`` (semicolon-joined codes, blocking ones first) and ``qc_reason`` of one side."""
    flags = ((side.get("qc") or {}).get("flags")) or []
    flags = sorted(flags, key=lambda f: not is_blocking(f))
    codes = list(dict.fromkeys(str(f.get("code")) for f in flags))
    reasons = "; ".join(f"{f.get('code')} ({f.get('severity')}): {f.get('reason')}" for f in flags)
    return {"qc_flags": ";".join(codes), "qc_reason": reasons}


def summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten study records into summary rows: one per side measured, one per side whose head
    lies in view but was not found (``not_analysed`` says so; a study where no head was found
    at all has such rows with its error), one for a study failed or not analysable."""
    rows = []
    for record in records:
        series = record.get("series") or {}
        reference = record.get("reference_marrow") or {}
        base = {
            "patient_id": record.get("patient_id"),
            "study_uid": record.get("study_uid"),
            "study_date": record.get("study_date"),
            "series_uid": series.get("series_uid"),
            "sequence": series.get("sequence"),
            "series_description": series.get("description"),
            "seg_path": (record.get("outputs") or {}).get("labels"),
            "reference_median": reference.get("median"),
            "edema_threshold": reference.get("edema_threshold"),
            "error": record.get("error"),
            "not_analysed": record.get("not_analysed"),
        }
        sides = record.get("sides") or []
        missing = record.get("sides_not_analysed") or []
        if record.get("not_analysed") or (not sides and not missing):
            if not record.get("error") and not record.get("not_analysed"):
                base["error"] = "no femoral head found in the field of view"
            rows.append(base)
            continue
        study_rows = [{**base, **_applied_to_side(record, side), **{k: side.get(k) for k in (
            "side", "femoral_head_ml", "edema_ml", "edema_fraction", "necrosis_ml", "edema_headneck_ml")},
                       **_qc_cells(side), **_range_cells(side)} for side in sides]
        # no hip lost in silence: a side whose head lies in view but was not found says so
        study_rows += [{**base, "side": side.get("side"), "not_analysed": side.get("not_analysed"),
                        "reference_median": None, "edema_threshold": None} for side in missing]
        rows.extend(study_rows)
    return rows


def _range_cells(side: dict[str, Any]) -> dict[str, Any]:
    """``edema_ml_low`` / ``_high`` and ``necrosis_ml_low`` / ``_high`` of one side (empty when
    the volume was not measured)."""
    cells = {}
    for name in ("edema_ml", "necrosis_ml"):
        span = side.get(f"{name}_range") if side.get(name) is not None else None
        cells[f"{name}_low"], cells[f"{name}_high"] = (span[0], span[1]) if span else (None, None)
    return cells


def write_summary_csv(path: Path, records: list[dict[str, Any]]) -> None:
    """OUT/summary.csv from the study records."""
    write_csv_atomic(path, SUMMARY_COLUMNS, summary_rows(records))


def write_skipped_csv(path: Path, skipped: Iterable[Any]) -> None:
    """OUT/skipped_files.csv: every file discovery could not use, with its reason."""
    write_csv_atomic(path, ["path", "reason"], ({"path": str(s.path), "reason": s.reason} for s in skipped))


def _applied_to_side(record: dict[str, Any], side: dict[str, Any]) -> dict[str, Any]:
    """``edema_threshold`` and ``reference_median`` applied to this hip (each side may have its
    own reference and threshold); the study-level values where the side has none."""
    study_reference = record.get("reference_marrow") or {}
    side_reference = side.get("reference") or {}
    threshold = side.get("edema_threshold")
    median = side_reference.get("median")
    return {"edema_threshold": threshold if threshold is not None else study_reference.get("edema_threshold"),
            "reference_median": median if median is not None else study_reference.get("median")}
