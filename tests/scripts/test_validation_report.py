"""scripts/validation_report.py: generated tables replace exactly their marked section, and the
document's sections the script writes all have their markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scripts.conftest import load_script

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"


def test_a_section_is_replaced_between_its_markers_only():
    report = load_script("validation_report")
    text = "intro\n<!-- validation_report:zoo -->\nold\n<!-- /validation_report:zoo -->\nafter\n"
    out = report.replace_section(text, "zoo", "new table")
    assert out == "intro\n<!-- validation_report:zoo -->\nnew table\n<!-- /validation_report:zoo -->\nafter\n"
    with pytest.raises(SystemExit, match="markers"):
        report.replace_section(text, "phantoms", "x")


def test_the_validation_document_has_every_generated_section():
    text = DOC.read_text(encoding="utf-8")
    for name in ("phantoms", "zoo", "cli", "roi-loso", "roi-scans"):
        assert f"<!-- validation_report:{name} -->" in text and f"<!-- /validation_report:{name} -->" in text
