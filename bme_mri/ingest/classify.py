"""Classify a stack from its headers: what kind of MR series it is, and why.

Classes (:class:`~bme_mri.types.SequenceClass`): stir / t2fs / t2 / t1 / pd / localizer /
dwi / adc / dce / post / dixon / derived / other. Only stir and t2fs are ever analysed; the
others are recognised so that a real exam folder (mostly diffusion, dynamic, localizer and
reformatted series) is listed for what it holds.

Header tags first, names second (vendors name series differently). The order of the tests, each
pattern in ``ingest.classify`` of the config:

1. SOP class Secondary Capture -> derived (screenshots, exported pictures);
2. ImageType localizer -> localizer;
3. diffusion: ImageType map tokens (ADC, EADC, FA) -> adc; ImageType DIFFUSION / TRACEW /
   CALC_BVAL, a b-value tag (standard or vendor), a diffusion SequenceName (Siemens
   ``*ep_b800t``) or an echo-planar ScanningSequence -> dwi;
4. ImageType SUB -> post (subtraction); NumberOfTemporalPositions / a TemporalPositionIdentifier
   -> dce; ContrastBolusAgent -> post;
5. Dixon ImageType tokens: a water image that is T2-weighted (by name or TE/TR) -> t2fs (a
   Dixon water image IS fat-suppressed); other Dixon outputs -> dixon;
6. ImageType reformat / projection tokens -> derived;
7. STIR by physics (inversion recovery with a short TI, which nulls fat);
8. the ordered naming rules over SeriesDescription | ProtocolName | SequenceName (vendor habits:
   Siemens ``tirm``/``*tir2d``/``tse``/``ep2d_diff``, GE ``STIR``/``FSE``/``DWI``, Philips
   ``SPIR``/``SPAIR``/``TSE``/``IR``/``Survey``);
9. finally TE/TR weighting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bme_mri.ingest.headers import b_value_of
from bme_mri.ingest.models import as_float
from bme_mri.ingest.settings import ClassifySettings, IngestSettings
from bme_mri.types import SequenceClass

C = SequenceClass


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


def _int(value: Any) -> int | None:
    number = as_float(value)
    return int(number) if number is not None else None


def classify_stack(headers: Mapping[str, Any], settings: IngestSettings | ClassifySettings
                   ) -> tuple[SequenceClass, str]:
    """Sequence class of a stack and a human-readable reason.

    Parameters
    ----------
    headers : DICOM keyword -> value of the stack (a pydicom Dataset works too): SOPClassUID,
        ImageType, SeriesDescription, ProtocolName, SequenceName, ScanningSequence,
        SequenceVariant, ScanOptions, InversionTime, EchoTime, RepetitionTime (times in ms),
        DiffusionBValue or a vendor b-value tag (s/mm^2), NumberOfTemporalPositions,
        TemporalPositionIdentifier, ContrastBolusAgent.
    settings : the ingest settings (or their ``classify`` part).
    """
    rules = settings.classify if isinstance(settings, IngestSettings) else settings
    image_type = _text(headers.get("ImageType"))
    sop_class = _text(headers.get("SOPClassUID"))

    def image_type_has(pattern: str) -> bool:
        return bool(image_type) and bool(_compile(pattern).search(image_type))

    if sop_class and _compile(rules.secondary_capture_sop_pattern).search(sop_class):
        return C.DERIVED, f"SOP class {sop_class} is Secondary Capture (a picture, not an acquisition)"
    if image_type_has(rules.localizer_image_type_pattern):
        return C.LOCALIZER, f"ImageType '{image_type}' marks a localizer"

    found = _diffusion(headers, rules, image_type)
    if found is not None:
        return found
    found = _contrast(headers, rules, image_type)
    if found is not None:
        return found
    weighting_class, weighting_reason = _weighting(headers, rules)
    found = _dixon(headers, rules, image_type, weighting_class)
    if found is not None:
        return found
    if image_type_has(rules.derived_image_type_pattern):
        return C.DERIVED, f"ImageType '{image_type}' marks a reformat / projection, not an acquisition"

    scanning = " ".join(_text(headers.get(k)) for k in ("ScanningSequence", "SequenceVariant"))
    sequence_name = _text(headers.get("SequenceName"))
    inversion_ms = as_float(headers.get("InversionTime"))
    is_ir = bool(_compile(rules.inversion_scanning_pattern).search(f"{scanning} {sequence_name}"))
    lo, hi = rules.stir_inversion_time_ms
    if inversion_ms is not None and lo <= inversion_ms <= hi:
        why = "inversion recovery" if is_ir else "inversion time"
        return C.STIR, f"{why} with TI {inversion_ms:g} ms in [{lo:g}, {hi:g}] ms (fat nulled)"

    named = _by_name(headers, rules)
    if named is not None:
        return named
    if is_ir and inversion_ms is None:
        return C.STIR, f"inversion recovery ({(scanning + ' ' + sequence_name).strip()}) without TI"
    return weighting_class, weighting_reason


def _names(headers: Mapping[str, Any]) -> str:
    names = [_text(headers.get(k)) for k in ("SeriesDescription", "ProtocolName", "SequenceName")]
    return " | ".join(n for n in names if n)


def _fat_sat(headers: Mapping[str, Any], rules: ClassifySettings) -> str:
    """The ScanOptions text when it names fat saturation, else ''."""
    scan_options = _text(headers.get("ScanOptions"))
    return scan_options if scan_options and _compile(rules.fat_sat_scan_options_pattern).search(scan_options) else ""


def fat_suppression_evidence(headers: Mapping[str, Any], settings: IngestSettings | ClassifySettings) -> str:
    """What a stack's own headers or name say of fat suppression, '' when nothing: ScanOptions
    naming it (``fat_sat_scan_options_pattern``: FS, SPAIR, SPIR...) or a name that does
    (``fat_sat_name_pattern``: pd_spair_cor, cor_pd_tse_fs, pd_sag_fatsat, PDW_SPAIR). Not a class:
    a fat-suppressed PD stays ``pd`` (vendor recognition is the classifier's), but it is no
    contradiction of ``--sequence stir`` / ``t2fs``."""
    rules = settings.classify if isinstance(settings, IngestSettings) else settings
    fat_sat = _fat_sat(headers, rules)
    if fat_sat:
        return f"ScanOptions '{fat_sat}'"
    text = _names(headers)
    match = _compile(rules.fat_sat_name_pattern).search(text) if text else None
    return f"name '{text}' says {match.group(2)}" if match else ""


def no_fat_suppression_evidence(headers: Mapping[str, Any], settings: IngestSettings | ClassifySettings) -> str:
    """Why a stack's headers reliably say its fat is NOT suppressed, '' when they do not.

    Reliable only where the maker writes fat saturation into ScanOptions
    (``no_fat_sat_manufacturer_pattern``: Siemens writes FS for fat-sat and SPAIR), the
    ScanningSequence is present (so a missing ScanOptions means none), there is no inversion (no
    IR, no InversionTime), every ScanOptions token is one known to be something else
    (``plain_scan_options_pattern``: partial Fourier, saturation bands, flow compensation), the
    ImageType holds no Dixon output and neither the name nor :func:`fat_suppression_evidence`
    speaks of fat suppression. Anything else says nothing either way."""
    rules = settings.classify if isinstance(settings, IngestSettings) else settings
    maker = _text(headers.get("Manufacturer")).strip()
    scanning = " ".join(_text(headers.get(k)) for k in ("ScanningSequence", "SequenceVariant")).strip()
    if not maker or not _compile(rules.no_fat_sat_manufacturer_pattern).search(maker) or not _text(
            headers.get("ScanningSequence")).strip():
        return ""
    sequence_name = _text(headers.get("SequenceName"))
    inversion_ms = as_float(headers.get("InversionTime"))
    if _compile(rules.inversion_scanning_pattern).search(f"{scanning} {sequence_name}") or inversion_ms:
        return ""
    if fat_suppression_evidence(headers, rules):
        return ""
    options = _text(headers.get("ScanOptions")).split()
    if any(not _compile(rules.plain_scan_options_pattern).fullmatch(o) for o in options):
        return ""
    rest = " ".join(_text(headers.get("ImageType")).split()[2:])
    if rest and (_compile(rules.dixon_water_image_type_pattern).search(rest)
                 or _compile(rules.dixon_other_image_type_pattern).search(rest)):
        return ""
    named = _by_name(headers, rules)
    if named is not None and named[0] in (C.STIR, C.T2FS, C.DIXON):
        return ""
    return (f"{maker}, ScanningSequence {scanning}, no inversion, ScanOptions "
            f"'{' '.join(options) or 'none'}' without fat saturation"
            + (f", name '{_names(headers)}'" if _names(headers) else ""))


def _diffusion(headers: Mapping[str, Any], rules: ClassifySettings, image_type: str
               ) -> tuple[SequenceClass, str] | None:
    """adc / dwi from ImageType, b-value tags, SequenceName or an EPI readout; else None."""
    if image_type and _compile(rules.diffusion_map_image_type_pattern).search(image_type):
        return C.ADC, f"ImageType '{image_type}' marks a diffusion map"
    b_value = b_value_of(headers)
    b_text = f" (b={b_value:g} s/mm2)" if b_value is not None else ""
    if image_type and _compile(rules.diffusion_image_type_pattern).search(image_type):
        return C.DWI, f"ImageType '{image_type}' marks diffusion-weighted images{b_text}"
    if b_value is not None:
        return C.DWI, f"diffusion b-value tag present{b_text}"
    sequence_name = _text(headers.get("SequenceName"))
    if sequence_name and _compile(rules.diffusion_sequence_name_pattern).search(sequence_name):
        return C.DWI, f"SequenceName '{sequence_name}' is a diffusion sequence"
    for key in ("ScanningSequence", "ScanOptions", "SequenceName"):
        value = _text(headers.get(key)).strip()
        if value and _compile(rules.echo_planar_pattern).search(value):
            named = _by_name(headers, rules)
            if named is not None and named[0] == C.ADC:
                return named
            return C.DWI, f"echo-planar readout ({key} '{value}'): diffusion-type images"
    return None


def _contrast(headers: Mapping[str, Any], rules: ClassifySettings, image_type: str
              ) -> tuple[SequenceClass, str] | None:
    """post (subtraction, contrast agent) / dce (temporal positions); else None."""
    if image_type and _compile(rules.subtraction_image_type_pattern).search(image_type):
        return C.POST, f"ImageType '{image_type}' marks a subtraction"
    positions = _int(headers.get("NumberOfTemporalPositions"))
    if positions is not None and positions >= rules.min_temporal_positions:
        return C.DCE, f"{positions} temporal positions (dynamic series)"
    if headers.get("TemporalPositionIdentifier") not in (None, ""):
        return C.DCE, f"TemporalPositionIdentifier {_text(headers.get('TemporalPositionIdentifier'))} (dynamic series)"
    agent = _text(headers.get("ContrastBolusAgent")).strip()
    if agent:
        return C.POST, f"ContrastBolusAgent '{agent}' (after contrast injection)"
    return None


def _dixon(headers: Mapping[str, Any], rules: ClassifySettings, image_type: str,
           weighting: SequenceClass) -> tuple[SequenceClass, str] | None:
    """t2fs for a T2-weighted Dixon water image, dixon for the other outputs; else None."""
    if not image_type:
        return None
    tokens = image_type.split()[2:]  # after ORIGINAL/DERIVED and PRIMARY/SECONDARY
    rest = " ".join(tokens)
    if rest and _compile(rules.dixon_water_image_type_pattern).search(rest):
        named = _by_name(headers, rules)
        t2_weighted = weighting in (C.T2, C.T2FS) or (named is not None and named[0] in (C.T2, C.T2FS))
        if t2_weighted:
            return C.T2FS, f"ImageType '{image_type}' is a Dixon water image of a T2-weighted series (fat-suppressed)"
        return C.DIXON, f"ImageType '{image_type}' is a Dixon water image, not T2-weighted"
    if rest and _compile(rules.dixon_other_image_type_pattern).search(rest):
        return C.DIXON, f"ImageType '{image_type}' is a Dixon fat / in-phase / opposed-phase image"
    return None


def _by_name(headers: Mapping[str, Any], rules: ClassifySettings) -> tuple[SequenceClass, str] | None:
    """The first naming rule matching description | protocol | sequence name, else None."""
    text = _names(headers)
    if not text:
        return None
    fat_sat = _fat_sat(headers, rules)
    for rule in rules.text_rules:
        if _compile(rule.pattern).search(text):
            if rule.sequence == C.T2 and fat_sat:
                return C.T2FS, f"name '{text}' reads T2 and ScanOptions '{fat_sat}' is fat-sat"
            return rule.sequence, f"name '{text}' matches the {rule.sequence.value} naming rule"
    return None


def _weighting(headers: Mapping[str, Any], rules: ClassifySettings) -> tuple[SequenceClass, str]:
    """t1 / t2 / t2fs / pd from TE and TR (ms), or other."""
    repetition_ms = as_float(headers.get("RepetitionTime"))
    echo_ms = as_float(headers.get("EchoTime"))
    if repetition_ms is None or echo_ms is None:
        return C.OTHER, "no naming rule matched and TE/TR missing"
    weighting = f"TR {repetition_ms:g} ms, TE {echo_ms:g} ms"
    fat_sat = _fat_sat(headers, rules)
    if repetition_ms <= rules.t1_max_repetition_time_ms and echo_ms <= rules.t1_max_echo_time_ms:
        return C.T1, f"{weighting}: short TR and TE (T1-weighted)"
    if repetition_ms >= rules.long_repetition_time_ms:
        if echo_ms >= rules.t2_min_echo_time_ms:
            if fat_sat:
                return C.T2FS, f"{weighting}: long TR and TE with fat-sat ScanOptions '{fat_sat}'"
            return C.T2, f"{weighting}: long TR and TE (T2-weighted)"
        if echo_ms <= rules.pd_max_echo_time_ms:
            return C.PD, f"{weighting}: long TR, short TE (PD-weighted)"
    return C.OTHER, f"{weighting}: no weighting rule matched"
