"""The events a training run reports, and `events.jsonl`, the file that carries them.

CONTRACT (the training wizard and any other reader code against this; add fields, never
rename or remove them). `events.jsonl` in the run directory holds one JSON object per
line, appended and flushed as they happen; every object has

    "type": str       one of the types below
    "time": float     unix seconds when it was written

and, by type:

    start       "config": {...}        the resolved TrainConfig (as in config.json)
                "total_kimg": float    where training will stop
                "run_dir": str         absolute path of the run directory
                "resumed_from": str|null   resume file this run continued from
                "step": int, "kimg": float  where it starts (0 unless resumed)
                "device": str          e.g. "cpu", "cuda:0" (this process's device)
                "precision": str       "bfloat16 autocast" or "float32"
    tick        "step": int            optimiser steps so far (G and D one each)
                "kimg": float          thousands of real images shown to D so far
                "loss_G": float, "loss_D": float   means since the previous tick
                "loss_r1": float|null  mean R1 penalty (null when R1 is off)
                "img_per_s": float     training speed since the previous tick
                "lr": float            G's learning rate
                "eta_s": float         seconds to total_kimg at the current speed
                "aug_p": float|null    augmentation probability (null when augment is off)
                (ticks come every --tick-kimg or --tick-seconds, whichever is first)
    metric      "step", "kimg", "fid": float, "kid": float|null,
                "num_fakes": int, "num_reals": int
    grid        "step", "kimg", "path": str  sample grid PNG, relative to the run dir
    checkpoint  "step", "kimg", "path": str  the app's checkpoint (EMA G + D), relative
                "resume": str                the full resume state, relative
    end         "reason": "done" | "stopped" | "error" | "nan"
                "message": str               one readable line
                "last_checkpoint": str|null  relative path of the last good checkpoint
                "step", "kimg"

A run that was killed (kill -9, power loss) has no "end" line; its last "checkpoint"
line names what `--resume` will continue from. A resumed run appends to the same file,
starting with a new "start" event.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Iterator

EVENT_TYPES = ("start", "tick", "metric", "grid", "checkpoint", "end")
END_REASONS = ("done", "stopped", "error", "nan")


def make(type_: str, **fields: Any) -> dict[str, Any]:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return {"type": type_, "time": time.time(), **fields}


def _clean(v: Any) -> Any:
    # JSON has no NaN/Infinity; a non-finite number becomes null so every line parses.
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


class EventLog:
    """Appends events to events.jsonl, one flushed line each (readers can tail it)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._f = open(self.path, "a", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        self._f.write(json.dumps(_clean(event), allow_nan=False) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def read_events(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Parse events.jsonl, skipping a torn last line (a run killed mid-write)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
