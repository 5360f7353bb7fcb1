"""The hooks other modules use: the Edit panel's window API and the training wizard."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from ui_support import WAIT_MS, dcgan_path, make_window, open_and_wait, settings, settle  # noqa: F401

from ganexplorer.render.synth import seeds_to_ws


def _fake_edit_module():
    """An Edit panel written only against main_window's documented API."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

    class EditPanel(QWidget):
        title = "Edit"

        def __init__(self, window):
            super().__init__()
            self.window = window
            self.models, self.latents = [], 0
            self.overlay = pg.ScatterPlotItem([1.0], [2.0])
            window.image_view.view_box.addItem(self.overlay)
            window.modelChanged.connect(self.models.append)
            window.latentChanged.connect(self._latent)
            self.button = QPushButton("Brighten")
            self.button.setToolTip("test")
            QVBoxLayout(self).addWidget(self.button)
            self.button.clicked.connect(self.edit)

        def _latent(self):
            self.latents += 1

        def edit(self):
            ws = self.window.current_ws()
            assert ws.shape == (1, self.window.current_model().G.num_ws, self.window.current_model().G.w_dim)
            self.window.set_ws(ws * 0.5, "edit: halve")

    mod = types.ModuleType("ganexplorer.ui.panels.edit_panel")
    mod.EditPanel = EditPanel
    return mod


def test_an_edit_panel_joins_as_a_tab_and_uses_the_window_api(qtbot, settings, dcgan_path, monkeypatch):
    import ganexplorer.ui.panels as panels
    fake = _fake_edit_module()
    monkeypatch.setitem(sys.modules, "ganexplorer.ui.panels.edit_panel", fake)
    monkeypatch.setattr(panels, "edit_panel", fake, raising=False)
    w = make_window(qtbot, settings)
    try:
        panel = w.edit_panel
        assert panel is not None and w.tabs.tabText(w.tab_index(panel)) == "Edit"
        open_and_wait(qtbot, w, dcgan_path)
        assert panel.models == [w.current_model()] and panel.latents >= 1
        w.show_panel(panel)                      # shows the current latent
        settle(qtbot, w)
        assert w.view == "sample"
        before, steps = w.current_ws(), len(w.history)
        with qtbot.waitSignal(w.latentChanged, timeout=WAIT_MS):
            panel.button.click()
        settle(qtbot, w)
        assert np.array_equal(w.current_ws(), before * 0.5)
        assert len(w.history) == steps + 1 and w.history.labels()[-1] == "edit: halve"
        assert panel.overlay in w.image_view.view_box.addedItems
        w.act_undo.trigger()
        settle(qtbot, w)
        assert np.array_equal(w.current_ws(), seeds_to_ws(w.current_model().G, [0]))
    finally:
        w.shutdown()


def test_train_wizard_opens_the_checkpoint_it_asks_for(qtbot, settings, dcgan_path):
    try:
        from ganexplorer.ui.dialogs import train_wizard  # noqa: F401
    except ImportError as e:
        pytest.skip(f"the training wizard is not in this tree yet ({e})")
    w = make_window(qtbot, settings)
    try:
        assert w.act_train.isEnabled()
        assert "Train a model…" in [a.text() for m in w.menuBar().actions() if m.text() == "&Train"
                                    for a in m.menu().actions()]
        assert w.act_train in w.toolbar.actions()
        w.act_train.trigger()
        wiz = w._wizard
        assert wiz is not None
        with qtbot.waitSignal(w.modelChanged, timeout=WAIT_MS):
            wiz.openCheckpointRequested.emit(str(dcgan_path))
        assert w.current_model().path == dcgan_path
        wiz.close()
    finally:
        w.shutdown()
