"""``bme-mri train``: train the femoral-head network on synthetic data, or fine-tune it on
a user's labelled NIfTI; checkpoints, resume, validation split, model card.

Determinism and resume: the volumes of optimiser step ``s`` are a pure function of
``(seed, s)`` (the epoch's permutation of the training items comes from ``(seed, epoch)``, and
a synthetic volume's contrast draw is the epoch number), so a resumed run sees exactly the
data the uninterrupted run would have seen. ``checkpoint.pt`` keeps the weights, the optimiser
state, the step, torch's RNG state, the history and the training time so far.

User labels (``--images DIR --labels DIR``): NIfTI label maps on the image's grid (same file
names in both folders), value 1 = femoral head (either side), 0 = anything else; other values
are treated as 0. Images and labels are resampled to the 3 mm working grid.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bme_mri.errors import BmeError
from bme_mri.learn.net import (
    CHECKPOINT_NAME, WEIGHTS_NAME, build_network, default_arch, divisor, load_weights,
    require_torch, resolve_device, save_weights,
)
from bme_mri.learn.synth import SynthRecipe, normalise, render_sample, synth_labels
from bme_mri.segment.settings import LearnedSettings

VAL_DRAW = 1_000_000  # contrast draw of validation volumes (never used in training)

ProgressFn = Callable[[int, int, dict[str, Any]], None]


class TrainingError(BmeError, RuntimeError):
    """Training cannot start or continue (bad folders, mismatched checkpoint...)."""


# ---- data sources ------------------------------------------------------------------------
@dataclass
class SyntheticSource:
    """Synthetic volumes ``0..n-1`` of the generator at ``seed``."""

    seed: int
    n_volumes: int
    recipe: SynthRecipe

    def describe(self) -> dict[str, Any]:
        return {"kind": "synthetic", "seed": self.seed, "n_volumes": self.n_volumes,
                "recipe": self.recipe.to_dict()}

    def items(self) -> list[int]:
        return list(range(self.n_volumes))

    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def get(self, item: int, draw: int) -> tuple[np.ndarray, np.ndarray]:
        # the anatomy of an item never changes: its label maps are built once per process
        # (about 0.3 MB each) and only the contrast is drawn again (about 3x faster)
        labels = self.cache.get(item)
        if labels is None:
            labels = self.cache[item] = synth_labels(self.seed, item, self.recipe)
        return render_sample(labels, self.seed, item, draw, self.recipe)


@dataclass
class NiftiSource:
    """User volumes on the working grid (image normalised, label 0/1), cropped per draw."""

    names: list[str]
    images: list[np.ndarray]
    labels: list[np.ndarray]
    patch: int
    seed: int

    def describe(self) -> dict[str, Any]:
        return {"kind": "nifti", "files": list(self.names), "patch_voxels": self.patch,
                "seed": self.seed}

    def items(self) -> list[int]:
        return list(range(len(self.names)))

    def get(self, item: int, draw: int) -> tuple[np.ndarray, np.ndarray]:
        image, label = self.images[item], self.labels[item]
        size = np.array([self.patch] * 3)
        pad = [(0, int(max(0, p - s))) for p, s in zip(size, image.shape)]
        image = np.pad(image, pad)
        label = np.pad(label, pad)
        rng = np.random.default_rng([self.seed, item, draw])
        heads = np.argwhere(label > 0)
        if heads.size and rng.random() < 0.7:  # mostly crops that hold a head
            centre = heads[rng.integers(len(heads))]
            start = np.clip(centre - size // 2 + rng.integers(-8, 9, 3), 0, np.array(image.shape) - size)
        else:
            start = np.array([rng.integers(0, s - p + 1) for s, p in zip(image.shape, size)])
        box = tuple(slice(int(a), int(a) + int(p)) for a, p in zip(start, size))
        crop = image[box].copy()
        if draw != VAL_DRAW:  # light intensity augmentation: gamma and noise
            inside = crop != 0
            crop = np.where(inside, np.sign(crop) * np.abs(crop) ** rng.uniform(0.7, 1.4), 0.0)
            crop = crop + inside * rng.normal(0, rng.uniform(0, 0.05), crop.shape)
        return crop.astype(np.float32), label[box].astype(np.uint8)


def load_labelled_nifti(images_dir: Path, labels_dir: Path) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Pairs of (image, label) with the same file name, on the 3 mm working grid."""
    from bme_mri.learn.infer import to_working_grid
    from bme_mri.nifti import read_nifti
    from bme_mri.segment.resample import resample_onto

    images_dir, labels_dir = Path(images_dir), Path(labels_dir)
    for folder, what in ((images_dir, "--images"), (labels_dir, "--labels")):
        if not folder.is_dir():
            raise TrainingError(f"{what} {folder} is not a folder")
    files = sorted(p for p in images_dir.iterdir() if p.name.endswith((".nii", ".nii.gz")))
    names, images, labels = [], [], []
    for path in files:
        label_path = labels_dir / path.name
        if not label_path.is_file():
            raise TrainingError(f"image {path.name} has no label file {label_path}")
        volume = read_nifti(path)
        label = read_nifti(label_path)
        if label.array.shape != volume.array.shape:
            raise TrainingError(f"label {label_path} has shape {label.array.shape}, image has "
                                f"{volume.array.shape}: labels must be on the image's grid")
        work_geom, image = to_working_grid(volume)
        head = resample_onto(type(volume)((label.array == 1).astype(np.float32), volume.geometry),
                             work_geom) >= 0.5
        names.append(path.name)
        images.append(image)
        labels.append(head.astype(np.uint8))
    if len(names) < 2:
        raise TrainingError(f"{images_dir} holds {len(names)} labelled NIfTI file(s); fine-tuning "
                            "needs at least 2 (one for validation)")
    return names, images, labels


class _StepData:
    """Map-style dataset: element ``k`` is slot ``k % batch`` of step ``start + k // batch``."""

    def __init__(self, source, train_items: list[int], seed: int, start: int, end: int, batch: int):
        self.source, self.train_items = source, list(train_items)
        self.seed, self.start, self.end, self.batch = seed, start, end, batch
        self.per_epoch = max(1, len(self.train_items) // batch)

    def __len__(self) -> int:
        return (self.end - self.start) * self.batch

    def locate(self, k: int) -> tuple[int, int]:
        step = self.start + k // self.batch
        epoch, within = divmod(step, self.per_epoch)
        order = np.random.default_rng([self.seed, 7, epoch]).permutation(len(self.train_items))
        pos = (within * self.batch + k % self.batch) % len(order)
        return self.train_items[int(order[pos])], epoch

    def __getitem__(self, k: int):
        item, epoch = self.locate(k)
        image, target = self.source.get(item, epoch)
        return image[None].astype(np.float32), target[None].astype(np.int64)


def split_items(items: list[int], val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) items; at least one of each when there are two or more."""
    order = np.random.default_rng([seed, 3]).permutation(len(items))
    n_val = int(round(val_fraction * len(items)))
    n_val = min(max(n_val, 1), len(items) - 1) if len(items) >= 2 else 0
    val = sorted(items[i] for i in order[:n_val])
    train = sorted(items[i] for i in order[n_val:])
    return train, val


def dice(prediction: np.ndarray, target: np.ndarray) -> float:
    """Dice of two boolean masks; 1.0 when both are empty."""
    total = int(prediction.sum()) + int(target.sum())
    return 1.0 if total == 0 else 2.0 * float((prediction & target).sum()) / total


@dataclass
class TrainResult:
    out_dir: Path
    step: int
    target_steps: int
    resumed_from: int | None
    elapsed_s: float
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_validation(self) -> dict[str, Any] | None:
        vals = [h for h in self.history if "val_loss" in h]
        return vals[-1] if vals else None


def _hardware(device: str, threads: int) -> dict[str, Any]:
    torch = require_torch()
    info = {"device": device, "platform": platform.platform(), "processor": platform.processor(),
            "cpu_count": __import__("os").cpu_count(), "torch_threads": threads,
            "torch": torch.__version__, "python": platform.python_version()}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        import monai

        info["monai"] = monai.__version__
    except ImportError:  # pragma: no cover
        pass
    return info


def _validate(net, val_data: list[tuple[np.ndarray, np.ndarray]], loss_fn, device: str) -> dict[str, Any]:
    torch = require_torch()
    net.eval()
    losses, dices, false_ml = [], [], []
    with torch.no_grad():
        for image, target in val_data:
            x = torch.from_numpy(image[None, None]).to(device)
            y = torch.from_numpy(target[None, None].astype(np.int64)).to(device)
            logits = net(x)
            losses.append(float(loss_fn(logits, y)))
            prediction = (logits.argmax(1)[0].cpu().numpy() == 1)
            truth = target > 0
            if truth.any():
                dices.append(dice(prediction, truth))
            else:
                false_ml.append(float(prediction.sum()) * 27.0 / 1000.0)
    net.train()
    return {"val_loss": float(np.mean(losses)), "val_dice": float(np.mean(dices)) if dices else None,
            "val_n_with_head": len(dices), "val_false_head_ml_mean": float(np.mean(false_ml)) if false_ml else None}


def train(source, out_dir: Path, settings: LearnedSettings, *, steps: int, seed: int,
          device: str = "auto", resume: bool = False, init_model_dir: Path | None = None,
          max_minutes: float | None = None, on_progress: ProgressFn | None = None) -> TrainResult:
    """Train (or continue) the network on ``source`` up to ``steps`` optimiser steps.

    Writes ``checkpoint.pt`` (at least every ``checkpoint_minutes``), and at the end (or when
    ``max_minutes`` of wall time are spent) ``model.pt`` and the model card. ``resume``
    continues from ``out_dir/checkpoint.pt``; without it an existing checkpoint is an error.
    ``init_model_dir``: start from these weights (fine-tuning).
    """
    torch = require_torch()
    from monai.losses import DiceCELoss
    from torch.utils.data import DataLoader

    from bme_mri.io_utils import atomic_path
    from bme_mri.learn.model_card import write_model_card

    ts = settings.training
    out_dir = Path(out_dir)
    device = resolve_device(device)
    if device == "cpu":
        torch.set_num_threads(settings.cpu_threads)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    if checkpoint_path.exists() and not resume:
        raise TrainingError(f"{out_dir} already holds a checkpoint: pass --resume to continue it, "
                            "or choose another --out")
    if resume and not checkpoint_path.exists():
        raise TrainingError(f"--resume: no {CHECKPOINT_NAME} in {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    items = source.items()
    train_items, val_items = split_items(items, ts.val_fraction, seed)
    if not train_items:
        raise TrainingError("no training items (need at least 2 volumes)")
    arch = default_arch(ts.channels)
    torch.manual_seed(seed)
    net = build_network(arch)
    if init_model_dir is not None:
        net, arch = load_weights(init_model_dir, "cpu")
        net.train()
    start_step, elapsed_before, history, resumed_from = 0, 0.0, [], None
    optimizer = None
    if resume:
        blob = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        if blob.get("source") != source.describe():
            raise TrainingError(f"{checkpoint_path} was trained on other data ({blob.get('source', {}).get('kind')}, "
                                "different seed/size/files): resume with the same options")
        arch = blob["arch"]
        net = build_network(arch)
        net.load_state_dict(blob["state_dict"])
        start_step, elapsed_before = int(blob["step"]), float(blob["elapsed_s"])
        history, resumed_from = list(blob["history"]), int(blob["step"])
        torch.set_rng_state(blob["torch_rng"])
    net.to(device).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=ts.learning_rate, weight_decay=ts.weight_decay)
    if resume:
        optimizer.load_state_dict(blob["optimizer"])
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    val_data = [source.get(i, VAL_DRAW) for i in val_items]
    hardware = _hardware(device, torch.get_num_threads())
    t_start = time.monotonic()
    last_checkpoint = t_start

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - t_start

    def checkpoint(step: int) -> None:
        with atomic_path(checkpoint_path) as tmp:
            torch.save({"format": 1, "arch": arch, "state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
                        "optimizer": optimizer.state_dict(), "step": step, "elapsed_s": elapsed(),
                        "history": history, "torch_rng": torch.get_rng_state(),
                        "source": source.describe(), "seed": seed}, tmp)

    step = start_step
    if steps > start_step:
        data = _StepData(source, train_items, seed, start_step, steps, ts.batch_size)
        loader = DataLoader(data, batch_size=ts.batch_size, shuffle=False, num_workers=ts.num_workers)
        running = []
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            running.append(float(loss.detach()))
            record: dict[str, Any] = {"step": step, "train_loss": float(np.mean(running[-20:])),
                                      "elapsed_s": round(elapsed(), 1)}
            if val_data and (step % ts.validate_every_steps == 0 or step == steps):
                record.update(_validate(net, val_data, loss_fn, device))
                history.append(record)
            elif step % 10 == 0:
                history.append(record)
            if on_progress:
                on_progress(step, steps, record)
            out_of_time = max_minutes is not None and time.monotonic() - t_start >= 60.0 * max_minutes
            if time.monotonic() - last_checkpoint >= 60.0 * ts.checkpoint_minutes or step == steps or out_of_time:
                if out_of_time and "val_loss" not in record and val_data:
                    record.update(_validate(net, val_data, loss_fn, device))
                    history.append(record)
                checkpoint(step)
                last_checkpoint = time.monotonic()
            if out_of_time:
                break
    else:
        checkpoint(step)
    save_weights(out_dir / WEIGHTS_NAME, net, arch)
    result = TrainResult(out_dir=out_dir, step=step, target_steps=steps, resumed_from=resumed_from,
                         elapsed_s=elapsed(), history=history)
    write_model_card(out_dir, {
        "arch": arch, "data": source.describe(), "seed": seed,
        "split": {"train": len(train_items), "validation": len(val_items),
                  "validation_items": val_items if len(val_items) <= 200 else val_items[:200],
                  "validation_contrast_draw": VAL_DRAW},
        "training": {"steps_done": step, "steps_target": steps, "batch_size": ts.batch_size,
                     "learning_rate": ts.learning_rate, "weight_decay": ts.weight_decay,
                     "loss": "monai DiceCELoss (softmax, one-hot)", "optimizer": "AdamW",
                     "init_from": None if init_model_dir is None else str(init_model_dir),
                     "training_time_s": round(elapsed(), 1), "resumed_from_step": resumed_from},
        "hardware": hardware, "history": history,
        "last_validation": result.last_validation,
    })
    return result


def train_synthetic(out_dir: Path, n_volumes: int, settings: LearnedSettings, *, steps: int, seed: int = 0,
                    recipe: SynthRecipe | None = None, **kwargs) -> TrainResult:
    """Train on ``n_volumes`` synthetic volumes of the generator at ``seed``."""
    if n_volumes < 2:
        raise TrainingError("--synthetic N needs N >= 2 (one volume at least is held out for validation)")
    return train(SyntheticSource(seed, n_volumes, recipe or SynthRecipe()), out_dir, settings,
                 steps=steps, seed=seed, **kwargs)


def finetune_nifti(out_dir: Path, images_dir: Path, labels_dir: Path, settings: LearnedSettings, *,
                   steps: int, seed: int = 0, init_model_dir: Path | None = None, **kwargs) -> TrainResult:
    """Fine-tune on the user's labelled NIfTI (label 1 = femoral head), from ``init_model_dir``'s
    weights when given (else from scratch)."""
    names, images, labels = load_labelled_nifti(images_dir, labels_dir)
    source = NiftiSource(names, images, labels, settings.training.finetune_patch_voxels, seed)
    return train(source, out_dir, settings, steps=steps, seed=seed, init_model_dir=init_model_dir, **kwargs)


def steps_for_epochs(n_items: int, val_fraction: float, epochs: int, batch: int) -> int:
    """Optimiser steps of ``epochs`` passes over the training part of ``n_items``."""
    n_train = n_items - (min(max(int(round(val_fraction * n_items)), 1), n_items - 1) if n_items >= 2 else 0)
    return max(1, epochs * max(1, n_train // batch))


__all__ = ["NiftiSource", "SyntheticSource", "TrainResult", "TrainingError", "dice", "finetune_nifti",
           "normalise", "split_items", "steps_for_epochs", "train", "train_synthetic"]
