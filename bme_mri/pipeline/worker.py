"""Process one study and write its outputs; always returns a record, never raises.

The record (a JSON-friendly dict) is what ``study.json`` holds and what the summary table
is built from, so a resumed study and a fresh one look the same.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from enum import Enum
from pathlib import Path
from typing import Any

from bme_mri import __version__
from bme_mri.config import Config
from bme_mri.errors import BmeError, NoEdemaSeriesError, NoFemoralHeadError
from bme_mri.io_utils import staged_folder, write_json_atomic

DISCLAIMER = "Research software, not a medical device: results must be reviewed by a qualified reader."


def _base_record(study: Any, study_out: Path, out_root: Path, fingerprint: str, config: Config) -> dict[str, Any]:
    return {
        "bme_mri_version": __version__,
        "config_digest": config.digest(),
        "fingerprint": fingerprint,
        "patient_id": study.patient_id,
        "study_uid": study.study_uid,
        "study_date": study.study_date,
        "output_dir": study_out.relative_to(out_root).as_posix(),
        "disclaimer": DISCLAIMER,
        "error": None,
        "not_analysed": None,  # why a readable study was not measured (no edema-sensitive series)
        "warnings": [],
        "sides": [],
        "sides_not_analysed": [],  # sides whose femoral head lies in view but was not found, and why
    }


def failed_record(study: Any, study_out: Path, out_root: Path, fingerprint: str, config: Config,
                  reason: str, missing: tuple = ()) -> dict[str, Any]:
    """A record for a study that could not be analysed (written to its study.json);
    ``missing``: the sides whose femoral head lies in view but was not found
    (:class:`~bme_mri.segment.missing.MissingHead`), each a row of its own."""
    record = _base_record(study, study_out, out_root, fingerprint, config)
    record["error"] = reason
    if missing:
        record["sides_not_analysed"] = [m.to_dict() for m in missing]
    _publish_or_say_why(record, study_out)
    return record


def _publish_or_say_why(record: dict[str, Any], study_out: Path) -> None:
    """Publish a record without outputs; when its folder cannot be written (e.g. it holds a
    user's files), the record, still returned to the batch's tables, says so as its error."""
    from bme_mri.errors import OutputError

    try:
        publish_record(record, study_out)
    except OutputError as exc:
        record["error"] = "; ".join(filter(None, [record.get("error") or record.get("not_analysed"), str(exc)]))


def publish_record(record: dict[str, Any], study_out: Path, stage: Path | None = None) -> None:
    """Write ``study.json`` and make ``study_out`` hold exactly this result.

    With ``stage`` (a staging folder already holding the study's other outputs) the record is
    written there and published with them; otherwise a folder holding only the record
    replaces ``study_out`` (so no output of an earlier, different run stays beside it).
    """
    from bme_mri.pipeline.outputs import is_study_output_folder

    if stage is not None:
        write_json_atomic(stage / "study.json", record)
        return
    with staged_folder(study_out, is_study_output_folder) as fresh:
        write_json_atomic(fresh / "study.json", record)


def not_analysed_record(study: Any, study_out: Path, out_root: Path, fingerprint: str, config: Config,
                        reason: str) -> dict[str, Any]:
    """A record for a study that holds nothing bme-mri may measure (no STIR / T2 fat-sat).

    Not a failure: no edema, necrosis or status figure is produced, and ``not_analysed``
    says why and what the study holds instead.
    """
    record = _base_record(study, study_out, out_root, fingerprint, config)
    record["not_analysed"] = reason
    record["series_found"] = [_stack_summary(stack) for stack in study.stacks]
    _publish_or_say_why(record, study_out)
    return record


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not _is_array(getattr(obj, f.name))}
    if isinstance(obj, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and not _is_array(obj):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _is_array(obj: Any) -> bool:
    import numpy as np

    return isinstance(obj, np.ndarray) and obj.ndim > 0


def _stack_summary(stack: Any) -> dict[str, Any] | None:
    if stack is None:
        return None
    return {
        "stack_id": stack.stack_id,
        "series_uid": stack.series_uid,
        "series_number": getattr(stack, "series_number", None),
        "description": getattr(stack, "description", ""),
        "sequence": _jsonable(stack.sequence),
        "orientation": getattr(stack, "orientation", ""),
        "classification_reason": getattr(stack, "classification_reason", ""),
        "error": getattr(stack, "error", None),
    }


def side_records(analysis: Any) -> dict[str, list[dict[str, Any]]]:
    """``sides`` (each side's volumes, null where not measured, and its QC) and
    ``sides_not_analysed`` (sides in view whose femoral head was not found, and why) of an
    analysed study, as study.json holds them (``run`` and ``compare`` alike)."""
    qc_by_side = {getattr(q.side, "value", q.side): q.to_dict() for q in analysis.qc}
    return {"sides": [{**_jsonable(m), "qc": qc_by_side.get(getattr(m.side, "value", m.side))}
                      for m in analysis.measurements],
            "sides_not_analysed": [m.to_dict() for m in analysis.segmentation.missing_heads]}


def process_study(study: Any, study_out: Path, out_root: Path, fingerprint: str, config: Config) -> dict[str, Any]:
    """Analyse one study and write labels, overlays and study.json under ``study_out``.

    The outputs are written to a staging folder and published whole with ``study.json``
    (:func:`bme_mri.io_utils.staged_folder`): an interrupted study leaves nothing in
    ``study_out`` that a rerun would mistake for a result.
    """
    from bme_mri.pipeline.outputs import is_study_output_folder, write_study_outputs
    from bme_mri.pipeline.study import analyse_study

    start = time.perf_counter()
    try:
        analysis = analyse_study(study, config)
        record = _base_record(study, study_out, out_root, fingerprint, config)
        record["series"] = _stack_summary(analysis.selection.analysis)
        record["t1_series"] = _stack_summary(analysis.selection.t1)
        record["selection_reason"] = analysis.selection.reason
        record["geometry"] = analysis.image.geometry.to_dict()
        record["reference_marrow"] = _jsonable(analysis.segmentation.reference)
        record["heads"] = _jsonable(analysis.segmentation.heads)
        write_start = time.perf_counter()
        with staged_folder(study_out, is_study_output_folder) as stage:
            record["outputs"] = write_study_outputs(analysis, stage, out_root, config, final_dir=study_out)
            # after the outputs: writing them may add a warning (e.g. a SEG that was not written)
            unusable = [f"series not used: {stack.error}" for stack in study.stacks
                        if getattr(stack, "error", None)]
            record["warnings"] = list(dict.fromkeys(analysis.warnings + unusable))
            record.update(side_records(analysis))
            record["timings_s"] = {**analysis.timings_s, "write": time.perf_counter() - write_start,
                                   "total": time.perf_counter() - start}
            publish_record(record, study_out, stage)
    except NoEdemaSeriesError as exc:
        return not_analysed_record(study, study_out, out_root, fingerprint, config, str(exc))
    except NoFemoralHeadError as exc:
        return failed_record(study, study_out, out_root, fingerprint, config, str(exc), exc.missing)
    except BmeError as exc:
        return failed_record(study, study_out, out_root, fingerprint, config, str(exc))
    except MemoryError:
        return failed_record(study, study_out, out_root, fingerprint, config,
                             "out of memory while analysing this study; run with fewer --workers")
    except Exception as exc:  # noqa: BLE001 - one study's bug must not stop the batch
        tail = traceback.format_exc(limit=-3).strip().splitlines()[-3:]
        return failed_record(study, study_out, out_root, fingerprint, config,
                             f"internal error {type(exc).__name__}: {exc} [{' | '.join(tail)}]")
    return record
