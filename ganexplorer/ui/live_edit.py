"""The worker side of live iGAN painting (Zhu et al. 2016: the result follows the brush).

No Qt here: the Edit panel runs `live_session` as one long job on the model's private copy
and talks to it through two one-slot boxes, newest wins in both directions:

    GUI thread                                   worker (the job's own G, D)
    inbox.put(LiveRequest) ──(replaces)──▶ req = inbox.take()
                                           for ev in edit_latent(..., init_ws=carried):
    tick (a queued signal) ◀── yield ────    outbox.put(LiveFrame(req.serial, ev))
    frame = outbox.take_nowait()              (yields only when the outbox was empty:
                                               at most one tick in flight, never a backlog)
                                             a newer request waiting: stop after this step
                                             and restart from this run's best candidates

A new stroke therefore interrupts the running optimisation after the step in progress
(one forward and backward pass), and its run continues from the candidates that run had
reached rather than from scratch. When a run ends (done, or the user's Cancel) the
winner's path start -> result is rendered for the slider and the animation (`Replay`).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..export.images import to_uint8
from ..latent.edit import EditConfig, EditProgress, Recording, edit_latent, warm_up
from ..latent.strokes import StrokeDocument, rasterize
from ..render.synth import synthesize

MAX_FRAMES = 240       # recorded frames kept for the slider and the animation
REPLAY_CHUNK = 16      # replay frames rendered between two looks at the inbox
IDLE_SLICE_S = 0.25    # an idle session looks at its stop flag this often


class SlotClosedError(RuntimeError):
    """The session behind this slot has ended: start a new one."""


class LatestSlot:
    """One thread-safe slot. `put` replaces what is there (newest wins) and tells whether the
    slot was empty; `take` waits for an item. Closed: `put` raises SlotClosedError."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item: Any = None
        self._full = False
        self._closed = False
        self.replaced = 0                  # items overwritten unseen (benches and tests read it)

    def put(self, item: Any) -> bool:
        """Store `item`; True when the slot was empty (the reader needs a nudge)."""
        with self._cond:
            if self._closed:
                raise SlotClosedError("the live session has ended")
            was_empty = not self._full
            self.replaced += 0 if was_empty else 1
            self._item, self._full = item, True
            self._cond.notify_all()
            return was_empty

    def take(self, timeout: float | None = None, close_if_idle: bool = False) -> Any:
        """The item (emptying the slot), or None on close or timeout. close_if_idle: a timeout
        closes the slot in the same breath, so no put can slip in unseen."""
        with self._cond:
            if not self._full and not self._closed:
                self._cond.wait(timeout)
            if not self._full:
                if close_if_idle:
                    self._closed = True
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def take_nowait(self) -> Any:
        return self.take(timeout=0)

    def pending(self) -> bool:
        with self._cond:
            return self._full

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._item, self._full = None, False
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


@dataclass
class LiveRequest:
    """One optimisation to run: the strokes so far (a snapshot) on the current latent."""
    serial: int                          # increases with every request; frames carry it back
    ws_start: np.ndarray | None          # [1, num_ws, w_dim]; None: stop the run, start nothing
    doc: StrokeDocument | None = None
    cfg: EditConfig = field(default_factory=EditConfig)
    carry: bool = True                   # continue from the interrupted run's best candidates
    cancel: threading.Event = field(default_factory=threading.Event)   # the user's Cancel


@dataclass
class Replay:
    """The winner's path start -> result, rendered on the worker after a run ends."""
    ws: np.ndarray        # [T, num_ws, w_dim]
    frames: np.ndarray    # [T, H, W, 3] uint8


@dataclass
class LiveFrame:
    """What the GUI shows next: the newest event of run `serial` (and, when that run has
    ended, its replay), or the run's error."""
    serial: int
    progress: EditProgress | None = None
    replay: Replay | None = None
    error: str | None = None
    carried: int = 0                     # candidates this run continued from


def carried_candidates(ev: EditProgress, k: int) -> np.ndarray:
    """[k, num_ws, w_dim]: the k best candidates of `ev`'s batch by its cost, best first."""
    order = np.argsort(ev.loss, kind="stable")[:max(1, k)]
    return np.asarray(ev.ws, np.float32)[order]


@dataclass
class RunEnd:
    """How one run ended (the session appends these to its `log`)."""
    serial: int
    steps: int            # Adam steps it made
    how: str              # 'done' | 'cancelled' (the user's Cancel) | 'interrupted' (a newer request)
    carried: int          # candidates it continued from
    t: float              # time.perf_counter() when it stopped


def _stopper(stop) -> Callable[[], bool]:
    return stop.is_set if hasattr(stop, "is_set") else stop


def _next_request(inbox: LatestSlot, stopped: Callable[[], bool], idle_s: float) -> LiveRequest | None:
    """The next request; None when stopped or after idle_s seconds without one (the inbox is
    then closed in the same breath). Waits in short slices so that a stop is seen soon."""
    deadline = time.monotonic() + idle_s
    while not stopped():
        left = deadline - time.monotonic()
        req = inbox.take(timeout=max(0.0, min(IDLE_SLICE_S, left)), close_if_idle=left <= IDLE_SLICE_S)
        if req is not None or inbox.closed:
            return req
    return None


def live_session(G, D, inbox: LatestSlot, outbox: LatestSlot, stop: threading.Event | Callable[[], bool],
                 idle_s: float = 30.0, warm_candidates: int = 8, log: list | None = None) -> Iterator[int]:
    """Serve live edit requests until `stop` (an Event or a callable), or `idle_s` seconds
    without one (the inbox then closes and the panel starts a new session on its next
    stroke). Yields a run's serial each time the outbox goes from empty to full: that is the
    GUI's cue to take a frame. `log` (a list) receives a RunEnd for every run."""
    stopped = _stopper(stop)
    warm_up(G, warm_candidates)       # PyTorch's lazy set-up, before the first stroke
    last: tuple[np.ndarray, EditProgress] | None = None    # the newest event of the previous run
    try:
        while not stopped():
            req = _next_request(inbox, stopped, idle_s)
            if req is None:
                return
            if req.ws_start is None or req.doc is None:
                continue                   # a stop without a new run
            carry = None
            if req.carry and last is not None and np.array_equal(last[0], req.ws_start):
                # Half of the batch continues (iGAN restarts from its current candidates);
                # the start and fresh perturbations fill the rest.
                carry = carried_candidates(last[1], max(1, req.cfg.candidates // 2))
            n_carried = 0 if carry is None else len(carry)
            try:
                cons = rasterize(req.doc, G.img_resolution)
                rec = Recording([req.ws_start])
                ev = None
                # A newer request (or a stop) ends the run after the step in progress: checked
                # after each event and after each Adam update.
                superseded = lambda: stopped() or inbox.pending()   # noqa: E731
                gen = edit_latent(G, req.ws_start, cons, req.cfg, D, req.cancel, init_ws=carry,
                                  interrupt=superseded)
                try:
                    for ev in gen:
                        rec.add(ev)
                        last = (req.ws_start, ev)
                        if ev.done:         # delivered below, with its replay: one end frame
                            break
                        if outbox.put(LiveFrame(req.serial, ev, carried=n_carried)):
                            yield req.serial
                        if superseded():
                            break
                finally:
                    gen.close()
                interrupted = ev is not None and not ev.done
                if log is not None and ev is not None:
                    how = "interrupted" if interrupted else ("cancelled" if ev.cancelled else "done")
                    log.append(RunEnd(req.serial, ev.step, how, n_carried, time.perf_counter()))
                if interrupted or ev is None:
                    continue
                replay = _replay(G, rec, inbox, stopped)
                if replay is None:
                    continue                # a newer stroke came while the replay rendered
                if outbox.put(LiveFrame(req.serial, ev, replay, carried=n_carried)):
                    yield req.serial
            except ValueError as e:         # bad strokes or settings: one sentence for the user
                if outbox.put(LiveFrame(req.serial, error=str(e))):
                    yield req.serial
    finally:
        inbox.close()


def _replay(G, rec: Recording, inbox: LatestSlot, stopped: Callable[[], bool]) -> Replay | None:
    path = rec.frames_ws(max_frames=MAX_FRAMES, hold=0)
    frames = []
    for i in range(0, len(path), REPLAY_CHUNK):
        if stopped() or inbox.pending():
            return None
        frames.append(to_uint8(synthesize(G, path[i:i + REPLAY_CHUNK])))
    return Replay(path, np.concatenate(frames))


def replay_projection(events: Iterator, outbox: LatestSlot, G) -> Iterator[int]:
    """Projection with the same newest-wins delivery: every event is recorded on the worker
    (so the slider and animation keep every step) but only the newest reaches the GUI.
    The last frame carries the replay of the best latent per step."""
    rec = Recording()
    last = None
    for ev in events:
        rec.add_ws(ev.ws)
        last = ev
        if not ev.done and outbox.put(LiveFrame(0, ev)):
            yield 0
    if last is None:
        return
    path = rec.frames_ws(max_frames=MAX_FRAMES, hold=0)
    frames = np.concatenate([to_uint8(synthesize(G, path[i:i + REPLAY_CHUNK]))
                             for i in range(0, len(path), REPLAY_CHUNK)])
    if outbox.put(LiveFrame(0, last, Replay(path, frames))):
        yield 0
