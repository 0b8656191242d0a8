"""The ``bme-mri`` command line: parse, load config, call the library, print.

Heavy imports live inside the commands so ``bme-mri --help`` is instant. A
:class:`~bme_mri.errors.BmeError` is printed as one line (exit code 2) without a traceback;
``--debug`` shows the traceback. Research software, not a medical device.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from bme_mri.errors import BmeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Bone marrow edema of the hip on MRI, measured in ml. "
    "Research software, not a medical device.",
    epilog="Start with: bme-mri demo --out demo/ (a phantom cohort, analysed). Then: bme-mri inspect DIR; "
           "bme-mri run DIR --out results/; bme-mri compare BASELINE FOLLOWUP --out pair/. "
           "Every command: bme-mri COMMAND --help (with an example).",
)

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", metavar="PATH", help="YAML file merged over configs/default.yaml.")]
DebugOpt = Annotated[bool, typer.Option("--debug", metavar="", help="Show tracebacks.")]
SequenceOpt = Annotated[Optional[str], typer.Option(
    "--sequence", metavar="CLASS",
    help="What the NIfTI files are that nothing identifies (stir, t2fs, t1, ...: a sequence class); files "
         "whose JSON sidecar or name gives a class keep it. Given one file, it names that file: stir / t2fs "
         "on a file whose sidecar or name says another class (a T1, T2, PD... without fat suppression) is "
         "refused unless --force. DICOM is classified from its headers.")]
ForceSequenceOpt = Annotated[bool, typer.Option(
    "--force", metavar="", help="With --sequence on one file: take it even where that file's sidecar or name says "
                    "another class (only that file; the image's own fat-suppression check still blocks a "
                    "series without it).")]


def _sequence(value: str | None):
    """``--sequence`` text -> SequenceClass (None when not given); a bad value is a one-line error."""
    if value is None:
        return None
    from bme_mri.types import SequenceClass

    try:
        return SequenceClass(value.strip().lower())
    except ValueError:
        raise BmeError(f"--sequence {value!r} is not a sequence class; choose one of "
                       f"{', '.join(c.value for c in SequenceClass)}") from None


class _Failure(Exception):
    """Raised inside a command to exit with a one-line message."""


def _require_input(path: Path, label: str = "input", files: bool = True) -> None:
    """A user's mistake told before any heavy import (the answer in well under a second, issue
    23): ``LABEL PATH does not exist``, or, with ``files``, a folder without a single file in it
    ``no DICOM or NIfTI files found under PATH``; the same words the readers use."""
    from bme_mri.errors import InputError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{label} {path} does not exist".strip())
    if files and path.is_dir() and not any(names for _root, _dirs, names in os.walk(path)):
        raise InputError(f"no DICOM or NIfTI files found under {path}")


def _echo_calls(longitudinal_csv: Path) -> None:
    """One line per compared hip of ``longitudinal.csv``: the patient, side, call, edema (ml)
    at both visits and the call's reason, as a clinician reads it at the end of ``compare``."""
    import csv

    if not Path(longitudinal_csv).is_file():
        return
    with open(longitudinal_csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            def ml(key: str) -> str:
                return f"{float(row[key]):.1f}" if row.get(key) not in (None, "") else "-"
            typer.echo(f"{row['patient_id']} {row['side']}: {row['status']} (edema {ml('edema_baseline_ml')} -> "
                       f"{ml('edema_followup_ml')} ml) - {row['reason']}")


def _run(debug: bool, action):
    """Call ``action``; turn BmeError (and unexpected errors) into one line + exit code.

    User mistakes (a :class:`BmeError`, a bad option value, an output path that is a file or
    not writable) exit 2 with one line; anything else is an internal error (exit 3).
    """
    from typer.exceptions import TyperException

    try:
        if debug:
            return action()
        # Libraries' warnings (pydicom on odd tag values, highdicom on names) are not for the
        # user: what matters reaches the results as bme-mri warnings. Workers inherit the env.
        before = os.environ.get("PYTHONWARNINGS")
        os.environ["PYTHONWARNINGS"] = "ignore"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return action()
        finally:
            if before is None:
                os.environ.pop("PYTHONWARNINGS", None)
            else:
                os.environ["PYTHONWARNINGS"] = before
    except BmeError as exc:
        if debug:
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except (KeyboardInterrupt, typer.Exit):
        raise
    except TyperException as exc:  # e.g. typer.BadParameter raised inside a command
        if debug:
            raise
        typer.secho(f"error: {exc.format_message()}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except (FileExistsError, NotADirectoryError, PermissionError) as exc:
        if debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        typer.secho(f"error:{where}: {exc.strerror or exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            raise
        typer.secho(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(3) from None


def _version(value: bool) -> None:
    if value:
        from bme_mri import __version__

        typer.echo(f"bme-mri {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", metavar="", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Bone marrow edema of the hip on MRI, measured in ml. Research software, not a medical device."""


def _refuse_file(out: Path | None) -> None:
    """An output folder that exists as a file is a user error (one line, exit 2)."""
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise BmeError(f"--out {out} is an existing file; give a folder (new or existing)")


def _config(path: Path | None):
    from bme_mri.config import load_config

    return load_config(path)


@app.command(epilog="Example: bme-mri inspect /data/hips  |  bme-mri inspect /data/hips --json > contents.json")
def inspect(
    input: Annotated[Path, typer.Argument(help="A DICOM folder tree, a DICOM file or a NIfTI file.")],
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print JSON instead of a tree.")] = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    sequence: SequenceOpt = None,
    force: ForceSequenceOpt = False,
) -> None:
    """List patient -> study -> series, which series would be analysed and why."""

    def action():
        _require_input(input)
        from rich.console import Console

        from bme_mri.ingest import inspect_input, render_inspect
        from bme_mri.ingest.inspect import inspect_json

        settings = _config(config)
        result = inspect_input(input, settings.ingest, sequence_override=_sequence(sequence), force=force)
        if as_json:
            typer.echo(json.dumps(inspect_json(result), indent=2, default=str))
        else:
            Console().print(render_inspect(result))

    _run(debug, action)


@app.command(epilog="Example: bme-mri convert /data/hips --out nifti/")
def convert(
    input: Annotated[Path, typer.Argument(help="A DICOM folder tree or file.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder (outside the input).")],
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    keep_identifiers: Annotated[bool, typer.Option(
        "--keep-identifiers", metavar="", help="Keep PatientID, PatientName and the UIDs in the JSON sidecars.")] = False,
) -> None:
    """Write every usable series to NIfTI + JSON sidecar with BIDS-like names (no identifiers)."""

    def action():
        _require_input(input)
        from bme_mri.ingest import convert_input
        from bme_mri.io_utils import ensure_outside

        ensure_outside(out, [input])
        results = convert_input(input, out, _config(config).ingest, keep_identifiers=keep_identifiers)
        failed = 0
        for item in results:
            if item.error:
                failed += 1
                typer.echo(f"skipped {item.stack_id}: {item.error}")
            else:
                typer.echo(f"wrote   {item.path}")
        typer.echo(f"{len(results) - failed} series converted, {failed} skipped (reason on each line)")
        if failed:
            raise typer.Exit(1)

    _run(debug, action)


@app.command(epilog="Example: bme-mri phantom phantoms/ --cohort validation --seed 7  |  bme-mri phantom --list")
def phantom(
    out: Annotated[Optional[Path], typer.Argument(help="Output folder for the synthetic cohort.")] = None,
    cohort: Annotated[str, typer.Option("--cohort", metavar="NAME", help="Cohort name (see --list).")] = "smoke",
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed (deterministic output).")] = 0,
    png: Annotated[bool, typer.Option("--png", metavar="", help="Render a few slices with the truth overlaid.")] = False,
    list_cohorts: Annotated[bool, typer.Option("--list", metavar="", help="List cohorts and exit.")] = False,
    snr: Annotated[Optional[tuple[float, float]], typer.Option(
        "--snr", metavar="LO HI", help="Replace the cohort's noise: each patient's muscle SNR drawn within LO HI.")] = None,
    bias: Annotated[Optional[float], typer.Option(
        "--bias", metavar="X", help="Replace the cohort's bias field amplitude (fraction, 0-0.35).")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", metavar="", help="Show a progress bar (patients).")] = True,
    debug: DebugOpt = False,
) -> None:
    """Write synthetic hip MRI studies (DICOM) with ground truth beside them."""

    def action():
        from bme_mri.phantom import COHORTS, generate_cohort

        if list_cohorts:
            for name, text in COHORTS.items():
                typer.echo(f"{name:12s} {text}")
            return
        if cohort not in COHORTS:
            raise BmeError(f"unknown cohort {cohort!r}; choose one of {', '.join(COHORTS)} (see --list)")
        if out is None:
            raise BmeError("give the output folder: bme-mri phantom OUT [--cohort NAME]")
        _refuse_file(out)
        manifest = _with_progress(progress, lambda cb: generate_cohort(
            out, cohort=cohort, seed=seed, png=png, snr=snr, bias=bias, on_patient=cb))
        changed = "".join([f", SNR {snr[0]:g}-{snr[1]:g}" if snr else "",
                           f", bias {bias:g}" if bias is not None else ""])
        typer.echo(f"wrote cohort {cohort!r} (seed {seed}{changed}); truth manifest: {manifest}")

    _run(debug, action)


@app.command(epilog="Example: bme-mri run /data/hips --out results/ --workers 2  |  bme-mri run stir.nii.gz --out results/ --sequence stir")
def run(
    input: Annotated[Path, typer.Argument(help="A DICOM folder tree (many patients/studies) or a NIfTI file.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder (outside the input).")],
    workers: Annotated[int, typer.Option("--workers", metavar="N", min=1, help="Parallel processes.")] = 1,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", metavar="", help="Show a progress bar.")] = True,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    sequence: SequenceOpt = None,
    force: ForceSequenceOpt = False,
) -> None:
    """Analyse every study: segment, quantify (ml), compare follow-ups; tables + masks in OUT."""

    def action():
        _require_input(input)
        settings = _config(config)  # a bad config is told before the pipeline's imports
        from bme_mri.pipeline import run_batch

        override = _sequence(sequence)
        try:
            result = _with_progress(progress, lambda cb: run_batch(input, out, settings, workers=workers,
                                                                    on_study=cb, sequence_override=override,
                                                                    force=force))
        except KeyboardInterrupt:
            typer.secho(f"interrupted: the studies finished so far are kept in {out}; run the same "
                        "command again to resume", fg=typer.colors.YELLOW, err=True)
            raise typer.Exit(130) from None
        typer.echo(result.summary_line())
        for line in result.problem_lines():
            typer.echo(line, err=True)
        if result.n_failed:
            raise typer.Exit(1)

    _run(debug, action)


def _with_progress(enabled: bool, work):
    """Run ``work(callback)`` under a rich progress bar (the library never prints)."""
    if not enabled:
        return work(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), transient=False)
    task = bar.add_task("studies", total=None)
    started = False

    def callback(done: int, total: int, label: str) -> None:
        nonlocal started
        if not started:  # the bar appears once there is work: an input error stays one line
            bar.start()
            started = True
        bar.update(task, completed=done, total=total, description=label[:40])

    try:
        return work(callback)
    finally:
        if started:
            bar.stop()


@app.command(epilog="Example: bme-mri quantify stir.nii.gz --roi bone_mask.nii.gz --out roi_out/ [--reference normal_marrow.nii.gz]")
def quantify(
    image: Annotated[Path, typer.Argument(help="A NIfTI image or a DICOM series folder.")],
    roi: Annotated[Path, typer.Option("--roi", metavar="PATH", help="Bone mask (NIfTI); another grid is resampled (nearest neighbour) with a warning.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder.")],
    reference: Annotated[Optional[Path], typer.Option("--reference", metavar="PATH", help="Normal-marrow mask (NIfTI) on the image grid.")] = None,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    method: Annotated[Optional[str], typer.Option("--method", metavar="hysteresis|vhi", help="hysteresis (ours) or vhi (the VHI authors' published thresholds; needs --reference); default quantify.roi.method.")] = None,
) -> None:
    """ROI mode (knee, ankle, SI joint...): edema inside a given bone mask."""

    def action():
        _require_input(image, "IMAGE", files=False)
        _require_input(roi, "--roi", files=False)
        settings = _config(config)
        from bme_mri.pipeline.roi import run_roi

        result_path = run_roi(image, roi, reference, out, settings, method=method)
        result = json.loads(Path(result_path).read_text())
        typer.echo(f"edema {result['edema_ml']:.2f} ml in {result['bone_ml']:.1f} ml of bone "
                   f"({result['method']}, {result['reference_source']} reference); wrote {result_path}")
        for warning in result.get("warnings", []):
            typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)

    _run(debug, action)


@app.command(epilog="Example: bme-mri phantom p/ --cohort validation --seed 7 && bme-mri validate p/ --out val/")
def validate(
    phantom_dir: Annotated[Path, typer.Argument(help="A folder written by 'bme-mri phantom'.")],
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Output folder (default: a temp folder).")] = None,
    workers: Annotated[int, typer.Option("--workers", metavar="N", min=1)] = 1,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Run the pipeline on a phantom cohort and compare with its truth; exit 1 below thresholds."""

    def action():
        from rich.console import Console

        from bme_mri.pipeline.validate import render_validation, validate_cohort

        settings = _config(config)
        report = validate_cohort(phantom_dir, out, settings, workers=workers)
        Console().print(render_validation(report))
        typer.echo(f"validation JSON: {report.json_path}")
        if not report.passed:
            typer.secho("validation FAILED: " + "; ".join(report.failures), fg=typer.colors.RED, err=True)
            raise typer.Exit(1)

    _run(debug, action)


@app.command(epilog="Example: bme-mri compare baseline_dicom/ followup_dicom/ --out pair/")
def compare(
    baseline: Annotated[Path, typer.Argument(help="Baseline study: DICOM folder or NIfTI file.")],
    followup: Annotated[Path, typer.Argument(help="Follow-up study: DICOM folder or NIfTI file.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder.")],
    force: Annotated[bool, typer.Option("--force", metavar="", help="Compare even two patients or one study twice (a "
                                                         "warning line per check overridden), or take --sequence "
                                                         "against an input file's sidecar.")] = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    sequence: SequenceOpt = None,
) -> None:
    """Compare one patient's baseline and follow-up: the call per hip and an HTML report."""

    def action():
        _require_input(baseline, "", files=False)
        _require_input(followup, "", files=False)
        from bme_mri.pipeline.pair import compare_pair

        report_path = compare_pair(baseline, followup, out, _config(config),
                                   sequence_override=_sequence(sequence), force=force,
                                   on_warning=lambda w: typer.secho(f"warning: {w}", fg=typer.colors.YELLOW,
                                                                    err=True))
        _echo_calls(Path(report_path).parent / "longitudinal.csv")
        typer.echo(f"report: {report_path}")

    _run(debug, action)


@app.command(epilog="Example: bme-mri demo --out demo/")
def demo(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder.")] = Path("demo_out"),
    seed: Annotated[int, typer.Option("--seed", metavar="N")] = 2026,
    workers: Annotated[int, typer.Option("--workers", metavar="N", min=1)] = 2,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Built-in demo: generate a small phantom cohort, then run the whole pipeline on it."""

    def action():
        from bme_mri.phantom import generate_cohort
        from bme_mri.pipeline import run_batch

        _refuse_file(out)
        settings = _config(config)
        phantom_dir = out / "phantom"
        generate_cohort(phantom_dir, cohort="smoke", seed=seed, png=True)
        typer.echo(f"phantom cohort written to {phantom_dir} (DICOM in dicom/, truth in truth/)")
        results_dir = out / "results"
        result = _with_progress(True, lambda cb: run_batch(phantom_dir / "dicom", results_dir, settings,
                                                           workers=workers, on_study=cb))
        typer.echo(result.summary_line())
        for line in result.problem_lines():
            typer.echo(line, err=True)
        _echo_calls(results_dir / "longitudinal.csv")
        typer.echo(f"tables: {results_dir / 'summary.csv'}, {results_dir / 'longitudinal.csv'}")
        for report in sorted(results_dir.glob("*/report.html")):
            typer.echo(f"report: {report}")
        if result.n_failed:
            raise typer.Exit(1)

    _run(debug, action)


@app.command(epilog="Example: bme-mri heads exam_dir/ --series 6 --json  |  bme-mri heads t2.nii.gz --sequence t2")
def heads(
    input: Annotated[Path, typer.Argument(help="One MR series: a DICOM folder/file or a NIfTI file.")],
    sequence: Annotated[Optional[str], typer.Option("--sequence", metavar="CLASS|DESCRIPTION|bN", help="Pick the series by class (t2, pd, dwi, ...), description, or b-value of a split diffusion series (b50); for one NIfTI file, a class says what it is.")] = None,
    series: Annotated[Optional[str], typer.Option("--series", metavar="NUMBER|UID|DESCRIPTION", help="Pick the series by SeriesNumber, SeriesInstanceUID or a piece of its description.")] = None,
    method: Annotated[str, typer.Option("--method", metavar="classical|learned", help="classical (sphere search) | learned (network).")] = "classical",
    model: Annotated[Optional[Path], typer.Option("--model", metavar="PATH", help="Model folder for --method learned (default: segment.learned.model_dir).")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print {\"heads\": [...]} as JSON.")] = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Femoral heads (side, centre LPS mm, radius mm, confidence) of any MR series; none = empty list."""

    if method not in ("classical", "learned"):
        raise typer.BadParameter(f"--method must be classical or learned, not {method!r}")

    def action():
        _require_input(input)
        settings = _config(config)
        from bme_mri.pipeline.heads import heads_json, load_series, locate_heads, series_read

        volume = load_series(input, settings, sequence, series)
        result = locate_heads(volume, settings, method, model)
        found = result.heads
        for item in result.missing:
            typer.echo(f"{item.side.value}: {item.reason}", err=True)
        if as_json:
            typer.echo(json.dumps(heads_json(found, volume, result.missing)))
            return
        read = series_read(volume)
        number = f"#{read['series_number']} " if read["series_number"] is not None else ""
        b_value = f" b={read['b_value']:g}" if read["b_value"] is not None else ""
        typer.echo(f"series {number}'{read['description'] or read['source']}' ({read['sequence']}{b_value})")
        if not found:
            typer.echo("no femoral head found")
        for h in found:
            x, y, z = h.center_lps_mm
            typer.echo(f"{h.side:5s}  centre LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm  radius {h.radius_mm:.1f} mm  "
                       f"confidence {h.confidence:.2f}  [{h.method}]" + (f"  {'; '.join(h.flags)}" if h.flags else ""))

    _run(debug, action)


@app.command(epilog="Example: bme-mri train --synthetic 400 --steps 2000 --out models/femoral_head --minutes 20")
def train(
    synthetic: Annotated[Optional[int], typer.Option("--synthetic", metavar="N", min=2, help="Train on N synthetic volumes (domain randomisation).")] = None,
    images: Annotated[Optional[Path], typer.Option("--images", metavar="PATH", help="Fine-tune: folder of NIfTI images.")] = None,
    labels: Annotated[Optional[Path], typer.Option("--labels", metavar="PATH", help="Fine-tune: NIfTI label maps, same names (1 = femoral head).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Model folder to write (default: segment.learned.model_dir).")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", metavar="PATH", help="Fine-tune from these weights (default: segment.learned.model_dir).")] = None,
    resume: Annotated[bool, typer.Option("--resume", metavar="", help="Continue from OUT/checkpoint.pt.")] = False,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the data, split and initialisation.")] = 0,
    device: Annotated[Optional[str], typer.Option("--device", metavar="cpu|cuda|auto", help="cpu | cuda | auto (default: config).")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", metavar="N", min=1, help="Total optimiser steps (overrides --epochs).")] = None,
    epochs: Annotated[int, typer.Option("--epochs", metavar="N", min=1, help="Passes over the training volumes.")] = 1,
    val_fraction: Annotated[Optional[float], typer.Option("--val-fraction", metavar="X", min=0.0, max=0.9, help="Held-out fraction (default: config).")] = None,
    minutes: Annotated[Optional[float], typer.Option("--minutes", metavar="X", min=0.0, help="Stop (with a checkpoint) after this wall time; --resume continues.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", metavar="", help="Show a progress bar.")] = True,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Train the learned femoral-head finder (synthetic data) or fine-tune it on labelled NIfTI."""

    if (synthetic is None) == (images is None):
        raise typer.BadParameter("give either --synthetic N or --images DIR --labels DIR")
    if images is not None and labels is None:
        raise typer.BadParameter("--images needs --labels")

    def action():
        from bme_mri.learn.net import require_torch

        require_torch()  # without the learn extra: one line saying what to install, before any output
        from bme_mri.learn.train import finetune_nifti, steps_for_epochs, train_synthetic

        settings = _config(config).segment.learned
        if val_fraction is not None:
            settings = settings.model_copy(update={"training": settings.training.model_copy(
                update={"val_fraction": val_fraction})})
        from bme_mri.learn.net import resolve_model_dir

        out_dir = out or resolve_model_dir(settings.model_dir)
        ts = settings.training
        if synthetic is not None:
            n_items = synthetic
        else:
            n_items = len([p for p in images.iterdir() if p.name.endswith((".nii", ".nii.gz"))]) if images.is_dir() else 0
        total = steps or steps_for_epochs(n_items, ts.val_fraction, epochs, ts.batch_size)
        common = dict(steps=total, seed=seed, device=device or settings.device, resume=resume,
                      max_minutes=minutes)
        run = (lambda cb: train_synthetic(out_dir, synthetic, settings, on_progress=cb, **common)) \
            if synthetic is not None else \
            (lambda cb: finetune_nifti(out_dir, images, labels, settings, on_progress=cb,
                                       init_model_dir=None if resume else (model or Path(settings.model_dir)),
                                       **common))
        result = _train_progress(progress, run)
        last = result.last_validation
        tail = "" if last is None else (f"; validation loss {last['val_loss']:.4f}, Dice "
                                        f"{last['val_dice'] if last['val_dice'] is None else round(last['val_dice'], 4)}")
        typer.echo(f"step {result.step}/{result.target_steps} in {result.elapsed_s:.0f} s{tail}; "
                   f"weights + model card in {result.out_dir}")

    _run(debug, action)


def _train_progress(enabled: bool, work):
    """Run ``work(callback)`` under a rich progress bar showing the step and the losses."""
    if not enabled:
        return work(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), TextColumn("{task.description}")) as bar:
        task = bar.add_task("", total=None)

        def callback(step: int, total: int, record: dict) -> None:
            text = f"loss {record['train_loss']:.3f}"
            if record.get("val_dice") is not None:
                text += f" val Dice {record['val_dice']:.3f}"
            bar.update(task, completed=step, total=total, description=text)

        return work(callback)


def main(args: list[str] | None = None) -> int:
    """In-process entry point (tests, ``python -m bme_mri.cli``): returns the exit code.

    A usage error (unknown option, missing argument) is one line on stderr and exit 2, as in
    the installed ``bme-mri`` command.
    """
    from typer.exceptions import TyperException

    try:
        code = app(args=args, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except TyperException as exc:  # usage errors: show them as the installed command does
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
