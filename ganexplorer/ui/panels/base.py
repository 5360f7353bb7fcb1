"""What every panel shares: a view name, state-to-widget sync without echo, result hooks.

A panel never computes: it turns a gesture into a new SessionState through
`window.change(label, gesture, **fields)` and redraws itself in `sync(state)` with its
widgets' signals blocked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from ...models.loaded import LoadedModel
from ...render.requests import RenderResult
from ...session.state import SessionState

if TYPE_CHECKING:
    from ..main_window import MainWindow


class Panel(QWidget):
    view = "sample"          # what the image view shows while this panel is active
    title = "Panel"
    shortcut = ""            # e.g. 'Ctrl+1'

    def __init__(self, window: "MainWindow"):
        super().__init__()
        self.window = window

    def sync(self, state: SessionState) -> None:
        """Show `state` in the widgets. Called through window.sync_panel, which mutes
        window.change meanwhile, so setters that emit do not echo back into the history."""

    def on_model(self, model: LoadedModel | None) -> None:
        """A model was opened: adapt ranges and enable what applies."""

    def on_result(self, result: RenderResult) -> None:
        """A result is on screen: update thumbnails from its extras."""
