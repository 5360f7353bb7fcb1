"""Live iGAN painting in the real window (pytest-qt, offscreen): the result follows the brush,
a newer stroke restarts the run, projection shows its target beside the result with PSNR,
and Accept / Discard stay in view at 1280x800."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from ui_support import WAIT_MS, dcgan_path, settings, settle, window  # noqa: F401  (fixtures)

RUN_MS = 60_000


def _live_panel(qtbot, w):
    p = w.edit_panel
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.tabs.setCurrentWidget(p)
    p.live_box.setChecked(True)
    settle(qtbot, w)
    w.image_view.fit()
    return p


def _mouse_stroke(qtbot, view, points) -> None:
    """Press, drag through image-pixel `points` with the left button held, release: real
    mouse events on the image view's viewport, as a person's hand makes them."""
    vp = view.viewport()

    def at(x: float, y: float) -> QPointF:
        return QPointF(view.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y))))

    def send(kind, pos: QPointF, button, buttons) -> None:
        ev = QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)
        qtbot.wait(20)          # pyqtgraph drops moves that come faster than the screen refreshes

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QEvent.Type.MouseButtonPress, at(*points[0]), left, left)
    for x, y in points[1:]:
        send(QEvent.Type.MouseMove, at(x, y), none, left)
    send(QEvent.Type.MouseButtonRelease, at(*points[-1]), left, none)


def test_a_painted_stroke_updates_the_candidates_without_optimise(qtbot, window):
    w = window
    p = _live_panel(qtbot, w)
    start = w.current_ws()
    before = w.image_view.image().astype(float)
    p.set_tool("color")
    p.set_color((255, 255, 255))
    p.width_spin.setValue(4)
    p.steps_spin.setValue(20)
    pressed = []
    p.run_btn.clicked.connect(lambda: pressed.append(True))
    shown = []
    p.candidatesShown.connect(lambda serial, step: shown.append((serial, step)))
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        _mouse_stroke(qtbot, w.image_view, [(3.0, 3.0), (6.0, 4.0), (9.0, 5.0), (12.0, 6.0)])
        assert len(p.doc.strokes) == 1                 # the mouse drew where it went
        np.testing.assert_allclose(p.doc.strokes[0].points[0], (3.0, 3.0), atol=0.05)
        assert p.running() and not pressed
    assert not pressed and shown and p.strip.count() == 4
    last = p.run_log[-1]
    assert last.how == "done" and last.steps == 20 and shown[-1] == (last.serial, 20)
    assert p.has_result() and p.accept_btn.isEnabled() and p.preview.isVisible()
    assert p.slider.maximum() >= 20 and not np.allclose(p.result_ws(), start)
    with qtbot.waitSignal(w.latentChanged, timeout=WAIT_MS):
        p.accept_result()
    settle(qtbot, w)
    assert w.history.labels()[-1] == "Edit" and p.doc.is_empty()
    # What the stroke asked for: brighter under it than the start image was.
    after = w.image_view.image().astype(float)
    assert after[2:7, 2:13].mean() > before[2:7, 2:13].mean()


def test_while_painting_runs_start_at_a_paced_rate(qtbot, window):
    w = window
    p = _live_panel(qtbot, w)
    p.set_tool("sketch")
    p.steps_spin.setValue(10)
    p.overlay.pressed.emit(2.0, 8.0)
    sent_while_drawing = []
    for i in range(12):                        # about 0.5 s of painting, the button held
        qtbot.wait(40)
        p.overlay.moved.emit(2.0 + i, 8.0 + (i % 2))
        sent_while_drawing.append(p._serial)
    assert p.doc.is_empty() and p._drawing is not None       # the stroke is not finished yet...
    assert 1 <= max(sent_while_drawing) <= 6                 # ...but runs went out, about every 150 ms
    assert p.running()
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.overlay.released.emit(14.0, 8.0)
    assert len(p.doc.strokes) == 1 and p.run_log[-1].serial == p._serial == max(sent_while_drawing) + 1
    assert p.run_log[-1].how == "done" and p.has_result()


def test_a_second_stroke_while_running_restarts_from_the_best_candidates(qtbot, window):
    from ganexplorer.latent.strokes import ColorStroke, SketchStroke
    w = window
    p = _live_panel(qtbot, w)
    p.steps_spin.setValue(5000)           # the first run cannot finish on its own
    p.cand_spin.setValue(4)
    shown = []
    p.candidatesShown.connect(lambda serial, step: shown.append((serial, step)))
    p.add_stroke(ColorStroke((255, 255, 255), 4, [(3.0, 3.0), (12.0, 6.0)]))
    first = p._serial
    qtbot.waitUntil(lambda: any(s == first and step >= 2 for s, step in shown), timeout=RUN_MS)
    p.steps_spin.setValue(10)
    p.add_stroke(SketchStroke(1.0, [(2.0, 12.0), (14.0, 12.0)]))
    second = p._serial
    assert second > first
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        pass
    ends = {e.serial: e for e in p.run_log}
    # The first run was stopped after the step in progress, promptly, and the second one
    # continued from 2 of its candidates (half of K = 4) and ran its 10 steps.
    assert ends[first].how == "interrupted" and ends[first].steps < 5000
    assert ends[first].t - p.submitted_at[second] < 2.0
    assert ends[second].how == "done" and ends[second].carried == 2 and ends[second].steps == 10
    # Once the second run showed a frame, nothing of the first one reached the strip.
    i = next(k for k, (s, _) in enumerate(shown) if s == second)
    assert all(s == second for s, _ in shown[i:])
    assert p.has_result() and "done" in p.status.text()


def test_projection_shows_target_beside_result_with_the_displayed_psnr(qtbot, window, tmp_path):
    from PIL import Image

    from ganexplorer.export.images import to_uint8
    from ganexplorer.latent.project import load_target
    from ganexplorer.render.synth import synthesize
    w = window
    p = _live_panel(qtbot, w)
    img = np.asarray(w.image_view.image())
    Image.fromarray(np.roll(img, 2, axis=1)).resize((40, 40)).save(tmp_path / "photo.png")
    p.proj_steps.setValue(15)
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.start_projection(str(tmp_path / "photo.png"))
    assert p.has_result() and p.compare.isVisible()
    G = w.current_model().G
    target = to_uint8(load_target(str(tmp_path / "photo.png"), G.img_resolution, G.img_channels))[0]
    result = to_uint8(synthesize(G, p.result_ws()))[0]           # what Accept would make current
    np.testing.assert_array_equal(p.compare.target, target)
    np.testing.assert_array_equal(p.compare.result, result)
    np.testing.assert_array_equal(p.preview.image, result)       # the big view shows that result
    mse = np.mean((target.astype(float) - result.astype(float)) ** 2)
    expected = 10 * math.log10(255 ** 2 / mse)
    assert p.compare.psnr_label.text() == f"PSNR {expected:.2f} dB"
    assert f"PSNR {expected:.2f} dB" in p.status.text()
    # Side by side: the target's picture left of the result's, on one row.
    t, r = p.compare.target_label, p.compare.result_label
    assert t.mapTo(p, QPoint(0, 0)).y() == r.mapTo(p, QPoint(0, 0)).y()
    assert t.mapTo(p, QPoint(t.width(), 0)).x() <= r.mapTo(p, QPoint(0, 0)).x()
    p.discard_result()
    assert not p.compare.isVisible()


def test_accept_and_discard_stay_visible_in_a_1280x800_window(qtbot, window):
    from ganexplorer.latent.strokes import ColorStroke
    w = window
    p = _live_panel(qtbot, w)
    p.live_box.setChecked(False)
    p.add_stroke(ColorStroke((255, 0, 0), 4, [(3.0, 3.0)]))
    assert (w.width(), w.height()) == (1280, 800)
    panel_rect = QRect(p.mapTo(w, QPoint(0, 0)), p.size())
    assert w.rect().contains(panel_rect)
    # Accept / Discard, and what a live run shows and is stopped with.
    for b in (p.accept_btn, p.discard_btn, p.run_btn, p.cancel_btn, p.live_box, p.strip, p.status, p.project_btn):
        box = QRect(b.mapTo(w, QPoint(0, 0)), b.size())
        assert b.isVisible() and panel_rect.contains(box), (b, box, panel_rect)
        # Not clipped by a scroll area or the dock: the whole widget is on screen.
        assert b.visibleRegion().boundingRect() == b.rect(), b
