"""Load and validate configuration: ``configs/default.yaml`` merged with a user YAML file.

A user file only needs the keys it changes. An unknown or mistyped key is rejected with a
:class:`~bme_mri.errors.ConfigError` naming it (``segment.edema_thresold: unknown key``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bme_mri.compare.settings import CompareSettings
from bme_mri.errors import ConfigError
from bme_mri.ingest.settings import IngestSettings
from bme_mri.phantom.settings import PhantomSettings
from bme_mri.pipeline.settings import PipelineSettings
from bme_mri.quantify.settings import QcSettings, QuantifySettings
from bme_mri.report.settings import ReportSettings
from bme_mri.segment.settings import SegmentSettings
from bme_mri.settings import Section

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"


class Config(Section):
    """The whole configuration; one section per pipeline stage."""

    ingest: IngestSettings
    phantom: PhantomSettings
    segment: SegmentSettings
    quantify: QuantifySettings
    compare: CompareSettings
    report: ReportSettings
    pipeline: PipelineSettings
    qc: QcSettings

    def digest(self) -> str:
        """Short SHA-256 of the canonical JSON of this config (for reproducibility)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of sections, got {type(data).__name__}")
    return data


def _merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            merged[key] = value
    return merged


def load_config(path: Path | str | None = None) -> Config:
    """Default config, with the user's YAML file (if given) merged over it."""
    data = _read_yaml(DEFAULT_CONFIG_PATH)
    if path is not None:
        data = _merge(data, _read_yaml(Path(path)))
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        source = path or DEFAULT_CONFIG_PATH
        problems = [_problem(err) for err in exc.errors()]
        raise ConfigError(f"config {source}: " + "; ".join(problems)) from exc


_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
           "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}


def _problem(err: dict[str, Any]) -> str:
    """One pydantic error as 'dotted.key: what is wrong (got value)', on one line.

    Bounds read "segment.edema.k_sd must be >= 0 (got -1)"; a model validator's message
    starts with the field it names and is prefixed with its section's key
    ("segment.localize.radius_min_mm must be < radius_max_mm (got 30 >= 18)").
    """
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        text = f"{loc}: unknown key"
    elif kind == "missing":
        text = f"{loc}: missing key"
    elif kind in _BOUNDS and _BOUNDS[kind][0] in ctx:
        text = f"{loc} must be {_BOUNDS[kind][1]} {ctx[_BOUNDS[kind][0]]} (got {err.get('input')!r})"
    elif kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
        first = message.split(" ", 1)[0]
        text = f"{loc}.{message}" if loc and first.isidentifier() and first.islower() and "_" in first \
            else f"{loc} {message}" if loc else message
    else:
        text = f"{loc}: {err['msg']} (got {err.get('input')!r})" if "input" in err else f"{loc}: {err['msg']}"
    return " ".join(text.split())
