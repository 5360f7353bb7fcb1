"""What a training run's events add up to, for the live view and the run list. No Qt.

The events schema, `EventTail` (the incremental reader) and `read_events` are defined once
in `ganexplorer.runs.events`, which the trainer writes with; they are re-exported here.
`RunHistory` folds events into what a live view shows: curves, FID points, the newest grid,
checkpoints, warnings and how the run ended. Unknown event types and unknown fields are kept
or ignored, never an error: the trainer may grow.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..runs.events import EventTail, read_events  # noqa: F401 (re-exported for the UI)
from ..runs.folder import EVENTS_FILE

# Loss-like tick fields drawn as curves, in drawing order. Any other numeric tick field
# whose name starts with "loss_" is picked up as well (a trainer may add regularisers).
KNOWN_LOSSES = ("loss_G", "loss_D", "loss_r1", "loss_r2", "loss_gp", "loss_pl")


def _number(value: Any) -> float | None:
    """A finite-or-NaN float from a JSON value; None for null, strings and the rest."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


@dataclass
class Curve:
    """One scalar series against kimg."""
    kimg: list[float] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def append(self, kimg: float, value: float) -> None:
        self.kimg.append(kimg)
        self.value.append(value)

    def drop_from(self, kimg: float) -> None:
        """Forget points at or after `kimg` (a resumed run replays them)."""
        n = len(self.kimg)
        while n and self.kimg[n - 1] >= kimg:
            n -= 1
        del self.kimg[n:], self.value[n:]

    def __len__(self) -> int:
        return len(self.kimg)


@dataclass
class Checkpoint:
    step: int
    kimg: float
    path: Path                  # the EMA generator checkpoint the explorer opens
    resume: Path | None         # the full training state, when the trainer names one


def ema_smooth(values: Iterable[float], weight: float = 0.8) -> list[float]:
    """TensorBoard-style exponential smoothing with bias correction; NaN/inf pass through
    as gaps without poisoning later points."""
    out: list[float] = []
    acc = 0.0
    norm = 0.0
    for v in values:
        if not math.isfinite(v):
            out.append(float("nan"))
            continue
        acc = acc * weight + (1.0 - weight) * v
        norm = norm * weight + (1.0 - weight)
        out.append(acc / norm)
    return out


class RunHistory:
    """What the events of one run add up to. Feed it with `apply(events)`."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.clear()

    def clear(self) -> None:
        self.start: dict[str, Any] | None = None       # the newest start event
        self.starts = 0                                # how many times the run was (re)started
        self.losses: dict[str, Curve] = {}             # "loss_G" -> curve against kimg
        self.img_per_s = Curve()
        self.aug_p = Curve()
        self.fid = Curve()
        self.kid = Curve()
        self.last_tick: dict[str, Any] | None = None
        self.grids: list[tuple[float, Path]] = []      # (kimg, absolute path), oldest first
        self.checkpoints: list[Checkpoint] = []        # oldest first
        self.end: dict[str, Any] | None = None         # the end event of the current attempt
        self.warnings: list[dict[str, Any]] = []       # warning events of the current attempt (divergence)
        self.events = 0                                # events applied

    # -- derived ---------------------------------------------------------------

    @property
    def total_kimg(self) -> float | None:
        return _number(self.start.get("total_kimg")) if self.start else None

    @property
    def config(self) -> dict[str, Any]:
        cfg = self.start.get("config") if self.start else None
        return cfg if isinstance(cfg, dict) else {}

    @property
    def kimg(self) -> float:
        """The furthest point reached: last tick, checkpoint or metric."""
        values = [0.0]
        if self.last_tick is not None:
            values.append(_number(self.last_tick.get("kimg")) or 0.0)
        if self.checkpoints:
            values.append(self.checkpoints[-1].kimg)
        return max(values)

    @property
    def latest_grid(self) -> tuple[float, Path] | None:
        return self.grids[-1] if self.grids else None

    def last_good_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint whose generator file exists on disk."""
        for ckpt in reversed(self.checkpoints):
            if ckpt.path.is_file():
                return ckpt
        return None

    # -- folding ---------------------------------------------------------------

    def resolve(self, path: Any) -> Path | None:
        if not isinstance(path, str) or not path:
            return None
        p = Path(path)
        return p if p.is_absolute() else self.run_dir / p

    def apply(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.events += 1
            kind = event.get("type")
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                handler(event)

    def _on_start(self, e: dict[str, Any]) -> None:
        self.start = e
        self.starts += 1
        self.end = None
        self.warnings = []
        # A resumed run starts again from its checkpoint's kimg: later points are replayed.
        kimg = _number(e.get("kimg"))
        if kimg is not None and self.last_tick is not None:
            for curve in self._curves():
                curve.drop_from(kimg + 1e-9)

    def _on_tick(self, e: dict[str, Any]) -> None:
        kimg = _number(e.get("kimg"))
        if kimg is None:
            return
        # A resumed run continues from its last checkpoint: ticks after it are replayed.
        if self.last_tick is not None and kimg <= (_number(self.last_tick.get("kimg")) or 0.0):
            for curve in self._curves():
                curve.drop_from(kimg)
        self.last_tick = e
        for key, value in e.items():
            if key in KNOWN_LOSSES or key.startswith("loss_"):
                v = _number(value)
                if v is not None:
                    self.losses.setdefault(key, Curve()).append(kimg, v)
        for key, curve in (("img_per_s", self.img_per_s), ("aug_p", self.aug_p)):
            v = _number(e.get(key))
            if v is not None:
                curve.append(kimg, v)

    def _curves(self) -> list[Curve]:
        return [*self.losses.values(), self.img_per_s, self.aug_p]

    def _on_metric(self, e: dict[str, Any]) -> None:
        kimg = _number(e.get("kimg"))
        if kimg is None:
            return
        for key, curve in (("fid", self.fid), ("kid", self.kid)):
            v = _number(e.get(key))
            if v is not None:
                curve.drop_from(kimg)
                curve.append(kimg, v)

    def _on_grid(self, e: dict[str, Any]) -> None:
        path = self.resolve(e.get("path"))
        if path is not None:
            self.grids.append((_number(e.get("kimg")) or 0.0, path))

    def _on_checkpoint(self, e: dict[str, Any]) -> None:
        path = self.resolve(e.get("path"))
        if path is None:
            return
        self.checkpoints.append(Checkpoint(step=int(_number(e.get("step")) or 0),
                                           kimg=_number(e.get("kimg")) or 0.0,
                                           path=path, resume=self.resolve(e.get("resume"))))

    def _on_warning(self, e: dict[str, Any]) -> None:
        if isinstance(e.get("message"), str):
            self.warnings.append(e)

    def _on_end(self, e: dict[str, Any]) -> None:
        self.end = e


def load_history(run_dir: str | os.PathLike) -> RunHistory:
    """A RunHistory rebuilt from a run folder's events.jsonl (empty if there is none)."""
    history = RunHistory(run_dir)
    history.apply(read_events(Path(run_dir) / EVENTS_FILE))
    return history
