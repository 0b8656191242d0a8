"""Series selection: coronal STIR first, later of repeats, T1 companion, one-line refusal."""

from __future__ import annotations

import pytest

from bme_mri.errors import NoEdemaSeriesError, SeriesSelectionError
from bme_mri.ingest import StackInfo, StudyInfo, discover, select_series
from bme_mri.types import SequenceClass as C
from tests.ingest.conftest import AXIAL, CORONAL, make_geometry, write_series


def _stack(number: int, sequence: C, orientation: str, description: str, n_slices: int = 20,
           error: str | None = None) -> StackInfo:
    return StackInfo(stack_id=f"1.2.{number}", series_uid=f"1.2.{number}", series_number=number,
                     description=description, protocol="", manufacturer="", modality="MR",
                     sequence=sequence, classification_reason="test", orientation=orientation,
                     rows=256, columns=256, n_slices=n_slices, pixel_spacing=(1.0, 1.0), error=error)


def _study(*stacks: StackInfo) -> StudyInfo:
    return StudyInfo("P", "", "1.2.3", "2024-01-31", "", list(stacks))


FULL = [
    _stack(1, C.LOCALIZER, "coronal", "3-plane loc", n_slices=3),
    _stack(3, C.T1, "coronal", "COR T1"),
    _stack(4, C.STIR, "axial", "AX STIR"),
    _stack(5, C.STIR, "coronal", "COR STIR"),
    _stack(6, C.T2FS, "coronal", "COR T2 FS"),
    _stack(7, C.T1, "axial", "AX T1"),
    _stack(9, C.STIR, "coronal", "COR STIR"),
]


def test_later_of_two_repeated_coronal_stirs_is_chosen_with_its_t1(settings):
    selection = select_series(_study(*FULL), settings)
    assert selection.analysis.series_number == 9
    assert selection.reason == "coronal STIR 'COR STIR' #9 (later of 2 repeats)"
    assert selection.t1.series_number == 3  # same orientation preferred over the later axial T1


def test_other_orientation_stir_before_t2_fat_sat(settings):
    stacks = [s for s in FULL if not (s.sequence == C.STIR and s.orientation == "coronal")]
    selection = select_series(_study(*stacks), settings)
    assert selection.analysis.description == "AX STIR"
    assert selection.t1.description == "AX T1"
    assert "priority 2" in selection.reason


def test_t2_fat_sat_when_no_stir(settings):
    stacks = [s for s in FULL if s.sequence != C.STIR]
    assert select_series(_study(*stacks), settings).analysis.description == "COR T2 FS"


def test_broken_and_thin_stacks_are_never_selected(settings):
    stacks = [_stack(5, C.STIR, "coronal", "COR STIR"),
              _stack(9, C.STIR, "coronal", "COR STIR", error="series 1.2.9 (COR STIR): slice gap"),
              _stack(10, C.STIR, "coronal", "COR STIR", n_slices=2)]
    assert select_series(_study(*stacks), settings).analysis.series_number == 5


def test_no_edema_sensitive_series_is_a_one_line_error_counting_what_the_study_has(settings):
    with pytest.raises(NoEdemaSeriesError) as info:
        select_series(_study(_stack(3, C.T1, "coronal", "COR T1"), _stack(1, C.LOCALIZER, "axial", "loc", 3)), settings)
    message = str(info.value)
    assert "\n" not in message
    assert message == "no STIR or fat-suppressed T2 (no edema-sensitive series): found T1 x1, localizer x1"


def test_an_unreadable_series_never_analysed_is_counted_by_class_without_its_error(settings):
    # issue 22: the study's reason stays short; the localizer's own error stays in inspect's list
    broken = _stack(2, C.LOCALIZER, "axial", "loc", error="series 1.2.2 (loc): file a.dcm is truncated")
    with pytest.raises(NoEdemaSeriesError) as info:
        select_series(_study(_stack(3, C.T1, "coronal", "COR T1"), broken), settings)
    assert str(info.value).endswith("found T1 x1, localizer x1")


def test_only_thin_stir_is_a_one_line_error_listing_the_study(settings):
    with pytest.raises(SeriesSelectionError) as info:
        select_series(_study(_stack(3, C.T1, "coronal", "COR T1"), _stack(4, C.STIR, "coronal", "STIR", 3)), settings)
    message = str(info.value)
    assert not isinstance(info.value, NoEdemaSeriesError)
    assert "\n" not in message and "1.2.3" in message
    assert "coronal T1 'COR T1' #3 [20 slices]" in message


def test_repeated_stir_on_disk_picks_the_later_series_number(tmp_path, settings):
    study = {"PatientID": "P", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.7"}
    for number in (12, 4):
        write_series(tmp_path / f"s{number}", make_geometry(CORONAL), seed=number,
                     tags={**study, "SeriesNumber": number, "SeriesDescription": "COR STIR",
                           "SeriesInstanceUID": f"1.2.826.0.1.3680043.8.498.7.{number}"})
    write_series(tmp_path / "ax", make_geometry(AXIAL), tags={**study, "SeriesNumber": 20, "SeriesDescription": "AX STIR",
                                                               "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.7.20"})
    discovery = discover(tmp_path, settings)
    assert len(discovery.studies) == 1
    selection = select_series(discovery.studies[0], settings)
    assert selection.analysis.series_number == 12 and "later of 2 repeats" in selection.reason
