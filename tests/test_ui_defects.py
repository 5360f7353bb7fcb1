"""Defects found by a day of real use (issue 11), each driven through the real widgets."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from test_ui_panels import _tiny_stylegan2
from ui_support import WAIT_MS, dcgan_path, make_window, open_and_wait, settings, settle, window  # noqa: F401

from ganexplorer.render.synth import seeds_to_ws


def test_no_duplicate_steps_on_a_stylegan(qtbot, settings, tmp_path, dcgan_path):
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, _tiny_stylegan2(tmp_path / "sg2.safetensors"))
        assert len(w.history) == 1                               # no "cutoff 1" on opening
        w.sample_panel.cutoff.setValue(4)
        w.sample_panel.cutoff.setValue(4)
        w.sample_panel.cutoff.valueChanged.emit(4)               # a second signal with the same value
        assert [lab for lab in w.history.labels() if lab.startswith("cutoff")] == ["cutoff 4"]
        w.show_panel(w.mix_panel)
        for _ in range(2):
            w.mix_panel.presets["middle"].click()
        w.mix_panel.range.setValue((3, 7))
        w.mix_panel.range.valueChanged.emit((3, 7))
        labels = w.history.labels()
        assert len(labels) == len(set(labels)), labels           # each action once
        w.show_panel(w.dir_panel)
        qtbot.waitUntil(lambda: len(w.dir_panel.rows) > 0, timeout=WAIT_MS)
        row = w.dir_panel.rows[0]
        n = len(w.history)
        row.layers.setValue((0, 2))
        row.layers.valueChanged.emit((0, 2))                      # the same range again
        assert len(w.history) == n + 1
        for a, b in zip(w.history._entries, w.history._entries[1:]):
            assert not a.state.same_as(b.state), f"{b.label!r} changes nothing"
        # a DCGAN after it: its cutoff range (0..1) clamps the box, which used to add "cutoff 1"
        open_and_wait(qtbot, w, dcgan_path)
        assert len(w.history) == 1, w.history.labels()
    finally:
        w.shutdown()


def test_an_edit_of_another_method_stays_visible_and_removable(qtbot, window):
    w = window
    w.show_panel(w.dir_panel)
    qtbot.waitUntil(lambda: len(w.dir_panel.rows) == 10, timeout=WAIT_MS)      # SeFa
    w.dir_panel.rows[2].slider.slider.setValue(120)
    assert [e.name for e in w.state.edits] == ["SeFa 2"]
    assert not w.dir_panel.others_box.isVisibleTo(w.dir_panel)
    w.dir_panel.method.setCurrentIndex(w.dir_panel.method.findData("pca"))
    qtbot.waitUntil(lambda: bool(w.dir_panel.rows) and w.dir_panel.rows[0].name.startswith("PCA"),
                    timeout=WAIT_MS)
    assert [e.name for e in w.state.edits] == ["SeFa 2"]                      # still applied ...
    assert w.dir_panel.others_box.isVisibleTo(w.dir_panel)                     # ... and shown
    rm = w.dir_panel.others_box.findChild(type(w.dir_panel.reset), "remove-SeFa 2")
    assert rm is not None and rm.isVisibleTo(w.dir_panel)
    rm.click()
    assert w.state.edits == () and w.history.labels()[-1] == "remove SeFa 2"
    assert not w.dir_panel.others_box.isVisibleTo(w.dir_panel)
    settle(qtbot, w)


def _wheel(widget, steps: int = 1) -> None:
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_the_wheel_changes_a_control_only_when_it_has_focus(qtbot, window):
    w = window
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)              # focus needs an active window
    w.show_panel(w.edit_panel)
    keep = w.edit_panel.lam_keep                                  # "Keep the rest"
    before = keep.value()
    other = w.edit_panel.steps_spin
    other.setFocus()
    qtbot.waitUntil(other.hasFocus, timeout=2000)
    _wheel(keep, 4)
    assert keep.value() == before                                 # scrolling past it changed nothing
    psi = w.sample_panel.psi.slider
    w.show_panel(w.sample_panel)
    v = psi.value()
    _wheel(psi, 2)
    assert psi.value() == v and w.state.psi == 1.0
    keep.setFocus()
    qtbot.waitUntil(keep.hasFocus, timeout=2000)
    _wheel(keep, 1)
    assert keep.value() == pytest.approx(before + keep.singleStep())   # focused: the wheel works


def test_edit_panel_actions_are_in_view_at_1280x800(qtbot, window):
    w = window
    w.resize(1280, 800)
    w.show()
    w.show_panel(w.edit_panel)
    qtbot.waitExposed(w)
    p = w.edit_panel
    for b in (p.accept_btn, p.discard_btn, p.project_btn):
        assert b.isVisibleTo(w)
        top = b.mapTo(w, QPoint(0, 0)).y()
        assert 0 <= top and top + b.height() <= w.height(), f"{b.text()} is below the fold ({top})"
        assert not b.visibleRegion().isEmpty(), f"{b.text()} is hidden"


def test_seed_box_stops_showing_a_seed_once_the_latent_is_replaced(qtbot, window):
    w = window
    box = w.sample_panel.seed
    w.sample_panel.next.click()
    assert box.text() == "1"
    w.set_ws(seeds_to_ws(w.current_model().G, [9]), "Projection")
    assert box.value() == box.minimum() and box.text() == "— Projection —"
    assert w.state.seed == 1                                      # the state is untouched
    assert len(w.history) == 3                                    # the box's -1 made no step
    w.sample_panel.next.click()                                   # back to seeds
    assert w.state.base_ws is None and w.state.seed == 2 and box.text() == "2"
    w.act_undo.trigger()
    assert box.text() == "— Projection —"
