"""Crash recovery: the session autosaved to a file in the user's data folder, so a crash or a
`kill -9` loses nothing.

Each running window writes its own `recovery-<pid>.ganexplorer.json` (the session format of
session/io.py, so restoring is opening a session) after history steps, at most once per
`interval` seconds (the newest state is written when the interval is over: nothing is lost,
a drag does not write 60 files a second). A clean exit removes the file. At start, a file
whose process is gone is what a crash left: the window offers to restore it.

Plain Python, no Qt: the window only calls `changed()`, `flush_due()` and `finish()`.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .io import SUFFIX, SessionError, load_session, save_session
from .state import ModelRef, SessionState, View

PREFIX = "recovery-"
INTERVAL = 2.0                  # seconds between two autosaves during continuous work


def data_dir() -> Path:
    """The user data folder (XDG): $XDG_DATA_HOME/ganexplorer, else ~/.local/share/ganexplorer."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ganexplorer"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # someone else's process with that id: not ours, but alive
        return True
    return True


@dataclass(frozen=True)
class Orphan:
    """A recovery file left by a process that is gone."""
    path: Path
    model: ModelRef | None
    state: SessionState
    saved_at: float             # mtime, seconds since the epoch

    def summary(self) -> str:
        s = self.state
        model = Path(self.model.path).name if self.model is not None else "no model"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        grouped = sum(len(g.pin_ids) for g in s.sub(View.ARITHMETIC).groups)
        return (f"{model}, {len(s.pins)} pin(s), {grouped} pin(s) in groups, "
                f"{len(s.saved_directions)} saved direction(s), autosaved {when}")


def orphans(folder: Path | None = None) -> list[Orphan]:
    """Recovery files of dead processes, newest first (unreadable ones are skipped)."""
    folder = folder or data_dir()
    out = []
    for p in folder.glob(f"{PREFIX}*{SUFFIX}"):
        m = re.fullmatch(rf"{PREFIX}(\d+){re.escape(SUFFIX)}", p.name)
        if m is None or _alive(int(m.group(1))):
            continue
        try:
            ref, state = load_session(p)
            out.append(Orphan(p, ref, state, p.stat().st_mtime))
        except (SessionError, OSError):
            continue
    return sorted(out, key=lambda o: o.saved_at, reverse=True)


def discard(orphan: Orphan) -> None:
    orphan.path.unlink(missing_ok=True)


class Autosaver:
    """Throttled autosave of one window's session.

    `changed(model, state)` after every history step; it writes at once when the last write
    is older than `interval`, else remembers the state. `flush_due()` (the window calls it
    from a timer) writes the remembered state once the interval is over; `flush()` now.
    """

    def __init__(self, folder: Path | None = None, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.folder = folder or data_dir()
        self.path = self.folder / f"{PREFIX}{os.getpid()}{SUFFIX}"
        self.interval = interval
        self._clock = clock
        self._last = -float("inf")
        self._pending: tuple[ModelRef | None, SessionState] | None = None
        self.writes = 0
        self.error = ""             # the last write's problem, for the status bar

    def changed(self, model: ModelRef | None, state: SessionState) -> None:
        self._pending = (model, state)
        self.flush_due()

    def flush_due(self) -> bool:
        """Write the pending state if the interval is over; True when something was written."""
        if self._pending is None or self._clock() - self._last < self.interval:
            return False
        return self.flush()

    def flush(self) -> bool:
        if self._pending is None:
            return False
        model, state = self._pending
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save_session(self.path, model, state)
        except OSError as e:
            self.error = f"could not autosave to {self.path}: {e.strerror or e}"
            return False
        self._pending = None
        self._last = self._clock()
        self.writes += 1
        self.error = ""
        return True

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def finish(self) -> None:
        """A clean exit: nothing to recover."""
        self._pending = None
        self.path.unlink(missing_ok=True)
