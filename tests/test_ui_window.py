"""The explorer window driven through its real widgets (pytest-qt, offscreen)."""
from __future__ import annotations

import numpy as np
import pytest
from ui_support import WAIT_MS, dcgan_path, drag, make_window, open_and_wait, settings, settle, window  # noqa: F401

from ganexplorer.export.images import to_uint8
from ganexplorer.render.synth import seeds_to_ws, synthesize
from ganexplorer.views import View


def shown(w) -> np.ndarray:
    return np.array(w.image_view.image(), copy=True)


def test_moving_a_slider_changes_the_image_and_a_drag_is_one_undo_step(qtbot, window):
    w = window
    before = shown(w)
    G = w.current_model().G
    assert not w.tabs.isTabVisible(w.tab_index(w.mix_panel))     # a DCGAN has no styles to mix
    assert np.array_equal(before, to_uint8(synthesize(G, seeds_to_ws(G, [0])))[0])
    steps = len(w.history)
    drag(w.sample_panel.psi.slider, [90, 70, 50])          # psi 1.0 -> 0.9 -> 0.7 -> 0.5
    settle(qtbot, w)
    assert w.state.psi == pytest.approx(0.5)
    assert len(w.history) == steps + 1                      # the whole drag: one step
    after = shown(w)
    assert not np.array_equal(before, after)
    assert np.array_equal(after, to_uint8(synthesize(G, seeds_to_ws(G, [0], 0.5)))[0])
    assert w.core.figures["grid"].meta["psi"] == 0.5            # the browse grid caught up on release
    # undo restores the previous image
    w.act_undo.trigger()
    settle(qtbot, w)
    assert w.state.psi == 1.0
    assert np.array_equal(shown(w), before)
    w.act_redo.trigger()
    settle(qtbot, w)
    assert np.array_equal(shown(w), after)
    # the spin box echoes the slider without a second undo step
    assert w.sample_panel.psi.spin.value() == pytest.approx(0.5)
    assert len(w.history) == steps + 1


def test_undo_moves_the_widgets_back_model_to_view(qtbot, window):
    """The model-to-view direction: after undo (a change not made by the widget) the
    slider and its spin box show the old value, also on a panel that was hidden."""
    w = window
    drag(w.sample_panel.psi.slider, [80, 60])               # psi 1.0 -> 0.6
    settle(qtbot, w)
    assert w.sample_panel.psi.slider.value() == 60
    w.show_panel(w.interp_panel)
    drag(w.interp_panel.t.slider, [250, 500])               # t 0 -> 0.5
    settle(qtbot, w)
    steps = len(w.history)
    w.act_undo.trigger()                                    # t back to 0, on screen now
    settle(qtbot, w)
    assert w.interp_panel.t.slider.value() == 0 and w.interp_panel.t.spin.value() == 0.0
    w.act_undo.trigger()                                    # psi back to 1, its panel hidden
    settle(qtbot, w)
    w.show_panel(w.sample_panel)
    assert w.sample_panel.psi.slider.value() == 100
    assert w.sample_panel.psi.spin.value() == pytest.approx(1.0)
    assert len(w.history) == steps and w.history.index == steps - 3   # showing echoed nothing


def test_panels_and_dialogs_see_a_narrow_context_not_the_window():
    """No panel or dialog imports main_window (the old type-level import cycle)."""
    import ast
    from pathlib import Path

    import ganexplorer.ui as ui
    root = Path(ui.__file__).parent
    for f in [*(root / "panels").glob("*.py"), root / "dialogs" / "export_dialog.py", root / "context.py"]:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any(m.endswith("main_window") for m in names), f.name


def test_seed_buttons_history_list_and_set_ws(qtbot, window):
    w = window
    w.sample_panel.next.click()
    settle(qtbot, w)
    assert w.state.seed == 1
    assert w.history_list.item(w.history_list.count() - 1).text() == "seed 1"
    G = w.current_model().G
    ws = seeds_to_ws(G, [77])
    with qtbot.waitSignal(w.latentChanged, timeout=WAIT_MS):
        w.set_ws(ws, "edit: test")
    settle(qtbot, w)
    assert np.array_equal(w.current_ws(), ws)
    assert w.history.labels()[-1] == "edit: test"
    with pytest.raises(ValueError):
        w.set_ws(np.zeros((1, 2, 3)), "wrong shape")
    w.history_list.jumpRequested.emit(1)                    # click in the history list
    settle(qtbot, w)
    assert w.state.seed == 1 and w.state.base_ws is None


def test_a_bad_file_leaves_the_old_model_loaded(qtbot, window, tmp_path):
    w = window
    old = w.current_model()
    image = shown(w)
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x00" * 100)
    with qtbot.waitSignal(w.modelLoadFailed, timeout=WAIT_MS) as sig:
        w.open_model(str(bad))
    assert "broken.safetensors" in sig.args[0]
    assert w.current_model() is old
    assert w._last_box.text() == sig.args[0]                # the loader's message, in a dialog
    from fixtures_path import EVIL
    hostile = EVIL / "reduce_os_system.pkl"
    if hostile.is_file():
        with qtbot.waitSignal(w.modelLoadFailed, timeout=WAIT_MS):
            w.open_model(str(hostile))
        assert w.current_model() is old
    w.change("seed 3", None, seed=3)                        # and the app keeps rendering
    settle(qtbot, w)
    assert not np.array_equal(shown(w), image)


def test_render_error_is_shown_over_the_image(qtbot, window):
    w = window
    with qtbot.waitSignal(w.renderFailed, timeout=WAIT_MS) as sig:
        w.set_view(View.ARITHMETIC)                         # its groups are empty
    assert "empty" in sig.args[0]
    assert "empty" in w.image_view.error_text()
    w.set_view(View.SAMPLE)
    settle(qtbot, w)
    assert w.image_view.error_text() == ""


def test_every_control_has_a_tooltip(qtbot, window):
    from PySide6.QtWidgets import (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit,
                                   QListWidget, QScrollBar, QToolButton)
    w = window
    composite = ("FloatSlider", "QLabeledRangeSlider", "QRangeSlider")   # a tip on the whole control
    missing = []
    for cls in (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget):
        for widget in w.findChildren(cls):
            if isinstance(widget, QScrollBar):                      # scrolling, not a control
                continue
            tip = widget.toolTip()
            if isinstance(widget, QToolButton) and widget.defaultAction() is not None:
                tip = tip or widget.defaultAction().toolTip()
            parent = widget.parentWidget()
            for _ in range(2):   # Qt shows a composite control's tip over its parts
                if not tip and parent is not None and (type(parent).__name__ in composite or
                                                       isinstance(parent, (QAbstractSpinBox, QComboBox))):
                    tip = parent.toolTip()
                    parent = parent.parentWidget()
            if not tip:
                missing.append(f"{type(widget).__name__} {widget.objectName()!r} in "
                               f"{type(widget.parentWidget()).__name__}")
    assert not missing, missing


def test_session_save_and_open_restores_the_exact_images(qtbot, window, tmp_path, settings, dcgan_path):
    w = window
    w.change("seed 5", None, seed=5, psi=0.8)
    settle(qtbot, w)
    w.pin_seed(2)
    w.pin_current()
    G = w.current_model().G
    w.set_ws(seeds_to_ws(G, [9]) * 0.5, "edit: halve")
    settle(qtbot, w)
    image = shown(w)
    path = tmp_path / "s.ganexplorer.json"
    w.save_session(str(path))
    w2 = make_window(qtbot, settings)
    try:
        with qtbot.waitSignal(w2.modelChanged, timeout=WAIT_MS):
            w2.open_session(str(path))
        settle(qtbot, w2)
        assert np.array_equal(shown(w2), image)
        assert [p.label for p in w2.state.pins] == [p.label for p in w.state.pins]
        assert np.array_equal(w2.state.pins[0].ws, w.state.pins[0].ws)
    finally:
        w2.shutdown()


def test_open_prompt_and_recent_files(qtbot, settings, dcgan_path):
    w = make_window(qtbot, settings)
    try:
        assert w.current_model() is None
        assert "Open a model" in w.image_view.prompt.text()
        open_and_wait(qtbot, w, dcgan_path)
        assert str(dcgan_path.resolve()) in w.recent_files()
        labels = [w.picker.itemText(i) for i in range(w.picker.count())]
        assert any("tiny" in t for t in labels) and labels[-1] == "Open…"
    finally:
        w.shutdown()


def test_python_m_ganexplorer_parses_a_checkpoint():
    from ganexplorer.ui.app import parse_args
    assert parse_args(["model.safetensors"]).checkpoint == "model.safetensors"
    assert parse_args([]).checkpoint is None


def test_mouse_click_pins_a_sample_and_a_pin_drops_into_a_group(qtbot, window):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QDropEvent
    w = window
    grid = w.sample_panel.grid
    item = grid.item(4)
    with qtbot.waitSignal(grid.clickedData, timeout=WAIT_MS):
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualItemRect(item).center())
    assert [(p.label, p.seed) for p in w.state.pins] == [("seed 4", 4)]
    settle(qtbot, w)
    assert w.pins_bar.list.count() == 1 and not w.pins_bar.list.item(0).icon().isNull()
    mime = w.pins_bar.list.mimeData([w.pins_bar.list.item(0)])
    w.show_panel(w.arith_panel)
    target = w.arith_panel.boxes[2].members
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    target.dropEvent(drop)
    assert w.state.sub(View.ARITHMETIC).groups[2].pin_ids == (w.state.pins[0].id,)


def test_dropping_a_file_on_the_window_opens_it(qtbot, window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    from tiny_models import save_tiny_dcgan
    w = window
    other = save_tiny_dcgan(tmp_path / "other.safetensors", seed=3)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.modelChanged, timeout=WAIT_MS):
        w.dropEvent(drop)
    assert w.current_model().path == other



def test_keyboard_shortcuts_for_the_frequent_actions(qtbot, window):
    """Offscreen windows are never active, so keys are not delivered: check the bindings and
    that the bound actions act."""
    from PySide6.QtGui import QKeySequence
    w = window
    keys = {a.text(): a.shortcut().toString() for a in w.actions() if not a.shortcut().isEmpty()}
    want = {"Open model…": QKeySequence.StandardKey.Open, "Undo": QKeySequence.StandardKey.Undo,
            "Redo": QKeySequence.StandardKey.Redo, "Save session…": QKeySequence.StandardKey.Save}
    for text, std in want.items():
        assert keys[text] == QKeySequence(std).toString()
    assert keys["Next seed"] == "Alt+Right" and keys["Previous seed"] == "Alt+Left"
    assert keys["Pin current latent"] == "P" and keys["Export…"] == "Ctrl+E"
    assert [keys[p.title] for p in w.panels[:5]] == [f"Ctrl+{i}" for i in range(1, 6)]
    assert len(set(keys.values())) == len(keys)                 # no key bound twice
    w.act_next.trigger()
    w.act_next.trigger()
    w.act_prev.trigger()
    settle(qtbot, w)
    assert w.state.seed == 1
    w.act_pin.trigger()
    assert [p.label for p in w.state.pins] == ["seed 1"]
    w.panel_actions[2].trigger()
    assert w.current_panel() is w.arith_panel


def test_every_view_has_its_tab_and_showing_it_shows_the_view(qtbot, window):
    w = window
    for view in View:                                       # the registry's views, one tab each
        p = w.panel_for(view)
        assert p is not None and p.view == view, view
        i = w.tab_index(p)
        assert i >= 0 and w.tabs.tabText(i) == p.title
        if w.tabs.isTabVisible(i):                          # (Style mixing is hidden for a DCGAN)
            w.set_view(view)
            assert w.current_panel() is p and w.view == view and w.state.view == view
    w.set_view(View.SAMPLE)
    settle(qtbot, w)
