"""Classify a stack from its headers: what kind of MR series it is, and why.

Classes (:class:`~bme_mri.types.SequenceClass`): stir / t2fs / t2 / t1 / pd / localizer /
dwi / adc / dce / post / dixon / derived / other. Only stir and t2fs are ever analysed; the
others are recognised so that a real exam folder (mostly diffusion, dynamic, localizer and
reformatted series) is listed for what it holds. ``other`` carries a subtype where the headers
say what it is: ``bold``, ``asl``, ``fieldmap``, ``parametric_map``, ``swi``, ``flair``,
``t2star`` (gradient echo that is not T1-weighted), ``epi`` (echo-planar without diffusion
evidence) or ``dynamic`` (a time series without contrast evidence).

Header tags first, names second (vendors name series differently), the way dcm2niix reads
vendors; the order of the tests and every pattern are in ``ingest.classify`` of the config
(``configs/default.yaml`` lists the order). Vendor traps the rules encode:

* GE writes its b-value slot (0043,1039) = 0 and Philips DiffusionBValue 0 on every image of
  every series: a b-value counts as diffusion only with diffusion evidence (ImageType
  DIFFUSION, a b > 0 somewhere in the series, a diffusion sequence name, DiffusionDirectionality);
* an echo-planar readout is not diffusion on its own (BOLD fMRI and ASL are EPI);
* a temporal position is a contrast phase only with contrast evidence (a contrast agent, a
  dynamic or post-contrast name): fMRI and field maps have temporal positions too;
* inversion recovery with a long TI is FLAIR (fluid nulled), never STIR (fat nulled), and a name
  saying STIR, T2 or T2 fat-sat is not taken where the readout (gradient echo, EPI) or the TI
  says otherwise.

Series-level facts computed by discovery ride along in the headers mapping: ``SeriesBValues``
(every b-value of the series, s/mm^2), ``SeriesTemporalPositions`` (distinct temporal positions)
and ``SeriesRepeatedPositions`` (most images at one slice position for one echo / b / phase:
a time series).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bme_mri.ingest.headers import b_value_of
from bme_mri.ingest.models import as_float
from bme_mri.ingest.settings import ClassifySettings, IngestSettings
from bme_mri.types import SequenceClass

C = SequenceClass


@dataclass(frozen=True)
class Classification:
    """What a stack is: its class, why (one line for a user), and for ``other`` what kind
    (``bold``, ``asl``, ``fieldmap``, ``parametric_map``, ``swi``, ``flair``, ``t2star``,
    ``epi``, ``dynamic``; '' when the headers do not say)."""

    sequence: SequenceClass
    reason: str
    subtype: str = ""

    @property
    def label(self) -> str:
        """'other/bold', 'stir', ... as ``inspect`` prints it."""
        return f"{self.sequence.value}/{self.subtype}" if self.subtype else self.sequence.value


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


def _rules(settings: IngestSettings | ClassifySettings) -> ClassifySettings:
    return settings.classify if isinstance(settings, IngestSettings) else settings


def classify_stack(headers: Mapping[str, Any], settings: IngestSettings | ClassifySettings) -> Classification:
    """Sequence class of a stack, a human-readable reason and the ``other`` subtype.

    Parameters
    ----------
    headers : DICOM keyword -> value of the stack (a pydicom Dataset works too): SOPClassUID,
        ImageType, SeriesDescription, ProtocolName, SequenceName, ScanningSequence,
        SequenceVariant, ScanOptions, InversionTime, EchoTime, RepetitionTime (times in ms),
        DiffusionBValue or a vendor b-value tag (s/mm^2), DiffusionDirectionality,
        AcquisitionContrast, EchoPulseSequence, NumberOfTemporalPositions,
        TemporalPositionIdentifier, ContrastBolusAgent, and the series facts of discovery
        (``SeriesBValues``, ``SeriesTemporalPositions``, ``SeriesRepeatedPositions``).
    settings : the ingest settings (or their ``classify`` part).
    """
    rules = _rules(settings)
    facts = _Facts(headers, rules)
    image_type = facts.image_type

    if facts.sop_class and _compile(rules.secondary_capture_sop_pattern).search(facts.sop_class):
        return Classification(C.DERIVED, f"SOP class {facts.sop_class} is Secondary Capture "
                                         "(a picture, not an acquisition)")
    if image_type and _compile(rules.localizer_image_type_pattern).search(image_type):
        return Classification(C.LOCALIZER, f"ImageType '{image_type}' marks a localizer")
    if facts.names and _compile(rules.localizer_name_pattern).search(facts.names):
        return Classification(C.LOCALIZER, f"name '{facts.names}' names a localizer")
    for step in (_diffusion, _other_kind, _echo_planar, _contrast):
        found = step(facts, rules)
        if found is not None:
            return found
    weighting = _weighting(facts, rules)
    found = _dixon(facts, rules, weighting.sequence)
    if found is not None:
        return found
    if image_type and _compile(rules.derived_image_type_pattern).search(image_type):
        return Classification(C.DERIVED, f"ImageType '{image_type}' marks a reformat / projection, not an acquisition")
    found = _inversion(facts, rules)
    if found is not None:
        return found
    named = _by_name(headers, rules, facts)
    if named is not None:
        return named
    return weighting


class _Facts:
    """The header facts the rules read, decoded once."""

    def __init__(self, headers: Mapping[str, Any], rules: ClassifySettings):
        self.headers = headers
        self.image_type = _text(headers.get("ImageType"))
        self.sop_class = _text(headers.get("SOPClassUID"))
        self.names = _names(headers)
        self.sequence_name = _text(headers.get("SequenceName"))
        self.scanning_tokens = set(_text(headers.get("ScanningSequence")).upper().split())
        self.scanning = " ".join(_text(headers.get(k)) for k in ("ScanningSequence", "SequenceVariant")).strip()
        self.inversion_ms = as_float(headers.get("InversionTime"))
        self.repetition_ms = as_float(headers.get("RepetitionTime"))
        self.echo_ms = as_float(headers.get("EchoTime"))
        self.contrast = _text(headers.get("AcquisitionContrast")).strip().upper()
        echo_pulse = _text(headers.get("EchoPulseSequence")).strip().upper()
        tag_text = " ".join((_text(headers.get("ScanningSequence")), _text(headers.get("ScanOptions")),
                             self.sequence_name, self.image_type))
        self.echo_planar = bool(_compile(rules.echo_planar_pattern).search(tag_text)) or (
            _text(headers.get("EchoPlanarPulseSequence")).strip().upper() == "YES") or bool(
            self.names and _compile(rules.echo_planar_name_pattern).search(self.names))
        gradient_text = " ".join((self.sequence_name, self.image_type, self.names))
        self.gradient = (("GR" in self.scanning_tokens and "SE" not in self.scanning_tokens)
                         or echo_pulse == "GRADIENT"
                         or bool(_compile(rules.gradient_echo_pattern).search(gradient_text)))
        self.spin_echo_epi = self.echo_planar and not self.gradient and (
            bool(_compile(rules.spin_echo_epi_pattern).search(
                " ".join((_text(headers.get("ScanningSequence")), self.sequence_name, self.names))))
            or echo_pulse == "SPIN")
        self.inversion = bool(_compile(rules.inversion_scanning_pattern).search(
            f"{self.scanning} {self.sequence_name}")) or _text(
            headers.get("InversionRecovery")).strip().upper() == "YES"
        b_values = headers.get("SeriesBValues")
        own = self.b_value = b_value_of(headers)  # this stack's b-value (s/mm^2), or None
        values = [float(b) for b in (b_values or ())] + ([own] if own is not None else [])
        self.b_values = sorted(set(values))
        positions = max(_int(headers.get("NumberOfTemporalPositions")) or 0,
                        _int(headers.get("SeriesTemporalPositions")) or 0)
        self.temporal_positions = positions
        self.repeated = _int(headers.get("SeriesRepeatedPositions")) or 0
        self.time_series = positions >= rules.min_temporal_positions or self.repeated >= 2
        self.agent = _text(headers.get("ContrastBolusAgent")).strip()


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
    rules = _rules(settings)
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
    rules = _rules(settings)
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
    named = _name_rule(_names(headers), rules)
    if named is not None and named.sequence in (C.STIR, C.T2FS, C.DIXON):
        return ""
    return (f"{maker}, ScanningSequence {scanning}, no inversion, ScanOptions "
            f"'{' '.join(options) or 'none'}' without fat saturation"
            + (f", name '{_names(headers)}'" if _names(headers) else ""))


def _diffusion(facts: _Facts, rules: ClassifySettings) -> Classification | None:
    """adc from ImageType map tokens; dwi only with diffusion evidence; else None."""
    image_type = facts.image_type
    if image_type and _compile(rules.diffusion_map_image_type_pattern).search(image_type):
        return Classification(C.ADC, f"ImageType '{image_type}' marks a diffusion map")
    own = facts.b_value
    b_text = f" (b={own:g} s/mm2)" if own is not None else ""
    if image_type and _compile(rules.diffusion_image_type_pattern).search(image_type):
        return Classification(C.DWI, f"ImageType '{image_type}' marks diffusion-weighted images{b_text}")
    if facts.b_values and facts.b_values[-1] > 0:
        listed = ", ".join(f"{b:g}" for b in facts.b_values)
        return Classification(C.DWI, f"diffusion b-values {listed} s/mm2 in the series{b_text}")
    if facts.sequence_name and _compile(rules.diffusion_sequence_name_pattern).search(facts.sequence_name):
        return Classification(C.DWI, f"SequenceName '{facts.sequence_name}' is a diffusion sequence{b_text}")
    directionality = _text(facts.headers.get("DiffusionDirectionality")).strip()
    if directionality and _compile(rules.diffusion_directionality_pattern).search(directionality):
        return Classification(C.DWI, f"DiffusionDirectionality {directionality}{b_text}")
    if facts.contrast == "DIFFUSION":
        return Classification(C.DWI, f"AcquisitionContrast DIFFUSION{b_text}")
    return None


def _other_kind(facts: _Facts, rules: ClassifySettings) -> Classification | None:
    """other/<subtype> from the ``other_rules`` (ImageType tokens, then names); else None."""
    for rule in rules.other_rules:
        if rule.image_type and facts.image_type and _compile(rule.image_type).search(facts.image_type):
            return Classification(C.OTHER, f"ImageType '{facts.image_type}' marks {_KIND[rule.subtype]}",
                                  rule.subtype)
    for rule in rules.other_rules:
        if rule.name and facts.names and _compile(rule.name).search(facts.names):
            return Classification(C.OTHER, f"name '{facts.names}' names {_KIND[rule.subtype]}", rule.subtype)
    if facts.contrast in ("FLUID_ATTENUATED", "FLAIR"):
        return Classification(C.OTHER, f"AcquisitionContrast {facts.contrast} (fluid nulled, not STIR)", "flair")
    return None


_KIND = {
    "swi": "susceptibility-weighted imaging", "fieldmap": "a field map", "parametric_map":
    "a parametric (relaxation) map", "asl": "arterial spin labelling", "bold": "BOLD fMRI",
    "flair": "FLAIR", "t2star": "a T2*-weighted gradient echo", "epi": "an echo-planar series",
    "dynamic": "a time series",
}


def _echo_planar(facts: _Facts, rules: ClassifySettings) -> Classification | None:
    """An EPI readout without diffusion evidence: dwi by a diffusion name or a spin-echo EPI
    readout (diffusion's), other/bold for gradient-echo EPI or an EPI time series, else
    other/epi. None when the readout is not echo-planar."""
    if not facts.echo_planar:
        return None
    named = _name_rule(facts.names, rules)
    if named is not None and named.sequence in (C.DWI, C.ADC):
        return Classification(named.sequence, f"name '{facts.names}' matches the {named.sequence.value} "
                                              "naming rule (echo-planar readout)")
    what = f"echo-planar readout ({facts.scanning or facts.sequence_name or facts.names})"
    echo = f", TE {facts.echo_ms:g} ms" if facts.echo_ms is not None else ""
    if facts.spin_echo_epi and not facts.time_series:
        return Classification(C.DWI, f"spin-echo {what}{echo} without diffusion tags: diffusion-type images")
    short_echo = (not facts.gradient and not facts.spin_echo_epi and facts.echo_ms is not None
                  and facts.echo_ms <= rules.gradient_epi_max_echo_time_ms)
    if facts.gradient or short_echo or facts.time_series:
        kind = ("gradient-echo " if facts.gradient else
                f"(TE <= {rules.gradient_epi_max_echo_time_ms:g} ms: gradient-echo) " if short_echo else "")
        series = (f", {max(facts.temporal_positions, facts.repeated)} time points" if facts.time_series else "")
        return Classification(C.OTHER, f"{kind}{what}{echo}{series}, no diffusion evidence: BOLD / "
                                       "T2*-weighted, not diffusion", "bold")
    return Classification(C.OTHER, f"{what}{echo} without diffusion evidence (no DIFFUSION ImageType, no b > 0, "
                                   "no diffusion sequence name): not taken for diffusion", "epi")


def _contrast_named(facts: _Facts, rules: ClassifySettings) -> str:
    """The contrast evidence of a time series: the agent, or a dynamic / post-contrast name."""
    if facts.agent:
        return f"ContrastBolusAgent '{facts.agent}'"
    named = _name_rule(facts.names, rules)
    if named is not None and named.sequence in (C.DCE, C.POST):
        return f"name '{facts.names}' ({named.sequence.value} naming rule)"
    return ""


def _contrast(facts: _Facts, rules: ClassifySettings) -> Classification | None:
    """post (subtraction, contrast agent) / dce (a time series with contrast evidence) /
    other/dynamic (a time series without); else None."""
    image_type = facts.image_type
    if image_type and _compile(rules.subtraction_image_type_pattern).search(image_type):
        return Classification(C.POST, f"ImageType '{image_type}' marks a subtraction")
    if (facts.time_series and facts.gradient and not _contrast_named(facts, rules)
            and facts.repetition_ms is not None and facts.repetition_ms > rules.t1_max_repetition_time_ms):
        return Classification(C.OTHER, f"gradient echo with TR {facts.repetition_ms:g} ms repeated over "
                                       f"{max(facts.temporal_positions, facts.repeated)} time points, no contrast "
                                       "evidence: BOLD fMRI", "bold")
    identifier = facts.headers.get("TemporalPositionIdentifier")
    if facts.temporal_positions >= rules.min_temporal_positions or identifier not in (None, ""):
        phases = (f"{facts.temporal_positions} temporal positions" if facts.temporal_positions
                  else f"TemporalPositionIdentifier {_text(identifier)}")
        evidence = _contrast_named(facts, rules)
        if evidence:
            return Classification(C.DCE, f"{phases} with {evidence} (dynamic contrast series)")
        if facts.temporal_positions >= rules.min_temporal_positions:
            return Classification(C.OTHER, f"{phases} without contrast evidence (no ContrastBolusAgent, no "
                                           "dynamic or post-contrast name): a time series, not a contrast phase",
                                  "dynamic")
    if facts.agent:
        return Classification(C.POST, f"ContrastBolusAgent '{facts.agent}' (after contrast injection)")
    return None


def _dixon(facts: _Facts, rules: ClassifySettings, weighting: SequenceClass) -> Classification | None:
    """t2fs for a T2-weighted Dixon water image, dixon for the other outputs; else None."""
    image_type = facts.image_type
    if not image_type:
        return None
    tokens = image_type.split()[2:]  # after ORIGINAL/DERIVED and PRIMARY/SECONDARY
    rest = " ".join(tokens)
    if rest and _compile(rules.dixon_water_image_type_pattern).search(rest):
        named = _name_rule(facts.names, rules)
        t2_weighted = not facts.gradient and (
            weighting in (C.T2, C.T2FS) or (named is not None and named.sequence in (C.T2, C.T2FS)))
        if t2_weighted:
            return Classification(C.T2FS, f"ImageType '{image_type}' is a Dixon water image of a T2-weighted "
                                          "series (fat-suppressed)")
        return Classification(C.DIXON, f"ImageType '{image_type}' is a Dixon water image, not T2-weighted")
    if rest and _compile(rules.dixon_other_image_type_pattern).search(rest):
        return Classification(C.DIXON, f"ImageType '{image_type}' is a Dixon fat / in-phase / opposed-phase image")
    return None


def _inversion(facts: _Facts, rules: ClassifySettings) -> Classification | None:
    """STIR by physics (inversion time in the STIR range, a long TR, not a gradient-echo
    readout); other/flair for inversion with a fluid-nulling TI; else None."""
    ti = facts.inversion_ms
    if ti is None or ti <= 0:
        return None
    lo, hi = rules.stir_inversion_time_ms
    if lo <= ti <= hi:
        if facts.gradient:
            return None  # an IR-prepared gradient echo (MPRAGE, BRAVO): a T1, decided by TE/TR
        if facts.repetition_ms is not None and facts.repetition_ms < rules.stir_min_repetition_time_ms:
            return None
        why = "inversion recovery" if facts.inversion else "inversion time"
        return Classification(C.STIR, f"{why} with TI {ti:g} ms in [{lo:g}, {hi:g}] ms (fat nulled)")
    if ti >= rules.flair_min_inversion_time_ms and not facts.gradient:
        return Classification(C.OTHER, f"inversion with TI {ti:g} ms >= {rules.flair_min_inversion_time_ms:g} ms "
                                       "nulls fluid (FLAIR), not fat: never STIR", "flair")
    return None


def _name_rule(text: str, rules: ClassifySettings):
    """The first naming rule matching ``text`` (description | protocol | sequence name), or None."""
    if not text:
        return None
    for rule in rules.text_rules:
        if _compile(rule.pattern).search(text):
            return rule
    return None


def _name_conflict(sequence: SequenceClass, facts: _Facts, rules: ClassifySettings) -> str:
    """Why the physics tags contradict a name saying ``sequence``, '' when they do not."""
    if sequence in (C.STIR, C.T2FS, C.T2) and facts.echo_planar:
        return "the readout is echo-planar"
    if sequence in (C.STIR, C.T2FS, C.T2) and facts.gradient:
        return "the readout is gradient echo"
    if sequence == C.PD and facts.echo_planar:
        return "the readout is echo-planar"
    ti = facts.inversion_ms
    if sequence == C.STIR:
        lo, hi = rules.stir_inversion_time_ms
        if ti is not None and ti > 0 and not lo <= ti <= hi:
            return f"TI {ti:g} ms is outside the STIR range [{lo:g}, {hi:g}] ms"
        if (ti is None or ti <= 0) and facts.scanning_tokens and not facts.inversion:
            return f"ScanningSequence {' '.join(sorted(facts.scanning_tokens))} has no inversion and there is no TI"
    if sequence in (C.STIR, C.T2FS, C.T2) and facts.repetition_ms is not None and (
            facts.repetition_ms <= rules.t1_max_repetition_time_ms and facts.echo_ms is not None
            and facts.echo_ms <= rules.t1_max_echo_time_ms):
        return f"TR {facts.repetition_ms:g} ms and TE {facts.echo_ms:g} ms are T1 weighting"
    return ""


def _by_name(headers: Mapping[str, Any], rules: ClassifySettings, facts: _Facts) -> Classification | None:
    """The first naming rule matching description | protocol | sequence name whose class the
    physics tags do not contradict, else None."""
    text = facts.names
    if not text:
        return None
    fat_sat = _fat_sat(headers, rules)
    for rule in rules.text_rules:
        if not _compile(rule.pattern).search(text):
            continue
        sequence = C.T2FS if rule.sequence == C.T2 and fat_sat else rule.sequence
        conflict = _name_conflict(sequence, facts, rules)
        if conflict:
            return _weighting(facts, rules, note=f"name '{text}' reads {sequence.display} but {conflict}")
        if sequence != rule.sequence:
            return Classification(C.T2FS, f"name '{text}' reads T2 and ScanOptions '{fat_sat}' is fat-sat")
        return Classification(rule.sequence, f"name '{text}' matches the {rule.sequence.value} naming rule")
    return None


def _weighting(facts: _Facts, rules: ClassifySettings, note: str = "") -> Classification:
    """t1 / t2 / t2fs / pd from TE and TR (ms) of a spin-echo readout; t1 or other/t2star of a
    gradient echo; or other. ``note`` (a name the physics contradicted) leads the reason."""
    lead = f"{note}; " if note else ""
    if facts.repetition_ms is None or facts.echo_ms is None:
        return Classification(C.OTHER, f"{lead}no naming rule matched and TE/TR missing")
    repetition_ms, echo_ms = facts.repetition_ms, facts.echo_ms
    weighting = f"TR {repetition_ms:g} ms, TE {echo_ms:g} ms"
    max_echo = rules.t1_max_gradient_echo_time_ms if facts.gradient else rules.t1_max_echo_time_ms
    if repetition_ms <= rules.t1_max_repetition_time_ms and echo_ms <= max_echo:
        return Classification(C.T1, f"{lead}{weighting}: short TR and TE (T1-weighted)")
    if facts.gradient:
        return Classification(C.OTHER, f"{lead}gradient echo, {weighting}: T2*-weighted, not a spin-echo "
                                       "T2 / PD", "t2star")
    fat_sat = _fat_sat(facts.headers, rules)
    if repetition_ms >= rules.long_repetition_time_ms:
        if echo_ms >= rules.t2_min_echo_time_ms:
            if fat_sat:
                return Classification(C.T2FS, f"{lead}{weighting}: long TR and TE with fat-sat ScanOptions "
                                              f"'{fat_sat}'")
            return Classification(C.T2, f"{lead}{weighting}: long TR and TE (T2-weighted)")
        if echo_ms <= rules.pd_max_echo_time_ms:
            return Classification(C.PD, f"{lead}{weighting}: long TR, short TE (PD-weighted)")
    return Classification(C.OTHER, f"{lead}{weighting}: no weighting rule matched")
