"""Does bfloat16 autocast pay for StyleGAN2 training here? Our loop with --amp and --no-amp.

    python bench/train_amp_stylegan2.py [--device cpu|cuda] [--steps 30] [--rounds 3]

Runs `trainer.loop.iter_train` with the shipped twemoji model's settings (stylegan2-64,
cbase 1024, cmax 128, z/w 128, batch 16, x-flips), rounds alternating, timed between tick
events after a warm-up (the same timing as bench/train_throughput.py). --amp takes the
autocast path only where the device runs bfloat16 natively; elsewhere both rows are float32.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train_throughput import timed_run  # noqa: E402  (bench/ is the script's folder)
from trainer.loop import bf16_native  # noqa: E402

TWEMOJI = dict(data="twemoji", cbase=1024, cmax=128, z_dim=128, w_dim=128, batch=16, xflip=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=30, help="timed steps (multiple of --warmup)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if a.steps % a.warmup:
        ap.error("--steps must be a multiple of --warmup")
    print(f"device {a.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, native bfloat16: "
          f"{bf16_native(torch.device(a.device))}")
    on, off = [], []
    for r in range(a.rounds):
        on.append(timed_run("stylegan2-64", a.steps, a.warmup, device=a.device, amp=True, **TWEMOJI))
        off.append(timed_run("stylegan2-64", a.steps, a.warmup, device=a.device, amp=False, **TWEMOJI))
        print(f"round {r + 1}: --amp {on[-1]:6.1f} img/s   --no-amp {off[-1]:6.1f} img/s", flush=True)
    print(f"median: --amp {statistics.median(on):.1f} img/s, --no-amp {statistics.median(off):.1f} img/s "
          f"(x{statistics.median(on) / statistics.median(off):.2f})")


if __name__ == "__main__":
    main()
