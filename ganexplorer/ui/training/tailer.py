"""Follow a run's events.jsonl as the trainer appends to it.

A QFileSystemWatcher reports changes quickly where the platform supports it; a slow
QTimer poll catches what watchers miss (network drives, editors that replace files, a
file that did not exist yet). Each read is incremental and bounded (`EventTail`), so
following a long run never stalls the GUI thread.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from ...runs.events import EventTail
from ...runs.folder import EVENTS_FILE

POLL_MS = 400          # fallback poll while following
CHUNK = 1 << 20        # bytes parsed per turn of the event loop at most


class EventTailer(QObject):
    eventsArrived = Signal(list)   # list[dict]: new events, in file order
    restarted = Signal()           # the file was truncated or replaced: rebuild from scratch

    def __init__(self, run_dir: str | os.PathLike, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / EVENTS_FILE
        self.tail = EventTail(self.path, max_read=CHUNK)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._schedule)
        self._watcher.fileChanged.connect(self._schedule)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._pending = False

    def start(self) -> None:
        """Read what is there now and keep following."""
        self._watch()
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()
        paths = self._watcher.files() + self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)

    def is_following(self) -> bool:
        return self._timer.isActive()

    def _watch(self) -> None:
        if self.run_dir.is_dir() and str(self.run_dir) not in self._watcher.directories():
            self._watcher.addPath(str(self.run_dir))
        if self.path.is_file() and str(self.path) not in self._watcher.files():
            self._watcher.addPath(str(self.path))

    def _schedule(self, *_: object) -> None:
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.poll)

    def poll(self) -> None:
        """Read everything appended so far (in bounded chunks) and emit it."""
        self._pending = False
        self._watch()
        events = self.tail.read()
        if self.tail.restarted:
            self.restarted.emit()
        if events:
            self.eventsArrived.emit(events)
        if self.tail.more_pending:
            self._schedule()

    def drain(self) -> None:
        """Read to the end of the file now (used once the writer has exited)."""
        for _ in range(10_000):
            self.poll()
            if not self.tail.more_pending:
                break
