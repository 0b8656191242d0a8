"""The patient report: self-contained, escaped, with every required section."""

from __future__ import annotations

import base64
import re

from bme_mri.report.html import write_patient_report
from bme_mri.report.model import DISCLAIMER
from tests.report.report_fixtures import sample_report


def test_report_is_self_contained_with_all_sections(tmp_path):
    report = sample_report(tmp_path)
    path = write_patient_report(report, tmp_path / "reports" / "PAT-001.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for needle in ("Status per hip", "Volumes per visit", "Volume over time",
                   "same anatomy", "Method", "0.1.0", "0123456789abcdef", "@media print",
                   "edema 7.2 -&gt; 0.3 ml (-96%)", ">necrosis<", ">no_edema<"):
        assert needle in text, needle
    assert text.count(DISCLAIMER.split(".")[0]) >= 2  # top and bottom
    # every image is embedded: chart + pair, and each decodes to a PNG
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == 2
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # no external resources and no script
    assert not re.search(r"(href|src)=\"(https?:|//|file:)", text)
    assert "<script" not in text.lower() and "<link" not in text.lower()


def test_untrusted_text_is_escaped(tmp_path):
    report = sample_report(tmp_path, patient_id='X"><script>alert(1)</script>')
    text = write_patient_report(report, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text
