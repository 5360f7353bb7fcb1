"""Tiny training runs shared by the trainer tests: a 16-px DCGAN on `digits` that trains in
seconds, run in-process (run_all) or as a child process (trainer_env)."""
from __future__ import annotations

import os
from pathlib import Path

from trainer.config import from_preset
from trainer.loop import iter_train

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="digits", resolution=16, ngf=8, ndf=8, z_dim=16, batch=16, grid_size=4,
            progress=False, threads=1, tick_seconds=0.5, device="cpu")


def tiny(out, **kw):
    return from_preset("dcgan-32", out=str(out), **{**TINY, **kw})


def run_all(cfg, **kw):
    """Every event of iter_train(cfg) and its return value."""
    events = []
    gen = iter_train(cfg, **kw)
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        return events, stop.value


def trainer_env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
