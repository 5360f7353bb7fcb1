"""The events a training run reports, and `events.jsonl`, the file that carries them.

CONTRACT: the trainer writes these, the app (wizard, run list) reads them; add fields,
never rename or remove them. `events.jsonl` holds one JSON object per line, appended and
flushed as they happen; every object has "type" (one of EVENT_TYPES) and "time" (unix
seconds), plus the fields of that type's dataclass below.

A run that was killed (kill -9, power loss) has no "end" line and may end in a torn line
without a newline: readers skip it, and the next start begins on a new line. Its last
"checkpoint" line names what `--resume` will continue from. A resumed (or restarted) run
appends to the same file, starting with a new "start" event.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Start:
    config: dict                 # the resolved TrainConfig (as in config.json)
    total_kimg: float            # where training will stop
    run_dir: str                 # absolute path of the run directory
    resumed_from: str | None     # resume file this run continued from (None: from step 0)
    step: int                    # where it starts (0 unless resumed)
    kimg: float
    device: str                  # e.g. "cpu", "cuda:0" (this process's device)
    precision: str               # "bfloat16 autocast" or "float32"


@dataclass
class Tick:
    """Every --tick-kimg or --tick-seconds, whichever comes first."""
    step: int                    # optimiser steps so far (G and D one each)
    kimg: float                  # thousands of real images shown to D so far
    loss_G: float | None         # means since the previous tick (None: not finite)
    loss_D: float | None
    loss_r1: float | None        # mean R1 penalty (None when R1 is off)
    img_per_s: float             # training speed since the previous tick
    lr: float                    # G's learning rate
    eta_s: float | None          # seconds to total_kimg at the current speed
    aug_p: float | None          # augmentation probability (None when augment is off)
    loss_r2: float | None = None  # mean R2 penalty on fakes (--loss rpgan), None otherwise


@dataclass
class Metric:
    step: int
    kimg: float
    fid: float
    kid: float | None
    num_fakes: int
    num_reals: int


@dataclass
class Grid:
    step: int
    kimg: float
    path: str                    # sample grid PNG, relative to the run dir


@dataclass
class Checkpoint:
    step: int
    kimg: float
    path: str                    # the app's checkpoint (EMA G + D), relative
    resume: str                  # the full resume state, relative


@dataclass
class Warning:
    """Training goes on, but something looks wrong (the wizard shows `message`)."""
    step: int
    kimg: float
    kind: str                    # one of WARNING_KINDS
    message: str                 # one readable line: what happened and what to try


@dataclass
class End:
    reason: str                  # one of END_REASONS
    message: str                 # one readable line
    last_checkpoint: str | None  # relative path of the last good (loadable, finite) checkpoint
    step: int
    kimg: float
    save_failed: bool = False    # a write failed (full disk): the trainer exits with status 2


SCHEMA: dict[str, type] = {"start": Start, "tick": Tick, "metric": Metric, "grid": Grid,
                           "checkpoint": Checkpoint, "warning": Warning, "end": End}
EVENT_TYPES = tuple(SCHEMA)
END_REASONS = ("done", "stopped", "error", "nan")
WARNING_KINDS = ("d_collapse",)   # D's loss near 0 for many ticks: D wins, G learns nothing


def make(type_: str, **fields: Any) -> dict[str, Any]:
    """An event as written: the schema's fields checked (a missing or unknown one raises)."""
    if type_ not in SCHEMA:
        raise ValueError(f"unknown event type {type_!r}")
    return {"type": type_, "time": time.time(), **dataclasses.asdict(SCHEMA[type_](**fields))}


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
    """Appends events to events.jsonl, one flushed line each (readers can tail it).

    A file left by a killed run may end in a torn line; the first write then starts on a
    new line, so that line stays the only damaged one and the new events parse.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        torn = False
        try:
            with open(self.path, "rb") as f:
                f.seek(0, os.SEEK_END)
                if f.tell():
                    f.seek(-1, os.SEEK_END)
                    torn = f.read(1) != b"\n"
        except FileNotFoundError:
            pass
        self._f = open(self.path, "a", encoding="utf-8")
        self._pending = "\n" if torn else ""

    def write(self, event: dict[str, Any]) -> None:
        line = self._pending + json.dumps(_clean(event), allow_nan=False) + "\n"
        self._f.write(line)
        self._f.flush()
        self._pending = ""

    def close(self) -> None:
        try:
            self._f.close()
        except OSError:   # the last flush failed (full disk): the caller already reported it
            pass


def parse_line(raw: bytes | str) -> dict[str, Any] | None:
    """One line of events.jsonl -> the event, or None for a blank, torn or foreign line."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    raw = raw.strip()
    if not raw:
        return None
    try:
        event = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return None
    return event


class EventTail:
    """Incremental reader of one events.jsonl file.

    `read()` returns the events completed since the previous call. It never raises for
    a missing file (returns []) or a damaged line (counted in `bad_lines`, skipped).
    `restarted` becomes True when the file shrank or was replaced since the last read,
    meaning the caller should rebuild what it derived from earlier events.
    """

    def __init__(self, path: str | os.PathLike, max_read: int = 8 << 20) -> None:
        self.path = Path(path)          # the events.jsonl file (need not exist yet)
        self.max_read = max_read        # bytes read per call at most, so a huge file never stalls a caller
        self.offset = 0                 # bytes consumed so far
        self.bad_lines = 0              # lines that were not a JSON object with a "type"
        self.restarted = False          # set by read() when the file was truncated or replaced
        self._partial = b""             # a line whose newline has not been written yet
        self._ident: tuple[int, int] | None = None  # (st_dev, st_ino) of the file being read

    def reset(self) -> None:
        self.offset = 0
        self._partial = b""
        self._ident = None

    def read(self) -> list[dict[str, Any]]:
        self.restarted = False
        try:
            st = os.stat(self.path)
        except OSError:
            return []
        ident = (st.st_dev, st.st_ino)
        if (self._ident is not None and ident != self._ident) or st.st_size < self.offset:
            self.reset()
            self.restarted = True
        self._ident = ident
        if st.st_size == self.offset:
            return []
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read(self.max_read)
        except OSError:
            return []
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # b"" when data ended with a newline
        events = []
        for raw in lines:
            event = parse_line(raw)
            if event is not None:
                events.append(event)
            elif raw.strip():
                self.bad_lines += 1
        return events

    def finish(self) -> list[dict[str, Any]]:
        """The last line when it has no newline: a complete event, or (torn) nothing."""
        raw, self._partial = self._partial, b""
        event = parse_line(raw)
        if event is None and raw.strip():
            self.bad_lines += 1
        return [event] if event is not None else []

    @property
    def more_pending(self) -> bool:
        """True when the file holds bytes not read yet (the last read hit max_read)."""
        try:
            return os.stat(self.path).st_size > self.offset
        except OSError:
            return False


def read_events(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every event in a finished (or growing) events.jsonl, in order; torn or damaged
    lines are skipped. A missing file has no events."""
    tail = EventTail(path)
    events: list[dict[str, Any]] = []
    while True:
        events += tail.read()
        if not tail.more_pending:
            return events + tail.finish()
