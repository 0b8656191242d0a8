"""QC flags are visible per hip in the HTML report and in the DICOM SEG's description."""

from __future__ import annotations

import dataclasses
import re

import pydicom

from bme_mri.pipeline.outputs import _seg_qc_text
from bme_mri.quantify.qc import BLOCKING, WARNING, HipQc, QcFlag
from bme_mri.report.html import render_patient_html
from bme_mri.report.model import SideMeasurement
from bme_mri.report.seg import write_dicom_seg
from bme_mri.types import Side
from tests.report.report_fixtures import sample_report
from tests.report.test_seg import _series, report_settings  # noqa: F401 - fixture


def test_report_shows_each_hips_qc_and_an_indeterminate_call(tmp_path):
    report = sample_report(tmp_path)
    follow = report.visits[1]
    follow.sides["right"] = SideMeasurement(
        0.3, 0.4, 52.1, (("reference_implausible", "blocking", "fat suppression failed"),))
    report.calls[0] = dataclasses.replace(report.calls[0], status="indeterminate",
                                          reason="QC failed: reference_implausible at follow-up")
    html = render_patient_html(report)
    assert 'class="qc-blocking">reference_implausible (blocking): fat suppression failed' in html
    assert html.count('class="qc-ok">passed') == 3  # the other three hip-visits passed
    assert ">indeterminate</span>" in html and "#616161" in html


def test_a_hip_not_measured_shows_why_and_no_edema_figure(tmp_path):
    from bme_mri.report.html import volume_chart_png

    report = sample_report(tmp_path)
    report.visits[1].sides["right"] = SideMeasurement(
        None, None, 52.1, (("not_fat_suppressed", "blocking", "fat as bright as marrow"),),
        "not measured: fat not suppressed on this series (not_fat_suppressed)")
    html = render_patient_html(report)
    row = html[html.index("<td>2024-04-12</td><td>follow-up 1</td><td>right</td>"):]
    row = row[:row.index("</tr>")]
    assert "not measured: fat not suppressed" in row and "52.1" in row
    assert '<td class="num">0.3</td>' not in row  # no edema number where none was measured
    assert volume_chart_png(report).startswith(b"\x89PNG")


def test_overlay_title_of_a_blocked_hip_has_no_edema_number():
    from bme_mri.pipeline.outputs import overlay_figures
    from bme_mri.quantify.volumes import SideMeasurement as Measured

    flag = QcFlag("not_fat_suppressed", "fat as bright as marrow", BLOCKING)
    blocked = Measured(Side.LEFT, 52.0, None, None, None, None, None, 1.0,
                       "not measured: fat not suppressed on this series (not_fat_suppressed)")
    title = overlay_figures(blocked, HipQc(Side.LEFT, [flag]))
    assert "NOT MEASURED" in title and "fat not suppressed" in title and not re.search(r"(edema|necrosis) \d", title)
    measured = Measured(Side.LEFT, 52.0, 3.25, 3.3, 0.06, 0.0, None, 1.0)
    assert overlay_figures(measured, HipQc(Side.LEFT)) == ": head 52.0 ml, edema 3.2 ml, necrosis 0.00 ml"
    ranged = Measured(Side.LEFT, 52.0, 3.25, 3.3, 0.06, 0.0, None, 1.0, edema_ml_range=(2.71, 3.94))
    assert overlay_figures(ranged, HipQc(Side.LEFT)) == ": head 52.0 ml, edema 3.2 (2.7-3.9) ml, necrosis 0.00 ml"


def test_seg_qc_text_says_which_hip_failed():
    qc = [HipQc(Side.RIGHT, [QcFlag("head_cut_by_fov", "24% outside", BLOCKING),
                             QcFlag("low_snr", "snr 5", WARNING)]),
          HipQc(Side.LEFT)]
    note, detail = _seg_qc_text(qc)
    assert note == "QC FAILED right: head_cut_by_fov"
    assert "24% outside" in detail and "low_snr" in detail
    assert _seg_qc_text([HipQc(Side.LEFT)]) == ("", "")
    warn_only = _seg_qc_text([HipQc(Side.LEFT, [QcFlag("low_snr", "snr 5", WARNING)])])[0]
    assert warn_only == "QC warnings left: low_snr"


def test_seg_description_carries_the_qc_failure(tmp_path, report_settings):  # noqa: F811
    geometry, labels, files = _series(tmp_path)
    path = write_dicom_seg(labels, geometry, files, tmp_path / "seg.dcm", report_settings,
                           qc_note="QC FAILED right: head_cut_by_fov",
                           qc_detail="right hip: head_cut_by_fov: 24% outside")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert "QC FAILED right" in ds.SeriesDescription and len(ds.SeriesDescription) <= 64
    assert ds.ContentDescription == "QC FAILED right: head_cut_by_fov"
    assert "24% outside" in ds.ImageComments
    clean = pydicom.dcmread(write_dicom_seg(labels, geometry, files, tmp_path / "c.dcm",
                                            report_settings), stop_before_pixels=True)
    assert "QC" not in clean.SeriesDescription
    assert not hasattr(clean, "ImageComments") or not clean.ImageComments


def test_seg_series_description_names_both_failed_hips_within_64_characters(tmp_path, report_settings):  # noqa: F811
    from bme_mri.pipeline.outputs import seg_series_note

    qc = [HipQc(Side.RIGHT, [QcFlag("head_cut_by_fov", "24% outside", BLOCKING)]),
          HipQc(Side.LEFT, [QcFlag("not_fat_suppressed", "fat 2.1 x muscle", BLOCKING)])]
    assert seg_series_note(qc) == "QC FAILED R,L: not measured"
    assert seg_series_note([HipQc(Side.LEFT, [QcFlag("low_snr", "snr 5", WARNING)])]) == "QC warnings L"
    assert seg_series_note([HipQc(Side.LEFT)]) == ""
    geometry, labels, files = _series(tmp_path)
    note, detail = _seg_qc_text(qc)
    not_measured = {"left": "not measured: fat not suppressed on this series (not_fat_suppressed)",
                    "right": "not measured: femoral head cut by the field of view (head_cut_by_fov)"}
    path = write_dicom_seg(labels, geometry, files, tmp_path / "seg.dcm", report_settings, qc_note=note,
                           qc_detail=detail, qc_series_note=seg_series_note(qc), not_measured=not_measured)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert ds.SeriesDescription.endswith("QC FAILED R,L: not measured") and len(ds.SeriesDescription) <= 64
    segments = {int(s.SegmentNumber): s for s in ds.SegmentSequence}
    assert segments[2].SegmentLabel == "Bone marrow edema; R,L hips NOT MEASURED"
    assert segments[3].SegmentLabel == "Osteonecrosis; R,L hips NOT MEASURED"
    assert "NOT MEASURED" in segments[1].SegmentLabel
    assert all("left hip NOT MEASURED: not measured: fat not suppressed" in s.SegmentDescription
               for s in segments.values())
    one = pydicom.dcmread(write_dicom_seg(labels, geometry, files, tmp_path / "one.dcm", report_settings,
                                          not_measured={"left": not_measured["left"]}), stop_before_pixels=True)
    assert [s.SegmentLabel for s in one.SegmentSequence][1] == "Bone marrow edema; L hip NOT MEASURED"
    clean = pydicom.dcmread(write_dicom_seg(labels, geometry, files, tmp_path / "c.dcm", report_settings),
                            stop_before_pixels=True)
    assert [s.SegmentLabel for s in clean.SegmentSequence] == ["Femoral head", "Bone marrow edema", "Osteonecrosis"]


def test_overlay_title_of_an_unverified_hip_says_to_check_it():
    from bme_mri.pipeline.outputs import overlay_figures
    from bme_mri.quantify.volumes import SideMeasurement as Measured

    unverified = QcFlag("fat_suppression_unverified", "could not verify fat suppression: no skin", WARNING)
    measured = Measured(Side.LEFT, 52.0, 24.8, 25.0, 0.48, 0.0, None, 1.0)
    title = overlay_figures(measured, HipQc(Side.LEFT, [unverified]))
    assert title.startswith(": head 52.0 ml, edema 24.8 ml") and "\nCHECK: fat suppression not verified" in title
    assert "CHECK" not in overlay_figures(measured, HipQc(Side.LEFT, [QcFlag("low_snr", "snr 5", WARNING)]))


def test_a_long_overlay_title_is_wrapped_to_the_picture_not_cut_at_its_edges():
    from bme_mri.report.overlay import _title_room_in, _wrap_title

    title = ("BME0000 2024-04-08 left hip: head 52.7 ml; edema and necrosis NOT MEASURED\n"
             "normal-marrow reference implausible (reference_implausible); fat not suppressed on this series "
             "(not_fat_suppressed)\nQC FAILED: reference_implausible, not_fat_suppressed")
    wrapped = _wrap_title(title, 8.4)
    assert wrapped.replace("\n", " ").split() == title.replace("\n", " ").split()  # nothing lost
    assert max(len(line) for line in wrapped.split("\n")) <= 92 and wrapped.count("\n") >= 3
    assert _title_room_in(wrapped) > _title_room_in("one line")
