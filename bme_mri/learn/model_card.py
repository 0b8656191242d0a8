"""The model card of a trained femoral-head network: ``model_card.json`` + ``model_card.md``.

The JSON is the record (data recipe, seed, split, iterations, hardware, training time, the
validation history); ``evaluation`` holds figures measured afterwards (added with
:func:`add_evaluation`, never by the training itself). The markdown is rendered from the JSON,
with a training-curve figure (``training_curve.png``) beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bme_mri.io_utils import atomic_path, write_json_atomic, write_text_atomic
from bme_mri.learn.net import CARD_JSON, CARD_MD

CURVE_PNG = "training_curve.png"


def read_model_card(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / CARD_JSON
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_model_card(model_dir: Path, record: dict[str, Any]) -> None:
    """Write the card (keeping any ``evaluation`` already in the folder's card)."""
    model_dir = Path(model_dir)
    old = read_model_card(model_dir)
    card = {"name": "bme-mri femoral-head finder", "task": "femoral head (either side) vs background "
            "on any MR contrast; side from the patient frame (LPS x)", **record}
    if "evaluation" in old:
        card["evaluation"] = old["evaluation"]
    write_json_atomic(model_dir / CARD_JSON, card)
    _curve(model_dir, card.get("history", []))
    write_text_atomic(model_dir / CARD_MD, render_markdown(card))


def add_evaluation(model_dir: Path, evaluation: dict[str, Any]) -> None:
    """Merge measured figures into the card's ``evaluation`` and re-render the markdown."""
    card = read_model_card(model_dir)
    card.setdefault("evaluation", {}).update(evaluation)
    write_json_atomic(Path(model_dir) / CARD_JSON, card)
    write_text_atomic(Path(model_dir) / CARD_MD, render_markdown(card))


def _curve(model_dir: Path, history: list[dict[str, Any]]) -> None:
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([h["step"] for h in history], [h["train_loss"] for h in history], label="train loss (mean of 20)")
    vals = [h for h in history if "val_loss" in h]
    if vals:
        ax.plot([h["step"] for h in vals], [h["val_loss"] for h in vals], "o-", label="validation loss")
        dices = [h for h in vals if h.get("val_dice") is not None]
        if dices:
            ax.plot([h["step"] for h in dices], [h["val_dice"] for h in dices], "s-", label="validation Dice")
    ax.set_xlabel("optimiser step")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(Path(model_dir) / CURVE_PNG) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def render_markdown(card: dict[str, Any]) -> str:
    t = card.get("training", {})
    lines = [f"# {card.get('name', 'model')}", "",
             "Research software, not a medical device. Weights are loaded locally, never downloaded.", "",
             f"Task: {card.get('task', '')}.", "",
             "## Network", ""]
    lines += [f"- {k}: {_fmt(v)}" for k, v in card.get("arch", {}).items()]
    lines += ["", "## Data", ""]
    data = card.get("data", {})
    lines += [f"- {k}: {_fmt(v)}" for k, v in data.items() if k != "recipe"]
    if "recipe" in data:
        lines += ["- recipe (domain randomisation; `bme_mri/learn/synth.py`):"]
        lines += [f"  - {k}: {_fmt(v)}" for k, v in data["recipe"].items()]
    split = card.get("split", {})
    lines += [f"- split: {split.get('train')} training, {split.get('validation')} validation volumes",
              f"- seed: {card.get('seed')}", "", "## Training", ""]
    lines += [f"- {k}: {_fmt(v)}" for k, v in t.items()]
    lines += ["", "## Hardware", ""]
    lines += [f"- {k}: {_fmt(v)}" for k, v in card.get("hardware", {}).items()]
    last = card.get("last_validation")
    lines += ["", "## Validation during training (synthetic volumes held out from training)", ""]
    if last:
        lines += [f"- at step {last['step']}: loss {_fmt(last['val_loss'])}, Dice {_fmt(last.get('val_dice'))} "
                  f"over {last.get('val_n_with_head')} volumes with a head; mean false head volume "
                  f"{_fmt(last.get('val_false_head_ml_mean'))} ml on volumes without one"]
    lines += ["", f"![training curve]({CURVE_PNG})", ""]
    evaluation = card.get("evaluation")
    if evaluation:
        lines += ["## Evaluation (measured after training)", ""]
        for key, value in evaluation.items():
            if isinstance(value, dict) and "markdown" in value:
                lines += ["", f"### {key}", "", value["markdown"], ""]
            else:
                lines += [f"- {key}: {_fmt(value)}"]
        lines.append("")
    return "\n".join(lines)
