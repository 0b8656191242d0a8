"""One self-contained HTML file per patient: calls, volumes, chart, images, method, disclaimer.

Self-contained means: every image is an embedded base64 PNG, the style sheet is inline, there is
no script and no external resource, so the file opens offline, from e-mail or a USB stick, and
prints well (a print style sheet keeps tables and images whole on A4 pages). All text is
HTML-escaped (patient IDs and descriptions come from DICOM and are untrusted).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path

from bme_mri.io_utils import write_text_atomic
from bme_mri.quantify.qc import is_blocking
from bme_mri.report import palette
from bme_mri.report.model import DISCLAIMER, PatientReport, ReportImage

_STATUS_COLOURS = {
    "remission": "#1b7f3b",
    "no_edema": "#4a6572",
    "residual_edema": "#b26a00",
    "progression": "#b3261e",
    "necrosis": "#6a1b9a",
    "indeterminate": "#616161",
}

_CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 24px auto;
       max-width: 1100px; color: #1d1d1d; line-height: 1.4; padding: 0 16px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; border-bottom: 1px solid #ccc; padding-bottom: 3px; margin-top: 1.6em; }
.disclaimer { background: #fff4e5; border: 1px solid #e0a84f; padding: 8px 12px;
              font-size: 0.9em; }
.warning { background: #fdecea; border-left: 4px solid #b3261e; padding: 6px 10px;
           margin: 4px 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
th, td { border: 1px solid #bbb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.date { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { display: inline-block; color: #fff; border-radius: 4px; padding: 1px 8px;
          font-weight: bold; white-space: nowrap; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; }
.meta { font-size: 0.85em; color: #444; }
.qc-ok { color: #1b7f3b; }
.qc-blocking { color: #b3261e; font-weight: bold; }
.qc-warning { color: #8a5a00; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { page-break-after: avoid; }
  table, figure, .call { page-break-inside: avoid; }
  figure img { max-height: 24cm; }
  .status { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .disclaimer, .warning { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _span(span: tuple[float, float] | None) -> str:
    """' (1.2-3.4)': a volume's range, for the visits table ('' when unknown)."""
    return "" if span is None else f' <span class="range">({span[0]:.1f}-{span[1]:.1f})</span>'


def _ml(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _png_bytes(image: ReportImage) -> bytes:
    if isinstance(image.png, (bytes, bytearray)):
        return bytes(image.png)
    return Path(image.png).read_bytes()


def _img_tag(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _date(value: str) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except (TypeError, ValueError):
            continue
    return None


def volume_chart_png(report: PatientReport) -> bytes:
    """PNG of edema and necrosis volume per side over the visits (ml).

    Edema and necrosis keep their colours of the overlays (:mod:`bme_mri.report.palette`); the
    sides differ by line and marker (right: solid, circles; left: dashed, squares).
    """
    from matplotlib.figure import Figure  # no pyplot: no global state

    dates = [_date(v.study_date) for v in report.visits]
    use_dates = all(d is not None for d in dates) and len(set(dates)) == len(dates)
    xs = dates if use_dates else list(range(len(report.visits)))
    fig = Figure(figsize=(7.0, 3.2), dpi=100)
    ax = fig.subplots()
    styles = {"right": ("-", "o"), "left": ("--", "s")}
    for side in ("right", "left"):
        points = [(x, v.sides[side]) for x, v in zip(xs, report.visits)
                  if side in v.sides and v.sides[side].edema_ml is not None]  # not measured: no point
        if not points:
            continue
        px = [p[0] for p in points]
        line, marker = styles[side]
        ax.plot(px, [p[1].edema_ml for p in points], linestyle=line, marker=marker,
                color=palette.EDEMA.colour, label=f"{side} edema")
        if any((p[1].necrosis_ml or 0.0) > 0 for p in points):
            ax.plot(px, [p[1].necrosis_ml or 0.0 for p in points], linestyle=line, marker=marker,
                    color=palette.NECROSIS.colour, markeredgecolor="#6b5a00", linewidth=2.0,
                    label=f"{side} necrosis")
    if report.edema_present_ml is not None:
        ax.axhline(report.edema_present_ml, color="grey", linestyle=":", linewidth=1,
                   label=f"edema present >= {report.edema_present_ml:g} ml")
    ax.set_ylabel("volume (ml)")
    ax.set_ylim(bottom=0)
    if use_dates:
        ax.set_xticks(xs)
        ax.set_xticklabels([d.isoformat() for d in dates], rotation=0, fontsize=8)
    else:
        ax.set_xticks(xs)
        ax.set_xticklabels([f"visit {i + 1}" for i in xs], fontsize=8)
    ax.grid(True, alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _calls_section(report: PatientReport) -> str:
    if not report.calls:
        return "<p>No follow-up: a single visit, no status call.</p>"
    rows = []
    for call in report.calls:
        colour = _STATUS_COLOURS.get(call.status, "#555")
        if call.registration_ok is None:
            reg = ""
        else:
            reg = "ok" if call.registration_ok else "FAILED"
            if call.registration_message:
                reg = f'<span title="{_esc(call.registration_message)}">{_esc(reg)}</span>'
        rows.append(
            f'<tr class="call"><td>{_esc(call.side)}</td><td class="date">{_esc(call.followup_date)}</td>'
            f"<td>{_esc(call.compared_with)} ({_esc(call.baseline_date)})</td>"
            f'<td><span class="status" style="background:{colour}">{_esc(call.status)}</span></td>'
            f"<td>{_esc(call.reason)}</td><td>{reg}</td></tr>")
    return ("<table><thead><tr><th>side</th><th>follow-up</th><th>compared with</th>"
            "<th>status</th><th>reason</th><th>registration</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _visits_section(report: PatientReport) -> str:
    rows = []
    for index, visit in enumerate(report.visits):
        label = "baseline" if index == 0 else f"follow-up {index}"
        for side in ("right", "left"):
            if side not in visit.sides:
                if side in visit.not_found:  # no hip lost in silence
                    rows.append(f"<tr><td>{_esc(visit.study_date)}</td><td>{label}</td><td>{side}</td>"
                                f'<td colspan="4" class="qc-blocking">not analysed: {_esc(visit.not_found[side])}</td>'
                                f"<td>{_esc(visit.series_description)}</td></tr>")
                continue
            m = visit.sides[side]
            rows.append(
                f"<tr><td>{_esc(visit.study_date)}</td><td>{label}</td><td>{side}</td>"
                f'<td class="num">{_ml(m.femoral_head_ml)}</td>'
                + (f'<td colspan="2" class="qc-blocking">{_esc(m.not_measured or "not measured")}</td>'
                   if m.edema_ml is None or m.necrosis_ml is None else
                   f'<td class="num">{_ml(m.edema_ml)}{_span(m.edema_range_ml)}</td>'
                   f'<td class="num">{_ml(m.necrosis_ml)}</td>')
                + f"<td>{_qc_cell(m.qc_flags)}</td>"
                f"<td>{_esc(visit.series_description)}</td></tr>")
    return ("<table><thead><tr><th>date</th><th>visit</th><th>side</th>"
            "<th>femoral head (ml)</th><th>edema (ml, range)</th><th>necrosis (ml)</th>"
            "<th>quality control</th><th>series</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def _qc_cell(flags) -> str:
    """Quality-control flags of one hip: 'passed', or each flag with its severity and reason
    (blocking ones in bold red: the numbers beside them are not trusted)."""
    if not flags:
        return '<span class="qc-ok">passed</span>'
    items = []
    for code, severity, reason in flags:
        css = "qc-blocking" if is_blocking((code, severity, reason)) else "qc-warning"
        items.append(f'<div class="{css}">{_esc(code)} ({_esc(severity)}): {_esc(reason)}</div>')
    return "".join(items)


def render_patient_html(report: PatientReport) -> str:
    """The report as one HTML string (no external resources, no script)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>bme-mri report - {_esc(report.patient_id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Bone marrow edema follow-up - patient {_esc(report.patient_id)}</h1>",
        f'<p class="disclaimer"><strong>{_esc(DISCLAIMER)}</strong></p>',
    ]
    for warning in report.warnings:
        parts.append(f'<div class="warning">{_esc(warning)}</div>')
    parts += ["<h2>Status per hip</h2>", _calls_section(report),
              "<h2>Volumes per visit</h2>", _visits_section(report)]
    if report.visits:
        parts += ["<h2>Volume over time</h2>",
                  f"<figure>{_img_tag(volume_chart_png(report), 'edema and necrosis volume over time')}"
                  f"<figcaption>Edema ({palette.EDEMA.word}) and necrosis ({palette.NECROSIS.word}) per hip, ml; "
                  "right hip solid with circles, left hip dashed with squares.</figcaption></figure>"]
    if report.images:
        parts.append("<h2>Images: baseline and follow-up through the same anatomy</h2>")
        parts.append('<p class="meta">Radiological display: the patient\'s right is on the '
                     f"viewer's left. {palette.legend_caption()} "
                     "The follow-up is resampled onto the baseline through the rigid "
                     "registration.</p>")
        for image in report.images:
            parts.append(f"<figure>{_img_tag(_png_bytes(image), image.caption)}"
                         f"<figcaption>{_esc(image.caption)}</figcaption></figure>")
    parts += ["<h2>Method</h2>", f"<p>{_esc(report.method)}</p>" if report.method else "",
              f'<p class="meta">bme-mri version {_esc(report.version or "unknown")}; '
              f"configuration {_esc(report.config_digest or 'unknown')}"
              + (f"; generated {_esc(report.generated)}" if report.generated else "")
              + "</p>",
              f'<p class="disclaimer">{_esc(DISCLAIMER)}</p>',
              "</body></html>"]
    return "\n".join(p for p in parts if p)


def write_patient_report(report: PatientReport, path: Path) -> Path:
    """Write the patient's report to ``path`` (UTF-8, atomic); returns ``path``."""
    path = Path(path)
    write_text_atomic(path, render_patient_html(report))
    return path
