"""One palette for every picture bme-mri draws: report overlays, the report's chart and text,
phantom previews. The same structure has the same colour everywhere, and every PNG carries a
legend made from here.

Colours are presentation, not measurement thresholds. Each :class:`LabelStyle` says how a
structure is drawn: the femoral head (labels 1-3 together, :class:`bme_mri.types.Label`) and
the reference marrow as outlines, edema (2) and necrosis (3) as translucent fills. The hues
were picked to stay apart on a grey MR image and for the common colour-vision deficiencies
(cyan / red / yellow / green differ in lightness as well as hue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bme_mri.types import Label


@dataclass(frozen=True)
class LabelStyle:
    """How one structure is drawn.

    Attributes
    ----------
    name : what the legend says.
    colour : hex RGB.
    word : the colour in words, for captions ("red").
    alpha : opacity of a fill (1 for outlines).
    outline : True: drawn as a contour line; False: as a translucent fill.
    """

    name: str
    colour: str
    word: str
    alpha: float
    outline: bool

    @property
    def rgba(self) -> tuple[float, float, float, float]:
        """(r, g, b, alpha) in 0-1."""
        value = self.colour.lstrip("#")
        r, g, b = (int(value[i:i + 2], 16) / 255.0 for i in (0, 2, 4))
        return (r, g, b, self.alpha)

    def caption(self) -> str:
        """'cyan outline: femoral head' / 'red: edema'."""
        return f"{self.word}{' outline' if self.outline else ''}: {self.name}"


HEAD = LabelStyle("femoral head", "#00e5ff", "cyan", 1.0, outline=True)
EDEMA = LabelStyle("edema", "#ff2a1a", "red", 0.45, outline=False)
NECROSIS = LabelStyle("necrosis", "#ffd500", "yellow", 0.65, outline=False)
REFERENCE = LabelStyle("reference marrow", "#39d353", "green", 1.0, outline=True)
BONE = LabelStyle("bone mask", "#c77dff", "violet", 1.0, outline=True)  # ROI mode's given bone region

LABEL_STYLES = (HEAD, EDEMA, NECROSIS)  # what a label map (0-3) shows, in legend order
LINE_WIDTH = 1.0  # outline width (points)


def legend_caption(styles: tuple[LabelStyle, ...] | None = None) -> str:
    """'Cyan outline: femoral head; red: edema; yellow: necrosis.' for HTML captions
    (``styles`` None: :data:`LABEL_STYLES`)."""
    styles = LABEL_STYLES if styles is None else styles
    text = "; ".join(style.caption() for style in styles)
    return text[:1].upper() + text[1:] + "."


def draw_labels(ax, labels: np.ndarray, pixel_mm: float = 1.0) -> None:
    """Draw a 2-D label map (rows x cols, :class:`~bme_mri.types.Label` values) on ``ax``.

    Pixel (r, c) covers [c, c+1) x [r, r+1) times ``pixel_mm`` in axes data units, as an
    ``imshow`` with ``extent=(0, cols * pixel_mm, rows * pixel_mm, 0)``: edema and necrosis
    filled, the femoral head (labels 1-3) outlined.
    """
    rows, cols = labels.shape
    extent = (0, cols * pixel_mm, rows * pixel_mm, 0)
    overlay = np.zeros((rows, cols, 4), dtype=np.float32)
    overlay[labels == Label.EDEMA] = EDEMA.rgba
    overlay[labels == Label.NECROSIS] = NECROSIS.rgba
    if overlay[..., 3].any():
        ax.imshow(overlay, extent=extent, interpolation="nearest")
    head = labels >= Label.HEAD_MARROW
    if head.any():
        ys = (np.arange(rows) + 0.5) * pixel_mm
        xs = (np.arange(cols) + 0.5) * pixel_mm
        ax.contour(xs, ys, head.astype(np.float32), levels=[0.5], colors=[HEAD.colour],
                   linewidths=LINE_WIDTH)


def legend_handles(styles: tuple[LabelStyle, ...] | None = None) -> list:
    """Matplotlib legend handles: a line for an outline, a patch for a fill (``styles`` None:
    :data:`LABEL_STYLES`)."""
    styles = LABEL_STYLES if styles is None else styles
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [Line2D([0], [0], color=s.colour, linewidth=2.0, label=s.name) if s.outline
            else Patch(facecolor=s.rgba, edgecolor=s.colour, label=s.name) for s in styles]


def add_legend(fig, styles: tuple[LabelStyle, ...] | None = None) -> None:
    """A one-row legend along the bottom of ``fig`` (leave room: ``tight_layout(rect=...)``)."""
    styles = LABEL_STYLES if styles is None else styles
    fig.legend(handles=legend_handles(styles), loc="lower center", ncol=len(styles),
               fontsize=9, frameon=True, facecolor="#f4f4f4", edgecolor="#999999")
