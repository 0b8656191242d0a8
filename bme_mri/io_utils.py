"""Output helpers: sanitised names, atomic writes, and the input-is-read-only guard.

Every file bme-mri writes goes through :func:`atomic_path` (write to a temp file in the
destination folder, then ``os.replace``), so a crashed run leaves no half-written outputs.
"""

from __future__ import annotations

import contextlib
import csv
import math
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from bme_mri.errors import OutputError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(value: str, fallback: str = "unknown", max_len: int = 64) -> str:
    """A file-system-safe single path component built from an untrusted DICOM value.

    Path separators, ``..`` and any character outside ``[A-Za-z0-9._-]`` are replaced, so
    ``'../../x'`` becomes ``'x'``-like and can never escape the output folder. When the value
    had to be changed, a short hash of the original is appended so two distinct IDs never
    collide.
    """
    raw = str(value or "")
    cleaned = _UNSAFE.sub("_", raw).strip("._-")
    cleaned = re.sub(r"_+", "_", cleaned)[:max_len] or fallback
    if cleaned != raw:
        digest = hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        cleaned = f"{cleaned}_{digest}"
    return cleaned


def contained_path(root: Path, *parts: str) -> Path:
    """``root / safe parts``, verified to stay inside ``root``."""
    root = Path(root).resolve()
    path = root.joinpath(*(safe_name(p) for p in parts)).resolve()
    if root != path and root not in path.parents:
        raise OutputError(f"refusing to write outside the output folder: {path}")
    return path


@contextlib.contextmanager
def atomic_path(destination: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``destination``; on success rename it into place.

    The temp file keeps the destination's suffix(es) so writers that infer the format from
    the extension (nibabel, matplotlib) still work. On error the temp file is removed.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(destination.suffixes)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.stem}.", suffix=f".tmp{suffix}",
                                    dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; outputs are shareable
        os.replace(tmp, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_STAGING_MARK = ".partial-"
_RETIRED_MARK = ".retired-"


@contextlib.contextmanager
def staged_folder(destination: Path, replaceable: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield an empty staging folder beside ``destination``; on success it replaces
    ``destination`` whole (a folder of results appears complete or not at all).

    An existing ``destination`` is replaced only when it is an empty folder or
    ``replaceable(destination)`` says it holds nothing but this tool's earlier results;
    anything else (a user's folder, an input) raises :class:`OutputError` before anything is
    written. The old folder is renamed aside, the staging folder renamed into place, and the
    old one removed. On error the staging folder is removed and the old folder put back. A
    killed process leaves hidden ``.NAME.partial-*`` / ``.NAME.retired-*`` folders, which
    :func:`remove_stale_staging` clears (or restores) on the next run.
    """
    import shutil

    destination = Path(destination)
    _require_replaceable(destination, replaceable)
    destination.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{destination.name}{_STAGING_MARK}", dir=destination.parent))
    os.chmod(stage, 0o777 & ~_current_umask())
    try:
        yield stage
        _require_replaceable(destination, replaceable)  # unchanged while the stage was written?
        retired = None
        if destination.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{destination.name}{_RETIRED_MARK}",
                                            dir=destination.parent))
            os.replace(destination, retired / destination.name)
        try:
            os.replace(stage, destination)
        except BaseException:
            if retired is not None and not destination.exists():
                os.replace(retired / destination.name, destination)
            raise
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _require_replaceable(destination: Path, replaceable: Callable[[Path], bool] | None) -> None:
    if not destination.exists() and not destination.is_symlink():
        return
    if destination.is_dir() and not destination.is_symlink():
        if not any(destination.iterdir()) or (replaceable is not None and replaceable(destination)):
            return
    raise OutputError(f"refusing to replace {destination}: it exists and holds something other than "
                      "bme-mri's results for it; choose another output folder")


# the temporary file atomic_path() writes before its rename: '.<stem>.<random>.tmp<suffix>'
_TEMP_FILE = re.compile(r"\.[^/]*\.tmp(\.[A-Za-z0-9]+)*")


def remove_stale_staging(root: Path, depth: int = 3) -> int:
    """Clear what killed runs left under ``root`` (``depth`` levels): staging folders and the
    temporary files of unfinished atomic writes are removed; a retired folder whose result was
    never replaced is put back. Returns the count."""
    import shutil

    removed = 0
    root = Path(root)
    for level in range(1, depth + 1):
        pattern = "/".join(["*"] * (level - 1) + [".*"])
        for path in root.glob(pattern):
            if path.is_file() and _TEMP_FILE.fullmatch(path.name):  # an atomic write a killed run left
                path.unlink(missing_ok=True)
                removed += 1
                continue
            if not path.is_dir():
                continue
            if _RETIRED_MARK in path.name:
                name = path.name[1:].split(_RETIRED_MARK)[0]
                if (path / name).is_dir() and not (path.parent / name).exists():
                    os.replace(path / name, path.parent / name)
            elif _STAGING_MARK not in path.name:
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def write_text_atomic(destination: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(destination: Path, payload: Any) -> None:
    """Write JSON (indent 2, sorted keys) atomically; numpy scalars are converted."""
    write_text_atomic(destination, json.dumps(payload, indent=2, sort_keys=True,
                                              default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "value"):  # enums
        return obj.value
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def ensure_outside(output: Path, inputs: list[Path]) -> None:
    """Refuse an output folder equal to or inside any input folder (inputs are read-only),
    or one that exists as a file."""
    out = Path(output).resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {output} is an existing file; give a folder (new or existing)")
    for item in inputs:
        src_dir = Path(item).resolve()
        if not src_dir.is_dir():  # a single input file: only its own path is off limits
            if out == src_dir:
                raise OutputError(f"output {out} is the input file itself; choose another")
            continue
        if out == src_dir or src_dir in out.parents:
            raise OutputError(
                f"output folder {out} is inside the input {src_dir}; inputs are never written "
                "to — choose an output folder outside the input tree"
            )


def csv_cell(value: Any, float_digits: int = 4) -> str:
    """One CSV cell: '' for None/NaN, true/false for booleans, fixed decimals for floats.

    Text that would start a spreadsheet formula (=, +, @) is prefixed with a quote, so a
    hostile DICOM value cannot run anything when a researcher opens the table.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.{float_digits}f}"
    text = str(getattr(value, "value", value))
    return "'" + text if text[:1] in ("=", "+", "@") else text


def write_csv_atomic(path: Path, columns: list[str], rows: Iterable[dict[str, Any]],
                     float_digits: int = 4) -> Path:
    """Write dict ``rows`` with exactly ``columns`` (header always), atomically, with LF line
    endings (the csv module's default is CRLF, which shows as ^M in most Unix tools)."""
    with atomic_path(Path(path)) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c), float_digits) for c in columns])
    return Path(path)
