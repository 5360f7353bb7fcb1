"""Live iGAN painting without a window: the newest-wins slots, restarting from the best
candidates (edit_latent's init_ws) and the worker loop that the Edit panel runs."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from ganexplorer.latent.edit import EditConfig, edit_latent
from ganexplorer.latent.strokes import ColorStroke, SketchStroke, StrokeDocument, rasterize
from ganexplorer.render.synth import seeds_to_ws
from ganexplorer.ui.live_edit import (LatestSlot, LiveRequest, SlotClosedError, carried_candidates,
                                      live_session)

from edit_helpers import shipped_dcgan, shipped_dcgan_path


@pytest.fixture(autouse=True)
def one_thread():
    from edit_helpers import torch_threads
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def model():
    if shipped_dcgan_path() is None:
        pytest.skip("no shipped DCGAN in resources/models")
    return shipped_dcgan()


def test_latest_slot_newest_wins_and_closes_when_idle():
    s = LatestSlot()
    assert s.put("a") is True            # was empty: the reader needs a nudge
    assert s.put("b") is False           # replaced unseen: no second nudge, no backlog
    assert s.replaced == 1 and s.pending()
    assert s.take_nowait() == "b" and not s.pending() and s.take_nowait() is None
    assert s.take(timeout=0.01, close_if_idle=True) is None and s.closed
    with pytest.raises(SlotClosedError):
        s.put("c")


def test_init_ws_continues_from_the_given_candidates(model):
    G = model.G
    R = G.img_resolution
    ws = seeds_to_ws(G, [3])
    cons = rasterize(StrokeDocument((R, R), [ColorStroke((255, 255, 255), 6, [(8, 8), (20, 10)])]), R)
    cfg = EditConfig(steps=3, candidates=6)
    first = list(edit_latent(G, ws, cons, cfg))
    carry = carried_candidates(first[-1], 3)                      # the 3 best, best first
    np.testing.assert_allclose(carry[0], first[-1].ws[np.argmin(first[-1].loss)])
    ev0 = next(edit_latent(G, ws, cons, cfg, init_ws=carry))
    # Slots 0..2 are the carried candidates (z stays on the start's shell), slot 3 the start itself.
    np.testing.assert_allclose(ev0.ws[:3], carry, atol=1e-5)
    np.testing.assert_allclose(ev0.ws[3], ws[0], atol=1e-6)
    assert np.linalg.norm(ev0.ws[:3, 0], axis=-1) == pytest.approx(np.linalg.norm(ws[0, 0]), rel=1e-5)
    # Continuing starts where the first run got to: its best cost, not the start's.
    assert ev0.loss[:3].min() <= first[-1].loss.min() + 1e-6 < first[0].loss.min()
    with pytest.raises(ValueError, match="init_ws must be"):
        next(edit_latent(G, ws, cons, cfg, init_ws=np.zeros((2, 3), np.float32)))


def test_session_restarts_on_a_newer_request_from_the_best_candidates(model):
    G = model.G
    R = G.img_resolution
    ws = seeds_to_ws(G, [5])
    inbox, outbox, stop, log = LatestSlot(), LatestSlot(), threading.Event(), []
    doc1 = StrokeDocument((R, R), [ColorStroke((255, 255, 255), 6, [(6, 6), (24, 8)])])
    doc2 = StrokeDocument((R, R), doc1.strokes + [SketchStroke(2, [(4, 24), (28, 24)])])
    inbox.put(LiveRequest(1, ws, doc1, EditConfig(steps=5000, candidates=4)))
    seen = []
    session = live_session(G, None, inbox, outbox, stop, idle_s=0.05, log=log)
    for serial in session:
        frame = outbox.take_nowait()
        seen.append((frame.serial, frame.progress.step, frame.replay is not None, frame.carried))
        if serial == 1 and frame.progress.step == 3:
            inbox.put(LiveRequest(2, ws, doc2, EditConfig(steps=6, candidates=4)))   # the next stroke
    # Run 1 stopped right after the step in progress when run 2 arrived; run 2 ran to its end,
    # starting from 2 of run 1's candidates, and ended with one frame carrying its replay.
    assert log[0].serial == 1 and log[0].how == "interrupted" and log[0].steps <= 4
    assert log[1].serial == 2 and log[1].how == "done" and log[1].carried == 2
    assert max(step for s, step, _, _ in seen if s == 1) <= 4
    ends = [x for x in seen if x[2]]
    assert ends == [(2, 6, True, 2)] and seen[-1] == ends[0]
    assert inbox.closed                 # idle: the session ended and closed its inbox
    # The outbox was drained after every nudge here, so nothing was replaced unseen.
    assert outbox.replaced == 0 and all(s in (1, 2) for s, *_ in seen)


def test_session_reports_bad_strokes_as_a_frame_error(model):
    G = model.G
    inbox, outbox, stop = LatestSlot(), LatestSlot(), threading.Event()
    doc = StrokeDocument((8, 8), [ColorStroke((255, 0, 0), 2, [(1, 1)])])
    inbox.put(LiveRequest(7, seeds_to_ws(G, [1]), doc, EditConfig(steps=0)))
    serials = list(live_session(G, None, inbox, outbox, stop, idle_s=0.05))
    frame = outbox.take_nowait()
    assert serials == [7] and frame.serial == 7 and "steps must be at least 1" in frame.error


def test_interrupt_ends_the_run_after_an_update_without_a_last_event(model):
    G = model.G
    R = G.img_resolution
    cons = rasterize(StrokeDocument((R, R), [ColorStroke((255, 255, 255), 6, [(8, 8)])]), R)
    asked = []
    before = [p.requires_grad for p in G.parameters()]
    G.requires_grad_(True)                  # so that the restore below is seen
    events = list(edit_latent(G, seeds_to_ws(G, [2]), cons, EditConfig(steps=50, candidates=2),
                              interrupt=lambda: asked.append(1) or len(asked) >= 3))
    # Checked after each Adam update (not before step 0); the third check stops it: steps 0-2
    # were shown, none of them is a `done` event.
    assert [ev.step for ev in events] == [0, 1, 2] and not any(ev.done for ev in events)
    assert len(asked) == 3
    assert all(p.requires_grad for p in G.parameters())     # the run gave G back as it found it
    for p, r in zip(G.parameters(), before):
        p.requires_grad_(r)
