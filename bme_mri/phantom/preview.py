"""PNG previews of a phantom study: main STIR slices through each femoral head, truth overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bme_mri.io_utils import atomic_path
from bme_mri.report.palette import add_legend, draw_labels
from bme_mri.types import Geometry


def render_truth_png(image: np.ndarray, labels: np.ndarray, geometry: Geometry,
                     head_centers_lps: Sequence[Sequence[float]], prefix: Path) -> list[Path]:
    """Write ``<prefix>_k<k>.png`` per head: the slice of the main grid through the head
    centre (LPS mm), image left and the truth right, drawn with the report's palette
    (:mod:`bme_mri.report.palette`: head outlined, edema and necrosis filled) and its legend.
    Displayed with rows = j and columns = i as stored; the title says which way
    the patient's left lies. Returns the written paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    ks = sorted({int(np.clip(round(float(geometry.lps_to_index(np.asarray(c))[2])), 0,
                             geometry.shape[2] - 1)) for c in head_centers_lps})
    left_dir = "right" if geometry.direction_lps[0, 0] > 0 else "left"
    for k in ks:
        plane = image[:, :, k].T
        vmax = float(np.percentile(plane, 99.5)) or 1.0
        rows, cols = plane.shape
        fig, axes = plt.subplots(1, 2, figsize=(10, 5.6))
        for ax in axes:
            ax.imshow(plane, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest",
                      extent=(0, cols, rows, 0))
            ax.set_axis_off()
        draw_labels(axes[1], labels[:, :, k].T)
        fig.suptitle(f"{prefix.name} slice k={k} ({geometry.orientation_label()}); "
                     f"patient left = image {left_dir}", fontsize=9)
        add_legend(fig)
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        path = Path(f"{prefix}_k{k:02d}.png")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
