"""One palette for every picture: overlays, pair images and phantom previews draw the same
colours from bme_mri.report.palette, and every PNG carries its legend."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from bme_mri.report import palette
from bme_mri.types import Geometry, Label, Volume

CORONAL = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])


def _scene() -> tuple[Volume, np.ndarray]:
    geometry = Geometry((40, 40, 20), (1.5, 1.5, 3.0), (-30.0, 0.0, 30.0), CORONAL)
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in geometry.shape], indexing="ij"), -1)
    dist = np.linalg.norm((idx - np.array([20, 20, 10])) * np.array(geometry.spacing_mm), axis=-1)
    labels = np.where(dist < 15, Label.HEAD_MARROW, Label.BACKGROUND).astype(np.uint8)
    labels[dist < 8] = Label.EDEMA
    labels[(dist < 4)] = Label.NECROSIS
    image = np.where(dist < 15, 300.0, 80.0).astype(np.float32)
    return Volume(image, geometry), labels


def _has_colour(png: np.ndarray, hex_colour: str, rows: slice = slice(None), tol: float = 0.02) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)])
    return bool(np.any(np.all(np.abs(png[rows, :, :3] - rgb) < tol, axis=-1)))


@pytest.fixture()
def loud_palette(monkeypatch):
    """Replace the palette's colours by opaque pure hues nothing else in a figure uses."""
    edema = palette.LabelStyle("edema", "#00ff00", "green", 1.0, outline=False)
    necrosis = palette.LabelStyle("necrosis", "#ff00ff", "magenta", 1.0, outline=False)
    monkeypatch.setattr(palette, "EDEMA", edema)
    monkeypatch.setattr(palette, "NECROSIS", necrosis)
    monkeypatch.setattr(palette, "LABEL_STYLES", (palette.HEAD, edema, necrosis))
    return edema, necrosis


def _render_all(tmp_path, volume: Volume, labels: np.ndarray | None) -> list:
    """Overlay, pair image and phantom preview of ``volume`` (``labels`` None: no labels)."""
    from bme_mri.phantom.preview import render_truth_png
    from bme_mri.report.overlay import render_overlay_png, render_pair_png

    centre = volume.geometry.index_to_lps(np.array([20.0, 20.0, 10.0]))
    truth = labels if labels is not None else np.zeros(volume.geometry.shape, np.uint8)
    return [
        render_overlay_png(volume, labels, tmp_path / "overlay.png", centre),
        render_pair_png(volume, labels, volume, labels, None, tmp_path / "pair.png", centre),
        *render_truth_png(volume.array, truth, volume.geometry, [centre], tmp_path / "preview"),
    ]


def test_overlay_and_phantom_preview_take_their_colours_from_the_palette(tmp_path, loud_palette):
    edema, necrosis = loud_palette
    volume, labels = _scene()
    for path in _render_all(tmp_path, volume, labels):
        png = imread(path)
        assert _has_colour(png, edema.colour), path.name
        assert _has_colour(png, necrosis.colour), path.name
        assert _has_colour(png, palette.HEAD.colour, tol=0.05), path.name


def test_every_png_has_a_legend_even_without_labels(tmp_path):
    volume, _labels = _scene()
    for path in _render_all(tmp_path, volume, None):
        png = imread(path)
        bottom = slice(int(png.shape[0] * 0.85), None)  # the legend runs along the bottom
        assert _has_colour(png, palette.HEAD.colour, bottom, tol=0.05), path.name
        assert not _has_colour(png, palette.HEAD.colour, slice(0, int(png.shape[0] * 0.8)), tol=0.05), path.name


def test_report_captions_name_the_palette_colours():
    caption = palette.legend_caption()
    assert caption == "Cyan outline: femoral head; red: edema; yellow: necrosis."
    assert palette.EDEMA.rgba[:3] == pytest.approx((1.0, 42 / 255, 26 / 255))


def test_report_chart_draws_edema_and_necrosis_in_their_overlay_colours(tmp_path, loud_palette):
    import io

    from bme_mri.report.html import render_patient_html, volume_chart_png
    from tests.report.report_fixtures import sample_report

    edema, necrosis = loud_palette
    report = sample_report(tmp_path)  # right hip: necrosis 0.4 ml at follow-up
    png = imread(io.BytesIO(volume_chart_png(report)), format="png")
    assert _has_colour(png, edema.colour) and _has_colour(png, necrosis.colour)
    html_text = render_patient_html(report)
    assert "Edema (green) and necrosis (magenta)" in html_text
    assert "Cyan outline: femoral head; green: edema; magenta: necrosis." in html_text
