"""The network of the learned femoral-head finder and how its weights are stored.

A small MONAI 3-D U-Net (``monai.networks.nets.UNet``): one input channel (the MR volume on the
3 mm LPS-aligned working grid, percentile-normalised), two output channels (background,
femoral head). ``model.pt`` holds ``{"format": 1, "arch": {...}, "state_dict": {...}}`` so the
network is rebuilt from the file alone. torch and MONAI are imported here, inside functions,
so that importing bme_mri stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bme_mri.errors import BmeError

WEIGHTS_NAME = "model.pt"
CHECKPOINT_NAME = "checkpoint.pt"
CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"
SOURCE_ROOT = Path(__file__).resolve().parents[2]


class ModelError(BmeError, RuntimeError):
    """A model folder is missing, unreadable or of an unknown format."""


LEARN_INSTALL = ("the learned femoral-head finder needs the 'learn' extra: pip install torch==2.13.0 "
                 "(the CPU wheel, first), then pip install -e '.[learn]' (or: bash scripts/setup.sh --learn)")


def require_torch():
    """Import torch (and check MONAI is there), or say which install step is missing: torch and
    MONAI are the optional ``learn`` extra, only the learned head finder and ``train`` use them."""
    try:
        import torch
        import monai  # noqa: F401 - its presence is what is checked
    except ImportError as exc:
        raise ModelError(f"{exc.name or 'torch'} is not installed: {LEARN_INSTALL}") from exc
    return torch


def default_arch(channels: list[int] | tuple[int, ...]) -> dict[str, Any]:
    """Architecture record of the U-Net (stored with the weights)."""
    channels = [int(c) for c in channels]
    return {"name": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1,
            "out_channels": 2, "channels": channels, "strides": [2] * (len(channels) - 1),
            "num_res_units": 1, "spacing_mm": 3.0, "input": "percentile-normalised (1st-99th -> 0-1)",
            "classes": ["background", "femoral_head"]}


def build_network(arch: dict[str, Any]):
    """The torch module described by ``arch``."""
    require_torch()
    from monai.networks.nets import UNet

    return UNet(spatial_dims=arch["spatial_dims"], in_channels=arch["in_channels"],
                out_channels=arch["out_channels"], channels=tuple(arch["channels"]),
                strides=tuple(arch["strides"]), num_res_units=arch["num_res_units"])


def divisor(arch: dict[str, Any]) -> int:
    """Input sizes must be multiples of this (the product of the strides)."""
    out = 1
    for s in arch["strides"]:
        out *= int(s)
    return out


def resolve_device(name: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; 'cuda' without one is an error."""
    torch = require_torch()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: torch sees no CUDA device here; use --device cpu")
    return name


def resolve_model_dir(model_dir: str | Path) -> Path:
    """A model folder path: absolute, relative to the working directory if it exists there,
    else relative to the bme-mri source root (where ``models/`` lives)."""
    path = Path(model_dir)
    if path.is_absolute() or path.exists():
        return path
    return SOURCE_ROOT / path


def save_weights(path: Path, net, arch: dict[str, Any]) -> None:
    """Write ``{"format", "arch", "state_dict"}`` atomically (float32 weights on the CPU)."""
    torch = require_torch()
    from bme_mri.io_utils import atomic_path

    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    with atomic_path(Path(path)) as tmp:
        torch.save({"format": 1, "arch": arch, "state_dict": state}, tmp)


def load_weights(model_dir: str | Path, device: str = "cpu"):
    """(network in eval mode on ``device``, arch) from ``model_dir/model.pt``."""
    torch = require_torch()
    path = resolve_model_dir(model_dir) / WEIGHTS_NAME
    if not path.is_file():
        raise ModelError(f"no model weights at {path}: train one with 'bme-mri train --synthetic N "
                         f"--out DIR' and pass --model DIR")
    try:
        blob = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem
        raise ModelError(f"cannot read model weights {path}: {exc}") from exc
    if not isinstance(blob, dict) or blob.get("format") != 1 or "arch" not in blob:
        raise ModelError(f"{path} is not a bme-mri model file (format 1)")
    net = build_network(blob["arch"])
    net.load_state_dict(blob["state_dict"])
    net.to(device).eval()
    return net, blob["arch"]
