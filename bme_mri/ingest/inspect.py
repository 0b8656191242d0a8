"""``bme-mri inspect``: what an input holds, which stack would be analysed, and why.

Geometry of every stack is assembled from headers during discovery, so a missing slice or a
mixed orientation shows up here without reading pixel data.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from bme_mri.errors import SeriesSelectionError
from bme_mri.ingest.found import require_images
from bme_mri.ingest.discovery import discover
from bme_mri.ingest.models import InspectResult
from bme_mri.ingest.nifti_input import apply_sequence_override, selection_hint
from bme_mri.ingest.select import select_series
from bme_mri.ingest.settings import IngestSettings
from bme_mri.types import SequenceClass


def inspect_input(path: Path, settings: IngestSettings,
                  sequence_override: SequenceClass | None = None, force: bool = False) -> InspectResult:
    """Discover ``path`` and select the analysis stack of every study.

    ``sequence_override`` (``--sequence``) sets the class of the NIfTI files nothing
    identifies, or of the one file given (refused where that file's sidecar or name says
    otherwise, unless ``force``): :func:`~bme_mri.ingest.nifti_input.apply_sequence_override`.
    """
    discovery = discover(Path(path), settings)
    apply_sequence_override(discovery, sequence_override, force=force, settings=settings)
    selections = {}
    require_images(discovery)  # no image at all: InputError, one line
    errors = {}
    for study in discovery.studies:
        try:
            selections[study.study_uid] = select_series(study, settings)
        except SeriesSelectionError as exc:
            errors[study.study_uid] = str(exc) + selection_hint(study)
    return InspectResult(discovery=discovery, selections=selections, selection_errors=errors)


def render_inspect(result: InspectResult) -> Group:
    """A rich renderable: patient -> study -> series tree, then the skipped files."""
    data = result.to_dict()
    tree = Tree(Text(f"{data['root']}", style="bold"))
    for patient in data["patients"]:
        name = f" ({patient['patient_name']})" if patient["patient_name"] else ""
        patient_id = patient["patient_id"] or "(unknown: no PatientID)"
        patient_node = tree.add(Text(f"patient {patient_id}{name}", style="bold cyan"))
        for study in patient["studies"]:
            study_node = patient_node.add(Text(f"study {study['study_date'] or '(no date)'} {study['study_uid']}"))
            if study["selection_reason"]:
                study_node.add(Text(f"analyse: {study['selection_reason']}", style="green"))
            if study["selection_error"]:
                study_node.add(Text(f"no analysis: {study['selection_error']}", style="red"))
            for series in _folded(study["series"]):
                spacing = ("x".join(f"{v:.2f}" for v in series["spacing_mm"]) + " mm"
                           if series["spacing_mm"] else "?")
                matrix = "x".join(str(v) for v in series["matrix"])
                role = f" <- {series['role']}" if series["role"] else ""
                b_value = f" b={series['b_value']:g}" if series.get("b_value") is not None else ""
                number = f"#{series['series_number']} " if series["series_number"] is not None else ""
                kind = f"{series['sequence']}/{series['subtype']}" if series.get("subtype") else series["sequence"]
                line = Text(f"{number}{series['description']!r} "
                            f"{kind}{b_value} {series['orientation']} {matrix} @ {spacing}{role}",
                            style="green" if series["role"] else "")
                if series.get("folded"):
                    line.append(f"  x{series['folded']} stacks of one series ({series['folded_by']})",
                                style="dim")
                node = study_node.add(line)
                if series["error"]:
                    node.add(Text(f"error: {series['error']}", style="red"))
                for warning in series["warnings"]:
                    node.add(Text(f"warning: {warning}", style="yellow"))
    parts: list = [tree]
    if data["skipped"]:
        skipped = Tree(Text(f"skipped files ({len(data['skipped'])})", style="yellow"))
        for item in data["skipped"]:
            skipped.add(Text(f"{item['path']}: {item['reason']}"))
        parts.append(skipped)
    return Group(*parts)


def _folded(series: list[dict[str, Any]], min_fold: int = 3) -> list[dict[str, Any]]:
    """The series rows of one study with the stacks of one series that look alike (same class,
    plane and matrix, none chosen, e.g. 70 phases of a dynamic series, the b-values of a
    diffusion series, the volumes of an fMRI run) folded into their first row, which gets
    ``folded`` (the count) and ``folded_by`` (what tells them apart); distinct errors stay shown."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    order: list[tuple] = []
    for row in series:
        key = (row["series_uid"], row["sequence"], row.get("subtype"), row["orientation"], tuple(row["matrix"]),
               row["error"] is None) if not row["role"] else (row["stack_id"],)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(row)
    out = []
    for key in order:
        rows = groups[key]
        if len(rows) < min_fold:
            out.extend(rows)
            continue
        first = dict(rows[0])
        first["folded"] = len(rows)
        b_values = sorted({r["b_value"] for r in rows if r.get("b_value") is not None})
        first["folded_by"] = (f"b = {', '.join(f'{b:g}' for b in b_values)}" if len(b_values) > 1
                              else "phases / echoes / volumes")
        first["b_value"] = None if len(b_values) > 1 else first.get("b_value")
        first["warnings"] = sorted({w for r in rows for w in r["warnings"]})
        out.append(first)
    return out


def rounded(value: Any, decimals: int = 3) -> Any:
    """``value`` (nested dicts/lists) with every float rounded to ``decimals`` places (mm to
    the micrometre, ms to the microsecond) and NaN/inf as None, for ``inspect --json``."""
    if isinstance(value, float):
        return round(value, decimals) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: rounded(item, decimals) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item, decimals) for item in value]
    return value


def inspect_json(result: InspectResult) -> dict[str, Any]:
    """:meth:`InspectResult.to_dict` with floats at sensible precision (see :func:`rounded`)."""
    return rounded(result.to_dict())
