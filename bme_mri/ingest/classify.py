"""Classify a stack as stir / t2fs / t2 / t1 / pd / localizer / other from its headers.

The rules (regular expressions, TI/TE/TR ranges) come from ``ingest.classify`` in the config.
Order: ImageType localizer; STIR by physics (inversion recovery with a short TI, which nulls
fat); the ordered naming rules over SeriesDescription | ProtocolName | SequenceName (vendor
habits: Siemens ``tirm``/``*tir2d``/``tse``, GE ``STIR``/``FSE``/``FS``, Philips
``SPIR``/``SPAIR``/``TSE``/``IR``); finally TE/TR weighting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bme_mri.ingest.models import as_float
from bme_mri.ingest.settings import ClassifySettings, IngestSettings
from bme_mri.types import SequenceClass


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _text(value: Any) -> str:
    """A DICOM value (possibly multi-valued) as one space-separated string."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, (str, bytes))):
        return " ".join(str(v) for v in value)
    return str(value).replace("\\", " ")


def _ms(value: Any) -> float | None:
    return as_float(value)


def classify_stack(headers: Mapping[str, Any], settings: IngestSettings | ClassifySettings
                   ) -> tuple[SequenceClass, str]:
    """Sequence class of a stack and a human-readable reason.

    Parameters
    ----------
    headers : DICOM keyword -> value of the stack (a pydicom Dataset works too): ImageType,
        SeriesDescription, ProtocolName, SequenceName, ScanningSequence, SequenceVariant,
        ScanOptions, InversionTime, EchoTime, RepetitionTime (times in ms).
    settings : the ingest settings (or their ``classify`` part).
    """
    rules = settings.classify if isinstance(settings, IngestSettings) else settings
    image_type = _text(headers.get("ImageType"))
    if image_type and _compile(rules.localizer_image_type_pattern).search(image_type):
        return SequenceClass.LOCALIZER, f"ImageType '{image_type}' marks a localizer"

    scanning = " ".join(_text(headers.get(k)) for k in ("ScanningSequence", "SequenceVariant"))
    sequence_name = _text(headers.get("SequenceName"))
    inversion_ms = _ms(headers.get("InversionTime"))
    is_ir = bool(_compile(rules.inversion_scanning_pattern).search(f"{scanning} {sequence_name}"))
    lo, hi = rules.stir_inversion_time_ms
    if inversion_ms is not None and lo <= inversion_ms <= hi:
        why = "inversion recovery" if is_ir else "inversion time"
        return SequenceClass.STIR, f"{why} with TI {inversion_ms:g} ms in [{lo:g}, {hi:g}] ms (fat nulled)"

    scan_options = _text(headers.get("ScanOptions"))
    fat_sat = bool(scan_options) and bool(_compile(rules.fat_sat_scan_options_pattern).search(scan_options))
    names = [_text(headers.get(k)) for k in ("SeriesDescription", "ProtocolName", "SequenceName")]
    text = " | ".join(n for n in names if n)
    for rule in rules.text_rules:
        if text and _compile(rule.pattern).search(text):
            if rule.sequence == SequenceClass.T2 and fat_sat:
                return SequenceClass.T2FS, f"name '{text}' reads T2 and ScanOptions '{scan_options}' is fat-sat"
            return rule.sequence, f"name '{text}' matches the {rule.sequence.value} naming rule"

    repetition_ms = _ms(headers.get("RepetitionTime"))
    echo_ms = _ms(headers.get("EchoTime"))
    if is_ir and inversion_ms is None:
        return SequenceClass.STIR, f"inversion recovery ({(scanning + ' ' + sequence_name).strip()}) without TI"
    if repetition_ms is None or echo_ms is None:
        return SequenceClass.OTHER, "no naming rule matched and TE/TR missing"
    weighting = f"TR {repetition_ms:g} ms, TE {echo_ms:g} ms"
    if repetition_ms <= rules.t1_max_repetition_time_ms and echo_ms <= rules.t1_max_echo_time_ms:
        return SequenceClass.T1, f"{weighting}: short TR and TE (T1-weighted)"
    if repetition_ms >= rules.long_repetition_time_ms:
        if echo_ms >= rules.t2_min_echo_time_ms:
            if fat_sat:
                return SequenceClass.T2FS, f"{weighting}: long TR and TE with fat-sat ScanOptions '{scan_options}'"
            return SequenceClass.T2, f"{weighting}: long TR and TE (T2-weighted)"
        if echo_ms <= rules.pd_max_echo_time_ms:
            return SequenceClass.PD, f"{weighting}: long TR, short TE (PD-weighted)"
    return SequenceClass.OTHER, f"{weighting}: no weighting rule matched"
