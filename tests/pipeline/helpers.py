"""Helpers shared by the pipeline tests."""

from __future__ import annotations


def lesion_numbers(obj, path: str = "") -> list[str]:
    """Every edema or necrosis number anywhere in ``obj`` (a study.json side, walked whole): keys
    naming edema or necrosis with a number under them ('edema_threshold' is a grey level, not a
    figure)."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            where = f"{path}.{key}"
            lesion_key = ("edema" in key or "necrosis" in key) and key != "edema_threshold"
            if lesion_key and isinstance(value, (int, float)) and not isinstance(value, bool):
                found.append(f"{where}={value}")
            found += lesion_numbers(value, where)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += lesion_numbers(value, f"{path}[{i}]")
    return found
