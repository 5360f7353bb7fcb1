"""Panels see the core through `ui.panel_host.PanelHost`, never the window, and the
model-to-view binding holds through it: a change the widgets did not make (the core's
own command, its undo) shows in the widgets without echoing back into the history."""
from __future__ import annotations

import pytest
from ui_support import dcgan_path, settings, settle, window  # noqa: F401

from ganexplorer.ui.context import ExportContext, PanelContext
from ganexplorer.ui.panel_host import PanelHost


def _members(proto) -> set[str]:
    names = set(getattr(proto, "__annotations__", {}))
    names |= {n for n, v in vars(proto).items()
              if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return names


def test_every_panel_gets_the_host_and_the_host_has_every_context_member(window):
    w = window
    assert isinstance(w.ctx, PanelHost) and w.ctx.core is w.core
    for p in w.panels:
        assert p.ctx is w.ctx, type(p).__name__          # the window itself is out of reach
    missing = sorted(n for n in _members(PanelContext) | _members(ExportContext) if not hasattr(w.ctx, n))
    assert missing == []
    assert w.ctx.state is w.core.state and w.ctx.current_model() is w.core.model
    # A window service replaced on the window (as tests do) is what panels call.
    seen = []
    w.error_box = lambda title, message: seen.append((title, message))
    w.ctx.error_box("t", "m")
    assert seen == [("t", "m")]


def test_core_changes_and_undo_move_the_slider_model_to_view(qtbot, window):
    w = window
    psi = w.sample_panel.psi
    steps = len(w.core.history)
    w.core.change("psi 0.3", None, psi=0.3)                 # not made by the widget
    settle(qtbot, w)
    assert psi.slider.value() == 30 and psi.spin.value() == pytest.approx(0.3)
    w.core.undo()
    settle(qtbot, w)
    assert psi.slider.value() == 100 and psi.spin.value() == pytest.approx(1.0)
    w.core.redo()
    settle(qtbot, w)
    assert psi.slider.value() == 30
    # showing the state in the widgets echoed nothing: one step, and redo is at its end
    assert len(w.core.history) == steps + 1 and not w.core.history.can_redo()
