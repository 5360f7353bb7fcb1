"""The render thread's plumbing, without Qt: a one-slot mailbox, the serving loop, a stamp gate.

    GUI thread                       render thread
    mailbox.put(req)  ──(replaces)──▶ req = mailbox.take()
                                      same key as the last one rendered:
                                        answer with that result, restamped
                                      else result = renderer.render(req)
    gate.accept(result.stamp) ◀─────  deliver(result)   (a queued signal in the app)

Newest request wins: `put` overwrites a request the thread has not picked up yet. A
result older than one already shown (or older than the last `invalidate`, e.g. a model
switch) is dropped by the gate.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """One slot. `put` replaces what is there; `take` waits for something or for close."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.replaced = 0           # how many requests were overwritten unseen (for benches)

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.replaced += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout: float | None = None) -> T | None:
        """The pending item (emptying the slot), or None on close or timeout."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return None if self._closed else item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


def serve(mailbox: Mailbox, render: Callable, deliver: Callable) -> None:
    """The render thread's loop: take the newest request, render it, deliver the result.

    A request whose `key` equals the last one rendered is not rendered again: the last
    result goes back with the new stamp (the window may have dropped the first delivery as
    stale). A render in progress is not interrupted: stopping it whenever a newer request
    arrives starves a long drag of frames (measured: seconds without a frame when one
    render takes longer than two slider events). Returns when the mailbox is closed.
    `render` must not raise (Renderer.render never does)."""
    last = None
    while True:
        req = mailbox.take()
        if req is None:
            if mailbox.closed:
                return
            continue
        if last is not None and last.key == req.key:
            result = dataclasses.replace(last, stamp=req.stamp)
        else:
            result = render(req)
            last = result if getattr(result, "error", None) is None else None
        if mailbox.closed:
            return
        deliver(result)


class StampGate:
    """Stamps for outgoing requests, and the test that keeps stale results off the screen."""

    def __init__(self):
        self._next = 1
        self._shown = 0        # stamp of the result on screen
        self._floor = 0        # results below this belong to a previous model or view

    def next(self) -> int:
        stamp = self._next
        self._next += 1
        return stamp

    def invalidate(self) -> None:
        """Whatever was requested before now must not be shown (model closed, view switched)."""
        self._floor = self._next

    def accept(self, stamp: int) -> bool:
        """True (and remember it) when a result with `stamp` is newer than what is shown."""
        if stamp < self._floor or stamp <= self._shown:
            return False
        self._shown = stamp
        return True

    @property
    def latest(self) -> int:
        """The stamp of the newest request handed out."""
        return self._next - 1

    @property
    def shown(self) -> int:
        return self._shown


class RenderWorker:
    """The render thread without Qt: a daemon thread serving a mailbox.

    Daemon, because a render cannot be interrupted inside the generator: `stop` closes the
    mailbox and waits `timeout` seconds; a render still running then is left to finish (its
    result is never delivered) and dies with the process at exit. A QThread there made Qt
    abort the process ("QThread: Destroyed while thread is still running")."""

    def __init__(self, render: Callable, deliver: Callable, name: str = "render"):
        self.mailbox: Mailbox = Mailbox()
        self._render, self._deliver = render, deliver
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, req) -> None:
        self.mailbox.put(req)

    def _run(self) -> None:
        serve(self.mailbox, self._render, self._deliver)

    def stop(self, timeout: float = 2.0) -> bool:
        """Close the mailbox; True when the thread ended within `timeout` seconds."""
        self.mailbox.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()
