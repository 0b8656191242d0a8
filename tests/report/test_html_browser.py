"""Open the report in headless Chromium: it renders, screenshots, and logs no console errors.

Console messages reach Chromium's log as ``INFO:CONSOLE...] "message", source: ...`` with
``--enable-logging=stderr --v=0``; the report carries no script, so *any* console line is a
failure. A deliberately broken page is checked first, proving the detector sees errors on the
installed Chromium. Skipped with a reason where Chromium is not installed (Debian: ``chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib.image import imread

from bme_mri.report.html import write_patient_report
from tests.report.report_fixtures import sample_report

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and Path(p).exists()), None)

pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="headless Chromium not installed (apt-get install chromium)")


def _screenshot(html_path: Path, png_path: Path, profile: Path) -> tuple[int, list[str]]:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", f"--screenshot={png_path}",
               "--window-size=1200,1600", html_path.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    log = (done.stdout + done.stderr).splitlines()
    errors = [line for line in log if "CONSOLE" in line or "Uncaught" in line]
    return done.returncode, errors


def test_detector_sees_console_errors_of_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><script>console.error("bad");'
                    "notDefined();</script></body></html>", encoding="utf-8")
    _, errors = _screenshot(page, tmp_path / "broken.png", tmp_path / "profile-broken")
    assert any("notDefined" in line for line in errors), errors


def test_report_renders_in_chromium_without_console_errors(tmp_path):
    html_path = write_patient_report(sample_report(tmp_path), tmp_path / "PAT-001.html")
    png_path = tmp_path / "screenshot.png"
    returncode, errors = _screenshot(html_path, png_path, tmp_path / "profile")
    assert returncode == 0
    assert errors == []
    pixels = imread(png_path)
    assert pixels.shape[:2] == (1600, 1200)
    # not a blank page: a good share of non-white pixels (text, tables, images)
    non_white = (pixels[..., :3].min(axis=-1) < 0.9).mean()
    assert non_white > 0.05
