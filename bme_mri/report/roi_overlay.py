"""ROI mode overlay PNG: acquired slices with the bone mask, the reference marrow and the edema.

Slices are shown in the acquisition plane (the voxel grid), where the user's masks were drawn.
Screen orientation is derived from the geometry, never assumed: the screen's x runs towards the
patient's left (radiological: the patient's right on the viewer's left) and its y towards
inferior where the in-plane axes allow; the letters at the edges come from the LPS direction of
each screen axis. Slices: those with the most edema first, then slices spread over the bone mask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bme_mri.io_utils import atomic_path
from bme_mri.types import Geometry

from bme_mri.report.palette import BONE, EDEMA, REFERENCE, LabelStyle, legend_handles

# the reference marrow voxels are many scattered points: a light fill of the palette's hue
_REFERENCE_FILL = LabelStyle("reference marrow (voxels used)", REFERENCE.colour, REFERENCE.word, 0.35,
                             outline=False)


OBLIQUE_COMPONENT = 0.38
"""An in-plane axis whose second-largest LPS component exceeds this (sin 22.5 deg) is oblique:
its edge shows both letters, the larger first ("AS"), as DICOM viewers do."""


def _letter(vector: np.ndarray) -> str:
    """Orientation letter(s) of the LPS direction ``vector``: "P", or "PS" when oblique."""
    def one(axis: int) -> str:
        return ("L", "P", "S")[axis] if vector[axis] > 0 else ("R", "A", "I")[axis]

    order = np.argsort(-np.abs(vector))
    text = one(int(order[0]))
    if abs(vector[order[1]]) > OBLIQUE_COMPONENT:
        text += one(int(order[1]))
    return text


def display_axes(geometry: Geometry) -> tuple[bool, bool, dict[str, str]]:
    """(flip columns, flip rows, edge letters) for showing ``array[:, :, k].T`` (rows = j,
    columns = i) radiologically."""
    direction = np.asarray(geometry.direction_lps, dtype=float)
    right = direction[:, 0].copy()
    down = direction[:, 1].copy()
    flip_cols = right[0] < 0  # screen x should run towards +x LPS (patient's left)
    if flip_cols:
        right = -right
    flip_rows = down[2] > 0 if abs(down[2]) >= abs(down[1]) else down[1] < 0
    if flip_rows:
        down = -down
    letters = {"left": _letter(-right), "right": _letter(right), "top": _letter(-down), "bottom": _letter(down)}
    return bool(flip_cols), bool(flip_rows), letters


def choose_slices(bone: np.ndarray, edema: np.ndarray, n_slices: int) -> list[int]:
    """Up to ``n_slices`` k indices: the slices with most edema (up to half), then spread over
    the bone mask; sorted."""
    in_bone = np.flatnonzero(bone.any(axis=(0, 1)))
    if in_bone.size == 0:
        return []
    per_slice = edema.sum(axis=(0, 1))
    chosen: list[int] = [int(k) for k in np.argsort(per_slice)[::-1][: n_slices // 2] if per_slice[k] > 0]
    for k in in_bone[np.linspace(0, in_bone.size - 1, n_slices).astype(int)]:
        if len(chosen) >= n_slices:
            break
        if int(k) not in chosen:
            chosen.append(int(k))
    return sorted(chosen)


def render_roi_overlay_png(image: np.ndarray, geometry: Geometry, bone: np.ndarray, edema: np.ndarray,
                           reference: np.ndarray | None, path: Path, title: str = "",
                           n_slices: int = 6) -> Path:
    """Write the overlay PNG atomically: bone outline (violet), reference voxels (green),
    edema (red), with a legend and orientation letters."""
    from matplotlib.figure import Figure

    flip_cols, flip_rows, letters = display_axes(geometry)
    slices = choose_slices(bone, edema, n_slices)
    values = np.asarray(image, dtype=np.float32)[bone] if bone.any() else np.asarray(image).ravel()
    low, high = np.percentile(values, [1.0, 99.5]) if values.size else (0.0, 1.0)
    high = high + 0.5 * (high - low)  # room above marrow for edema and fluid
    n_cols = min(3, max(len(slices), 1))
    n_rows = int(np.ceil(max(len(slices), 1) / n_cols))
    di, dj = geometry.spacing_mm[0], geometry.spacing_mm[1]
    fig = Figure(figsize=(4.6 * n_cols, (4.6 * geometry.shape[1] * dj / (geometry.shape[0] * di) + 0.4) * n_rows + 0.8),
                 dpi=100)
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False).ravel())

    def view(array2d: np.ndarray) -> np.ndarray:
        out = array2d.T
        if flip_cols:
            out = out[:, ::-1]
        if flip_rows:
            out = out[::-1, :]
        return out

    extent = (0, geometry.shape[0] * di, geometry.shape[1] * dj, 0)
    for ax in axes[len(slices):]:
        ax.axis("off")
    for ax, k in zip(axes, slices):
        ax.imshow(view(image[:, :, k]), cmap="gray", vmin=low, vmax=high, extent=extent, interpolation="bilinear")
        rgba = np.zeros(view(edema[:, :, k]).shape + (4,), dtype=np.float32)
        if reference is not None:
            rgba[view(reference[:, :, k])] = _REFERENCE_FILL.rgba
        rgba[view(edema[:, :, k])] = EDEMA.rgba
        ax.imshow(rgba, extent=extent, interpolation="nearest")
        if bone[:, :, k].any():
            ys = (np.arange(geometry.shape[1]) + 0.5) * dj
            xs = (np.arange(geometry.shape[0]) + 0.5) * di
            ax.contour(xs, ys, view(bone[:, :, k]).astype(np.float32), levels=[0.5], colors=[BONE.colour],
                       linewidths=0.8)
        style = dict(color="white", fontsize=11, fontweight="bold",
                     bbox=dict(facecolor="black", alpha=0.6, pad=1.2, edgecolor="none"))
        ax.text(0.02, 0.5, letters["left"], transform=ax.transAxes, ha="left", va="center", **style)
        ax.text(0.98, 0.5, letters["right"], transform=ax.transAxes, ha="right", va="center", **style)
        ax.text(0.5, 0.98, letters["top"], transform=ax.transAxes, ha="center", va="top", **style)
        ax.text(0.5, 0.02, letters["bottom"], transform=ax.transAxes, ha="center", va="bottom", **style)
        ml = float(edema[:, :, k].sum() * geometry.voxel_volume_ml)
        ax.set_title(f"slice {k}: edema {ml:.2f} ml", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = legend_handles((EDEMA, BONE) + ((_REFERENCE_FILL,) if reference is not None else ()))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97), h_pad=2.5)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=fig.dpi)
    return path
