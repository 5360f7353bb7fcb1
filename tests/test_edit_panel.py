"""The Edit panel in the real window (pytest-qt, offscreen): brush -> optimise -> accept."""
from __future__ import annotations

import numpy as np
from ui_support import WAIT_MS, dcgan_path, settings, settle, window  # noqa: F401  (fixtures)

from ganexplorer.latent.strokes import ColorStroke, SketchStroke, StrokeDocument, WarpStroke

RUN_MS = 60_000


def _panel(w, live: bool = False):
    """The Edit panel, shown. live=False: strokes wait for Optimise (the tests of the Optimise
    path); test_ui_edit_live.py drives the live mode."""
    from ganexplorer.ui.panels.edit_panel import EditPanel
    p = w.edit_panel
    assert isinstance(p, EditPanel)
    w.tabs.setCurrentWidget(p)
    p.live_box.setChecked(live)
    return p


def _draw(p, tool, points):
    p.set_tool(tool)
    p.overlay.pressed.emit(*points[0])
    for pt in points[1:]:
        p.overlay.moved.emit(*pt)
    p.overlay.released.emit(*points[-1])


def test_stroke_optimise_accept_is_one_undo_step(qtbot, window):
    w = window
    p = _panel(w)
    settle(qtbot, w)
    start = w.current_ws()
    assert start is not None and not p.run_btn.isEnabled()      # nothing drawn yet
    p.set_color((255, 0, 0))
    p.width_spin.setValue(4)
    _draw(p, "color", [(3.0, 3.0), (8.0, 4.0), (12.0, 6.0)])
    assert len(p.doc.strokes) == 1 and p.doc.strokes[0].color == (255, 0, 0)
    assert p.doc.strokes[0].points[0] == (3.0, 3.0) and p.run_btn.isEnabled()
    assert not p.overlay.image().isNull()
    p.steps_spin.setValue(15)
    p.cand_spin.setValue(4)
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):   # the work runs on a worker thread
        p.start_edit()
        assert p.running() and not p.run_btn.isEnabled() and p.cancel_btn.isEnabled()
        qtbot.waitUntil(lambda: p._updates > 0, timeout=RUN_MS)
    assert p.has_result() and p.preview.isVisible()
    assert p.strip.count() == 4 and p.slider.maximum() >= 15
    assert p.accept_btn.isEnabled()
    # The slider walks from the start (frame 0 = the image on screen) to the result,
    # along the winning candidate's path.
    np.testing.assert_allclose(p._frame_ws[-1], p.result_ws(), atol=1e-6)
    p.slider.setValue(0)
    np.testing.assert_array_equal(p._frame_ws[0], start)
    p.slider.setValue(p.slider.maximum())
    result = p.result_ws()
    assert not np.allclose(result, start)
    n = len(w.history)
    with qtbot.waitSignal(w.latentChanged, timeout=WAIT_MS):
        p.accept_result()
    settle(qtbot, w)
    assert len(w.history) == n + 1 and w.history.labels()[-1] == "Edit"
    np.testing.assert_allclose(w.current_ws(), result, atol=1e-6)
    assert not p.preview.isVisible() and p.doc.is_empty()
    # The accepted image is what the red stroke asked for: redder under the stroke.
    img = w.image_view.image().astype(float)
    with qtbot.waitSignal(w.latentChanged, timeout=WAIT_MS):
        w.undo()
    settle(qtbot, w)
    np.testing.assert_allclose(w.current_ws(), start, atol=1e-6)
    before = w.image_view.image().astype(float)
    red = lambda a: (a[2:7, 2:13, 0] - a[2:7, 2:13, 1:].mean(-1)).mean()
    assert red(img) > red(before)


def test_cancel_keeps_the_best_so_far(qtbot, window):
    w = window
    p = _panel(w)
    settle(qtbot, w)
    p.add_stroke(SketchStroke(1.0, [(2.0, 8.0), (14.0, 8.0)]))
    p.steps_spin.setValue(5000)
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.start_edit()
        qtbot.waitUntil(lambda: p._updates >= 3, timeout=RUN_MS)
        p.cancel()
    assert p.has_result() and "stopped" in p.status.text()
    assert p._last_event.cancelled and p._last_event.step < 5000
    p.discard_result()
    assert not p.has_result() and not p.preview.isVisible()


def test_warp_tool_two_drags(qtbot, window):
    p = _panel(window)
    _draw(p, "warp", [(4.0, 4.0), (10.0, 9.0)])          # select a region
    assert p.doc.is_empty() and p._warp_rect == (4.0, 4.0, 6.0, 5.0)
    _draw(p, "warp", [(6.0, 6.0), (8.0, 9.0)])           # drag it inside the box
    (st,) = p.doc.strokes
    assert isinstance(st, WarpStroke) and st.rect == (4.0, 4.0, 6.0, 5.0) and st.offset == (2.0, 3.0)
    _draw(p, "eraser", [(1.0, 1.0)])
    assert len(p.doc.strokes) == 2
    p.undo_stroke()
    assert len(p.doc.strokes) == 1
    p.show_box.setChecked(False)
    assert not p.overlay.isVisible()
    p.show_box.setChecked(True)
    p.clear_strokes()
    assert p.doc.is_empty() and not p.clear_btn.isEnabled()


def test_projection_then_accept_and_animation(qtbot, window, tmp_path):
    from PIL import Image
    w = window
    p = _panel(w)
    settle(qtbot, w)
    Image.fromarray(w.image_view.image()).resize((40, 40)).save(tmp_path / "photo.png")
    p.proj_steps.setValue(20)
    with qtbot.waitSignal(p.runFinished, timeout=RUN_MS):
        p.start_projection(str(tmp_path / "photo.png"))
    assert p.has_result() and "PSNR" in p.status.text()
    p.save_animation(str(tmp_path / "proj.gif"))
    qtbot.waitUntil(lambda: (tmp_path / "proj.gif").exists(), timeout=WAIT_MS)
    n = len(w.history)
    with qtbot.waitSignal(w.stateChanged, timeout=WAIT_MS):
        p.accept_result()
    assert len(w.history) == n + 1 and w.history.labels()[-1] == "Projection"


def test_strokes_file_round_trip_through_the_panel(qtbot, window, tmp_path):
    p = _panel(window)
    doc = StrokeDocument((32, 32), [ColorStroke((0, 255, 0), 4, [(8, 8), (16, 16)])])
    doc.save(tmp_path / "s.json")
    p.load_strokes(str(tmp_path / "s.json"))                # drawn at 32 px, the model makes 16
    (st,) = p.doc.strokes
    assert p.doc.canvas == (16, 16) and st.points == [(4.0, 4.0), (8.0, 8.0)] and st.width == 2


def test_model_jobs_run_on_their_own_copy_on_the_chosen_device(qtbot, window):
    """Editing, projection, warm-up and directions start through start_on_model: the job
    gets a copy of the networks on the window's device, never the render thread's G."""
    w = window
    model = w.current_model()
    assert w.jobs.device == "cpu"
    w.set_device("meta")             # stands in for a GPU: any device but the CPU
    try:
        assert w.jobs.device == "meta"
        seen = []
        w.jobs.start_on_model(model, lambda m: (m.G, m.G.w_avg.device.type, m.D), on_done=seen.append)
        qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
        G, device, D = seen[0]
        assert G is not model.G and device == "meta" and D is None
        assert model.G.w_avg.device.type == "cpu"
    finally:
        w.set_device("cpu")
