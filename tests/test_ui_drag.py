"""The Drag panel (DragGAN in the window) on the bundled 64-px StyleGAN2, driven with real
mouse clicks on the image view: points placed, steps run as frames, the handle moves toward
its target, the drag is one undo step, the GUI thread keeps running, recordings are written;
a DCGAN says why dragging is not available (pytest-qt, offscreen)."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from ui_support import WAIT_MS, dcgan_path, make_window, open_and_wait, settings, settle  # noqa: F401

from edit_helpers import bundled_stylegan2_path, torch_threads
from ganexplorer.ui.panels.drag import DragPanel
from ganexplorer.views import View

RUN_MS = 120_000
# A handle on the mouth of seed 2 dragged 8 px left: it arrives within 100 steps (test_drag.py).
HANDLE, TARGET = (30.0, 43.0), (22.0, 43.0)


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


_sg2_path = bundled_stylegan2_path


def _shown_panel(qtbot, w) -> DragPanel:
    w.show()
    qtbot.waitExposed(w)
    panel = next(p for p in w.panels if isinstance(p, DragPanel))
    w.show_panel(panel)
    qtbot.waitUntil(lambda: panel.isVisible() and w.image_view.image() is not None, timeout=WAIT_MS)
    w.image_view.fit()
    return panel


@pytest.fixture
def sg2(qtbot, settings):  # noqa: F811
    w = make_window(qtbot, settings)
    open_and_wait(qtbot, w, _sg2_path())
    w.change("seed 2", None, seed=2)
    settle(qtbot, w)
    p = _shown_panel(qtbot, w)
    yield w, p
    p.stop()
    w.shutdown()


def _widget_pos(w, x: float, y: float) -> QPoint:
    """Image pixel (x, y) (centres at integers) -> a point of the image view's viewport."""
    scene = w.image_view.view_box.mapViewToScene(QPointF(x + 0.5, y + 0.5))
    return w.image_view.mapFromScene(scene)


def click(qtbot, w, x: float, y: float, button=Qt.MouseButton.LeftButton) -> None:
    qtbot.mouseClick(w.image_view.viewport(), button, pos=_widget_pos(w, x, y))


def mouse_drag(qtbot, w, points) -> None:
    vp = w.image_view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=_widget_pos(w, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(vp, _widget_pos(w, x, y))
        qtbot.wait(30)      # pyqtgraph drops mouse moves that come faster than it redraws
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=_widget_pos(w, *points[-1]))


def place(qtbot, w, p, handle, target) -> None:
    n = len(p.handles)
    click(qtbot, w, *handle)
    click(qtbot, w, *target)
    assert len(p.handles) == n + 1
    # The clicks land on the pixels meant (the view maps image pixels, not widget pixels).
    assert p.handles[-1] == tuple(map(float, handle)) and p.targets[-1] == tuple(map(float, target))


def test_drag_moves_the_handle_and_is_one_undo_step(qtbot, sg2):
    w, p = sg2
    ws0, img0 = w.current_ws(), np.array(w.image_view.image(), copy=True)
    p.steps_spin.setValue(100)
    assert w.history.labels()[-1] == "drag 100 steps" and w.state.sub(View.DRAG).steps == 100
    labels0 = w.history.labels()
    place(qtbot, w, p, HANDLE, TARGET)
    assert p.start_btn.isEnabled() and not p.stop_btn.isEnabled()
    start_d = float(np.hypot(TARGET[0] - HANDLE[0], TARGET[1] - HANDLE[1]))
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.start()
        assert p.running() and p.stop_btn.isEnabled() and not p.start_btn.isEnabled()
        # Frames arrive while it runs, and the tracked handle closes in on the target.
        qtbot.waitUntil(lambda: p.last_frame is not None and p.last_frame.distances[0] <= start_d - 4,
                        timeout=RUN_MS)
        assert p.frames_shown >= 2
        assert np.array_equal(p.preview.image, p.last_frame.image) and p.preview.isVisible()
        p.stop()
    f = p.last_frame
    assert f.distances[0] <= start_d - 4 and f.step <= 100
    assert p.frames_shown <= f.step                       # newest wins: never more frames than steps
    # The handle now sits where tracking left it (the next Start drags on from there).
    assert np.allclose(p.handles[0], f.handles[0])
    # One undo step; the shown image is the drag's last frame.
    assert w.history.labels() == labels0 + ["Drag"]
    settle(qtbot, w)
    assert not np.array_equal(w.current_ws(), ws0)
    assert np.abs(w.image_view.image().astype(int) - f.image.astype(int)).max() <= 1
    w.undo()
    settle(qtbot, w)
    assert np.array_equal(w.current_ws(), ws0)
    assert np.array_equal(w.image_view.image(), img0)
    assert not p.preview.isVisible()


def test_the_gui_thread_runs_while_dragging(qtbot, sg2):
    w, p = sg2
    place(qtbot, w, p, HANDLE, TARGET)
    p.steps_spin.setValue(10_000)
    p.r2_spin.setValue(1)       # keep it from arriving early: it must still run when we look
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.start()
        timer.start()
        qtbot.waitUntil(lambda: len(ticks) >= 30 and p.frames_shown >= 3, timeout=RUN_MS)
        running = p.running()
        labels = w.history.labels()
        w.change("seed 5", None, seed=5)     # another latent meanwhile ends the drag, unapplied
    timer.stop()
    assert running                      # the event loop ran the timer while the drag went on
    gaps = np.diff(ticks)
    assert gaps.max() < 1.0             # never a second without the event loop (loaded 2-core CI box)
    assert w.history.labels() == labels + ["seed 5"] and w.state.seed == 5 and w.state.base_ws is None
    assert "dropped" in p.status.text()


def test_points_removed_and_mask_painted_with_the_mouse(qtbot, sg2):
    w, p = sg2
    place(qtbot, w, p, (10, 10), (20, 10))
    place(qtbot, w, p, (40, 40), (40, 50))
    click(qtbot, w, 20.5, 10.5, Qt.MouseButton.RightButton)       # near the first target
    assert p.handles == [(40.0, 40.0)] and p.targets == [(40.0, 50.0)]
    p.set_tool("mask")
    p.brush_spin.setValue(3)
    mouse_drag(qtbot, w, [(10, 30), (20, 30), (30, 30)])
    assert p.mask is not None and p.overlay.has_mask()
    assert p.mask[30, 10:31].min() == 1.0            # the stroke, end to end
    assert p.mask[5].max() == 0 and p.mask[40].max() == 0   # nothing far from it
    p.clear_mask()
    assert p.mask is None and not p.overlay.has_mask()
    p.set_tool("points")
    p.clear_points()
    assert p.handles == [] and not p.start_btn.isEnabled()


def test_recording_saves_gif_and_mp4_with_the_track(qtbot, sg2, tmp_path):
    w, p = sg2
    place(qtbot, w, p, HANDLE, TARGET)
    p.record_box.setChecked(True)
    p.steps_spin.setValue(5)
    p.r2_spin.setValue(1)
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.start()
    assert p.recording is not None and len(p.recording) == 5 and p.save_btn.isEnabled()
    for name in ("drag.gif", "drag.mp4"):
        with qtbot.waitSignal(p.recordingSaved, timeout=RUN_MS):
            p.save_recording(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0
    meta = json.loads((tmp_path / "drag.json").read_text())
    assert meta["checkpoint"] == _sg2_path().name and meta["seed"] == 2
    assert meta["targets"] == [list(TARGET)] and [t["step"] for t in meta["track"]] == [1, 2, 3, 4, 5]
    with Image.open(tmp_path / "drag.gif") as gif:
        assert meta["frames"] == 6 + 8                      # start, 5 steps, the result held
        assert gif.n_frames >= 6                            # (GIF merges the identical held frames)
        first = np.asarray(gif.convert("RGB"))
    s = first.shape[0] // 64                                # frames are enlarged for the markers
    hx, hy = (int((c + 0.5) * s) for c in p._rec_meta["handles"][0])
    tx, ty = (int((c + 0.5) * s) for c in TARGET)
    assert first[hy, hx, 0] > 180 and first[hy, hx, 2] < 90      # a red handle dot
    r, g, b = first[ty, tx].astype(int)
    assert b > r + 80 and b > g + 50                             # a blue target dot (GIF palettes shift it)


def test_a_dcgan_says_why_dragging_is_not_available(qtbot, settings, dcgan_path):  # noqa: F811
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, dcgan_path)
        p = _shown_panel(qtbot, w)
        assert p.unavailable.isVisible()
        text = p.unavailable.text()
        assert "StyleGAN2 or StyleGAN3" in text and "DCGAN" in text and text.count(".") == 1
        assert not p.start_btn.isEnabled()
        click(qtbot, w, 10, 10)
        click(qtbot, w, 20, 10)
        assert p.handles == [] and p.pending is None
    finally:
        w.shutdown()
