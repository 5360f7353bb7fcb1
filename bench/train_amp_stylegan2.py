"""Does bfloat16 autocast pay for StyleGAN2 training here? Our loop with and without it.

    python bench/train_amp_stylegan2.py [--device cpu|cuda] [--steps 20] [--rounds 2]

Runs `trainer.loop.iter_train` with the shipped twemoji model's settings (stylegan2-64,
cbase 1024, cmax 128, z/w 128, batch 16, x-flips) with autocast forced on and off, rounds
alternating, timed between tick events after a warm-up. The trainer's default (--amp)
takes the autocast path wherever the device runs bfloat16 natively (trainer/loop.py).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer import loop  # noqa: E402
from trainer.config import from_preset  # noqa: E402

BATCH = 16


def rate(device: str, amp: bool, steps: int, warmup: int) -> float:
    loop.amp_enabled = lambda cfg, dev: amp     # force the choice the trainer would make
    with tempfile.TemporaryDirectory() as tmp:
        cfg = from_preset("stylegan2-64", data="twemoji", out=str(Path(tmp) / "run"), cbase=1024, cmax=128,
                          z_dim=128, w_dim=128, batch=BATCH, xflip=True, kimg=(warmup + steps) * BATCH / 1000,
                          tick_kimg=warmup * BATCH / 1000, tick_seconds=1e9, snap_kimg=1e6, grid_size=4,
                          progress=False, keep=1, device=device)
        t = {}
        for e in loop.iter_train(cfg):
            if e["type"] == "tick":
                t[e["step"]] = time.perf_counter()
        return steps * BATCH / (t[warmup + steps] - t[warmup])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=20, help="timed steps (multiple of --warmup)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    if a.steps % a.warmup:
        ap.error("--steps must be a multiple of --warmup")
    on, off = [], []
    for r in range(a.rounds):
        on.append(rate(a.device, True, a.steps, a.warmup))
        off.append(rate(a.device, False, a.steps, a.warmup))
        print(f"round {r + 1}: bfloat16 autocast {on[-1]:6.1f} img/s   float32 {off[-1]:6.1f} img/s", flush=True)
    print(f"median: bfloat16 autocast {statistics.median(on):.1f} img/s, float32 {statistics.median(off):.1f} img/s")


if __name__ == "__main__":
    main()
