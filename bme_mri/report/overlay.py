"""Overlay PNGs: slices through a point with the label map drawn over the image.

Display convention (radiological): the patient's right is on the viewer's left. Each panel is
sampled on a plane of *patient* space (LPS mm), not on the voxel grid, so coronal, axial and
oblique acquisitions all give the same upright view and a follow-up can be sampled through the
same anatomy as its baseline via a registration matrix:

* coronal panel: screen x runs along +x LPS (patient's right -> left), screen y runs along -z
  (superior at the top);
* axial panel: screen x runs along +x LPS, screen y along +y (anterior at the top, as seen from
  the feet).

The "R"/"L" (and "S"/"I", "A"/"P") markers are computed from the LPS coordinates of each
panel's edge pixels, never assumed. Labels follow :class:`bme_mri.types.Label` and are drawn
with the one palette of :mod:`bme_mri.report.palette` (femoral head outlined, edema and
necrosis filled); every figure carries its legend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from bme_mri.io_utils import atomic_path
from bme_mri.report.palette import add_legend, draw_labels
from bme_mri.types import Geometry, Volume

_LEGEND_HEIGHT_IN = 0.45  # room below the panels for the legend (inches)
_TITLE_HEIGHT_IN = 0.4  # room above the panels for the figure title (inches)
_MARK_RADIUS_MM = 12.0  # ring drawn around a lesion's point on its panels (mm)
FOCUS_NEAR_MM = 45.0  # a lesion belongs to a hip when its centroid is this close to the head centre (mm)
_LPS_AXES = np.eye(3)


@dataclass(frozen=True)
class PlaneSpec:
    """A display plane: screen x/y unit vectors in LPS and the panel name."""

    name: str
    screen_x_lps: tuple[float, float, float]
    screen_y_lps: tuple[float, float, float]


CORONAL = PlaneSpec("coronal", (1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
AXIAL = PlaneSpec("axial", (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
DEFAULT_PLANES = (CORONAL, AXIAL)


@dataclass
class Panel:
    """One sampled slice: the image, the labels, and the LPS points of its pixels."""

    plane: PlaneSpec
    image: np.ndarray  # (rows, cols) float
    labels: np.ndarray  # (rows, cols) uint8
    points_lps: np.ndarray  # (rows, cols, 3) LPS mm
    inside: np.ndarray  # (rows, cols) bool: pixel inside the source volume


@dataclass(frozen=True)
class FocusPoint:
    """A point the overlay slices pass through, and why.

    Attributes
    ----------
    what : 'head centre', 'largest edema', 'necrosis' (shown in the panel titles).
    center_lps_mm : LPS point (mm).
    marked : draw a ring around the point (lesions), so a reader finds it on the slice.
    volume_ml : the lesion component's volume (ml), or None.
    """

    what: str
    center_lps_mm: np.ndarray
    marked: bool = False
    volume_ml: float | None = None


def lesion_focus(labels: np.ndarray, geometry: Geometry, label: int, near_lps_mm: np.ndarray,
                 near_mm: float) -> tuple[np.ndarray, float] | None:
    """The deepest point (LPS mm) of the largest ``label`` component whose centroid lies within
    ``near_mm`` of ``near_lps_mm`` (one hip's lesions, not the other's), and its volume (ml).

    "Deepest" is the voxel furthest from the component's border (Euclidean, in mm), so a slice
    through it cuts the lesion where it is thickest. None when there is no such component.
    """
    mask = np.asarray(labels) == label
    if not mask.any():
        return None
    # label only the lesions' bounding box (same components, numbered in the same raster order)
    # and sum the centroids over lesion voxels only (the same additions, in the same order, as
    # ndimage.center_of_mass over the whole grid: identical values)
    bounds = ndimage.find_objects(mask.view(np.uint8))[0]
    offset = np.asarray([b.start for b in bounds])
    components, count = ndimage.label(mask[bounds])
    flat = components.ravel()
    where = np.flatnonzero(flat)
    ids = flat[where]
    sizes = np.bincount(ids, minlength=count + 1)
    coords = [c + o for c, o in zip(np.unravel_index(where, components.shape), offset)]
    sums = [np.bincount(ids, weights=c, minlength=count + 1)[1:] for c in coords]
    centroids = [tuple(v) for v in (np.array(sums) / sizes[1:].astype(np.float64)).T]
    best, best_size = 0, 0
    for index, centroid in enumerate(centroids, start=1):
        distance = np.linalg.norm(geometry.index_to_lps(np.asarray(centroid)) - np.asarray(near_lps_mm))
        if distance <= near_mm and sizes[index] > best_size:
            best, best_size = index, int(sizes[index])
    if not best:
        return None
    chosen = ids == best
    box = tuple(slice(int(c[chosen].min()), int(c[chosen].max()) + 1) for c in coords)
    crop = np.pad(components[tuple(slice(b.start - o, b.stop - o) for b, o in zip(box, offset))] == best, 1)
    depth = ndimage.distance_transform_edt(crop, sampling=geometry.spacing_mm)
    deepest = np.asarray(np.unravel_index(int(np.argmax(depth)), crop.shape)) - 1
    index = deepest + np.asarray([b.start for b in box])
    return geometry.index_to_lps(index.astype(np.float64)), best_size * geometry.voxel_volume_ml


def focus_points(labels: np.ndarray | None, geometry: Geometry, head_center_lps_mm: np.ndarray,
                 near_mm: float = FOCUS_NEAR_MM) -> list[FocusPoint]:
    """Where one hip's overlay slices go: its head centre, its largest edema, its necrosis.

    Lesions lie off the head centre (a subchondral necrosis 5-10 mm away is missed by a slice
    through the centre), so each gets its own row of panels through its deepest point.
    ``near_mm`` (default 45 mm: a head radius of up to 30 mm plus margin) keeps the other
    hip's lesions out.
    """
    from bme_mri.types import Label

    points = [FocusPoint("head centre", np.asarray(head_center_lps_mm, dtype=np.float64))]
    if labels is None:
        return points
    for label, what in ((Label.NECROSIS, "necrosis"), (Label.EDEMA, "largest edema")):
        found = lesion_focus(labels, geometry, int(label), head_center_lps_mm, near_mm)
        if found is not None:
            points.append(FocusPoint(what, found[0], marked=True, volume_ml=found[1]))
    return points


def volume_center_lps(geometry: Geometry) -> np.ndarray:
    """LPS mm of the centre of the grid."""
    return geometry.index_to_lps((np.asarray(geometry.shape, dtype=np.float64) - 1.0) / 2.0)


def plane_points(geometry: Geometry, plane: PlaneSpec, center_lps_mm: np.ndarray,
                 half_width_mm: float | None = None, pixel_mm: float | None = None) -> np.ndarray:
    """LPS points (rows, cols, 3) of a display plane through ``center_lps_mm``.

    ``half_width_mm`` None: the plane covers the volume's extent along the screen axes.
    ``pixel_mm`` None: the smallest voxel spacing (never finer than 0.4 mm).
    """
    center = np.asarray(center_lps_mm, dtype=np.float64)
    ux = np.asarray(plane.screen_x_lps, dtype=np.float64)
    uy = np.asarray(plane.screen_y_lps, dtype=np.float64)
    corners = geometry.corners_lps() - center
    if half_width_mm is None:
        half_x = float(np.max(np.abs(corners @ ux)))
        half_y = float(np.max(np.abs(corners @ uy)))
    else:
        half_x = half_y = float(half_width_mm)
    pixel = float(pixel_mm) if pixel_mm is not None else max(0.4, float(min(geometry.spacing_mm)))
    cols = max(2, int(np.ceil(2 * half_x / pixel)) + 1)
    rows = max(2, int(np.ceil(2 * half_y / pixel)) + 1)
    sx = (np.arange(cols) - (cols - 1) / 2.0) * pixel
    sy = (np.arange(rows) - (rows - 1) / 2.0) * pixel
    return center + sy[:, None, None] * uy + sx[None, :, None] * ux


def sample(array: np.ndarray, geometry: Geometry, points_lps: np.ndarray,
           order: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``array[i, j, k]`` at LPS points: (values, inside mask). ``order`` 0 for labels."""
    ijk = geometry.lps_to_index(points_lps)
    shape = np.asarray(geometry.shape, dtype=np.float64)
    inside = np.all((ijk >= -0.5) & (ijk <= shape - 0.5), axis=-1)
    coords = np.moveaxis(ijk, -1, 0)
    values = ndimage.map_coordinates(np.asarray(array, dtype=np.float32 if order else array.dtype),
                                     coords, order=order, mode="nearest", prefilter=False)
    values = np.where(inside, values, 0)
    return values, inside


def make_panel(image: Volume, labels: np.ndarray | None, plane: PlaneSpec,
               points_lps: np.ndarray, matrix_lps: np.ndarray | None = None) -> Panel:
    """Sample image and labels on ``points_lps`` (optionally mapped by a 4x4 LPS matrix first).

    ``matrix_lps`` maps the plane's points into the image's space (e.g. a registration's
    baseline -> follow-up matrix), so a follow-up is shown through the baseline's anatomy.
    """
    points = points_lps
    if matrix_lps is not None:
        matrix = np.asarray(matrix_lps, dtype=np.float64)
        points = points_lps @ matrix[:3, :3].T + matrix[:3, 3]
    values, inside = sample(image.array, image.geometry, points, order=1)
    if labels is None:
        label_values = np.zeros(values.shape, dtype=np.uint8)
    else:
        if tuple(labels.shape) != tuple(image.geometry.shape):
            raise ValueError(f"labels {labels.shape} do not match image {image.geometry.shape}")
        label_values, _ = sample(np.asarray(labels, dtype=np.uint8), image.geometry, points, order=0)
    return Panel(plane, values, label_values.astype(np.uint8), points_lps, inside)


def side_markers(panel: Panel) -> dict[str, str]:
    """Orientation letters at the panel edges, from the LPS coordinates of its edge pixels.

    Returns ``{'left': ..., 'right': ..., 'top': ..., 'bottom': ...}`` where left/right/top/
    bottom are the viewer's. The x letter is 'R' where the patient's right (smaller LPS x) is.
    """
    pts = panel.points_lps
    rows, cols = pts.shape[:2]
    left = pts[rows // 2, 0]
    right = pts[rows // 2, cols - 1]
    top = pts[0, cols // 2]
    bottom = pts[rows - 1, cols // 2]

    def letter(a: np.ndarray, b: np.ndarray) -> tuple[str, str]:
        delta = b - a
        axis = int(np.argmax(np.abs(delta)))
        positive = ("L", "P", "S")[axis]
        negative = ("R", "A", "I")[axis]
        return (negative, positive) if delta[axis] > 0 else (positive, negative)

    x_pair = letter(left, right)
    y_pair = letter(top, bottom)
    return {"left": x_pair[0], "right": x_pair[1], "top": y_pair[0], "bottom": y_pair[1]}


def display_window(array: np.ndarray) -> tuple[float, float]:
    """Grey-level window (low, high) from the 1st/99.5th percentiles of non-zero voxels."""
    values = np.asarray(array, dtype=np.float32)
    values = values[values > 0] if np.any(values > 0) else values.ravel()
    if values.size == 0:
        return 0.0, 1.0
    if values.size > 2_000_000:
        values = values[:: values.size // 1_000_000]
    low, high = np.percentile(values, [1.0, 99.5])
    return float(low), float(max(high, low + 1e-6))


def draw_panel(ax, panel: Panel, window: tuple[float, float], pixel_mm: float,
               subtitle: str = "", mark: FocusPoint | None = None) -> None:
    """Draw one panel on a matplotlib axes: image, fills, outline, orientation letters; with
    ``mark``, a ring (palette colour of the lesion) around the panel centre, where the slice
    passes through that point."""
    rows, cols = panel.image.shape
    extent = (0, cols * pixel_mm, rows * pixel_mm, 0)
    ax.imshow(panel.image, cmap="gray", vmin=window[0], vmax=window[1], extent=extent,
              interpolation="bilinear")
    draw_labels(ax, panel.labels, pixel_mm)
    if mark is not None and mark.marked:
        from matplotlib.patches import Circle

        from bme_mri.report.palette import EDEMA, NECROSIS

        colour = NECROSIS.colour if "necrosis" in mark.what else EDEMA.colour
        ax.add_patch(Circle((cols * pixel_mm / 2.0, rows * pixel_mm / 2.0), _MARK_RADIUS_MM, fill=False,
                            edgecolor=colour, linewidth=1.6, linestyle="--"))
    markers = side_markers(panel)
    style = dict(color="white", fontsize=13, fontweight="bold",
                 bbox=dict(facecolor="black", alpha=0.6, pad=1.5, edgecolor="none"))
    ax.text(0.02, 0.5, markers["left"], transform=ax.transAxes, ha="left", va="center", **style)
    ax.text(0.98, 0.5, markers["right"], transform=ax.transAxes, ha="right", va="center", **style)
    ax.text(0.5, 0.98, markers["top"], transform=ax.transAxes, ha="center", va="top", **style)
    ax.text(0.5, 0.02, markers["bottom"], transform=ax.transAxes, ha="center", va="bottom",
            **style)
    ax.set_title(f"{panel.plane.name}{(' - ' + subtitle) if subtitle else ''}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(0, cols * pixel_mm)
    ax.set_ylim(rows * pixel_mm, 0)


def _save_figure(fig, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        # zlib level 1: the same pixels, ~3x faster to encode than PIL's default 6 (files ~30% larger)
        fig.savefig(tmp, format="png", dpi=fig.dpi, facecolor=fig.get_facecolor(),
                    pil_kwargs={"compress_level": 1})
    return path


def _pixel_mm(geometry: Geometry) -> float:
    return max(0.4, float(min(geometry.spacing_mm)))


def _focus_title(point: FocusPoint) -> str:
    volume = f" {point.volume_ml:.2f} ml" if point.volume_ml is not None else ""
    return f"at {point.what}{volume}"


def render_overlay_png(image: Volume, labels: np.ndarray | None, path: Path,
                       center_lps_mm: np.ndarray | None = None, title: str = "",
                       half_width_mm: float | None = None,
                       planes: tuple[PlaneSpec, ...] = DEFAULT_PLANES,
                       focus: list[FocusPoint] | None = None) -> Path:
    """Write a PNG of coronal and axial slices with labels overlaid: one row per focus point.

    Parameters
    ----------
    image : the analysed series (any orientation); sampled in LPS, shown radiologically.
    labels : label map on ``image``'s grid (0-3, :class:`~bme_mri.types.Label`) or None.
    path : output PNG, written atomically.
    center_lps_mm : LPS point (mm) of the single row when ``focus`` is None; None -> the
        volume centre.
    title : figure title (callers put the volumes here).
    half_width_mm : half the side of the square field of view (mm); None -> whole volume.
    planes : panels of each row (default coronal, axial).
    focus : rows: the head centre, the largest edema, the necrosis (:func:`focus_points`);
        lesion rows carry a ring around the lesion's point.
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    geometry = image.geometry
    if focus is None:
        center = volume_center_lps(geometry) if center_lps_mm is None else center_lps_mm
        focus = [FocusPoint("", np.asarray(center, dtype=float))]
    pixel = _pixel_mm(geometry)
    window = display_window(image.array)
    rows = [[make_panel(image, labels, plane,
                        plane_points(geometry, plane, point.center_lps_mm, half_width_mm, pixel))
             for plane in planes] for point in focus]
    aspect = max(panel.image.shape[0] / panel.image.shape[1] for row in rows for panel in row)
    title = _wrap_title(title, 4.2 * len(planes))
    room = _title_room_in(title)
    height = len(rows) * (4.2 * aspect + 0.45) + 0.45 + _LEGEND_HEIGHT_IN + room - _TITLE_HEIGHT_IN
    fig = Figure(figsize=(4.2 * len(planes), height), dpi=100)
    axes = fig.subplots(len(rows), len(planes), squeeze=False)
    for row_axes, row, point in zip(axes, rows, focus):
        for ax, panel in zip(row_axes, row):
            draw_panel(ax, panel, window, pixel, _focus_title(point) if point.what else "", mark=point)
    if title:
        fig.suptitle(title, fontsize=11)
    add_legend(fig)
    fig.tight_layout(rect=(0, _LEGEND_HEIGHT_IN / height, 1, 1 - (_TITLE_HEIGHT_IN / height if title else 0)))
    return _save_figure(fig, path)


def _title_room_in(title: str) -> float:
    """Room above the panels for a figure title of one or more lines (inches)."""
    return _TITLE_HEIGHT_IN + 0.2 * title.count("\n")


def _wrap_title(title: str, width_in: float) -> str:
    """``title`` with each line wrapped to the figure's width (about 11 characters of the 11 pt
    title per inch), so that a long reason is not cut at the picture's edges."""
    import textwrap

    width = max(20, int(11 * width_in))
    return "\n".join(piece for line in title.split("\n")
                     for piece in (textwrap.wrap(line, width) or [""]))


def render_pair_png(baseline_image: Volume, baseline_labels: np.ndarray | None,
                    followup_image: Volume, followup_labels: np.ndarray | None,
                    matrix_lps: np.ndarray | None, path: Path,
                    center_lps_mm: np.ndarray | None = None, title: str = "",
                    captions: tuple[str, str] = ("baseline", "follow-up"),
                    half_width_mm: float | None = None,
                    planes: tuple[PlaneSpec, ...] = DEFAULT_PLANES,
                    focus: list[FocusPoint] | None = None) -> Path:
    """Baseline and follow-up side by side through the same anatomy (rows = planes, for each
    focus point: the head centre, then lesions, each in the baseline's LPS space).

    The display planes are laid out in the baseline's LPS space around ``center_lps_mm``
    (a baseline point, e.g. the femoral head centre). The follow-up is sampled at
    ``matrix_lps @ p`` for every plane point ``p``: ``matrix_lps`` maps baseline LPS points to
    follow-up LPS points (:attr:`bme_mri.compare.register.Registration.matrix_lps`); None means
    identity (same scanner frame). Sampling the follow-up directly at mapped points is the same
    as resampling it onto the baseline grid, with one interpolation instead of two.
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    geometry = baseline_image.geometry
    if focus is None:
        center = volume_center_lps(geometry) if center_lps_mm is None else center_lps_mm
        focus = [FocusPoint("", np.asarray(center, dtype=float))]
    pixel = _pixel_mm(geometry)
    base_window = display_window(baseline_image.array)
    follow_window = display_window(followup_image.array)
    layout = [(point, plane, plane_points(geometry, plane, point.center_lps_mm, half_width_mm, pixel))
              for point in focus for plane in planes]
    aspects = [points.shape[0] / points.shape[1] for _, _, points in layout]
    title = _wrap_title(title, 8.4)
    room = _title_room_in(title)
    height = sum(4.2 * a + 0.5 for a in aspects) + room + _LEGEND_HEIGHT_IN
    fig = Figure(figsize=(8.4, height), dpi=100)
    axes = fig.subplots(len(layout), 2, squeeze=False, gridspec_kw={"height_ratios": aspects})
    for row, (point, plane, points) in enumerate(layout):
        base_panel = make_panel(baseline_image, baseline_labels, plane, points)
        follow_panel = make_panel(followup_image, followup_labels, plane, points, matrix_lps)
        where = f" {_focus_title(point)}" if point.what else ""
        draw_panel(axes[row][0], base_panel, base_window, pixel, captions[0] + where, mark=point)
        draw_panel(axes[row][1], follow_panel, follow_window, pixel, captions[1] + where, mark=point)
    if title:
        fig.suptitle(title, fontsize=11)
    add_legend(fig)
    fig.tight_layout(rect=(0, _LEGEND_HEIGHT_IN / height, 1, 1 - (_TITLE_HEIGHT_IN / height if title else 0)))
    return _save_figure(fig, path)
