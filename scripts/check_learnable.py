"""Sanity check of the learned head finder's training set-up: can the network overfit a handful
of fixed synthetic volumes (same contrast draw every step)? If it cannot, something is wrong
with data or loss; if it can, a weak model is a matter of training time and data variety.

Usage: python scripts/check_learnable.py [--n 4] [--steps 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch
    from monai.losses import DiceCELoss

    from bme_mri.config import load_config
    from bme_mri.learn.net import build_network, default_arch
    from bme_mri.learn.synth import synth_sample
    from bme_mri.learn.train import dice

    settings = load_config().segment.learned
    torch.set_num_threads(settings.cpu_threads)
    torch.manual_seed(args.seed)
    net = build_network(default_arch(settings.training.channels)).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings.training.learning_rate)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    pairs = [synth_sample(args.seed, i, 0) for i in range(args.n)]
    x = torch.from_numpy(np.stack([p[0] for p in pairs])[:, None])
    y = torch.from_numpy(np.stack([p[1] for p in pairs])[:, None].astype(np.int64))
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        optimizer.zero_grad()
        logits = net(x)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        if step % 10 == 0 or step == args.steps:
            prediction = logits.argmax(1).numpy() == 1
            dices = [dice(prediction[i], pairs[i][1] > 0) for i in range(args.n)]
            print(f"step {step}: loss {float(loss.detach()):.4f}, Dice on the fixed volumes "
                  f"{np.round(dices, 3).tolist()} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
