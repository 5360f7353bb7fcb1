"""What every panel shares: a view name, state-to-widget sync without echo, result hooks.

A panel never computes: it turns a gesture into a new SessionState through
`ctx.change(label, gesture, **fields)` and redraws itself in `sync(state)` with its
widgets' signals blocked. It sees the application only through `ui.context.PanelContext`
(the window implements it), never the window itself.
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ...models.loaded import LoadedModel
from ...render.requests import RenderResult
from ...session.state import SessionState
from ..context import PanelContext


class Panel(QWidget):
    view = "sample"          # what the image view shows while this panel is active
    title = "Panel"
    shortcut = ""            # e.g. 'Ctrl+1'

    def __init__(self, ctx: PanelContext):
        super().__init__()
        self.ctx = ctx
        self.window = ctx    # the name panels written against the earlier API use

    def sync(self, state: SessionState) -> None:
        """Show `state` in the widgets. Called through ctx.sync_panel, which mutes
        ctx.change meanwhile, so setters that emit do not echo back into the history."""

    def on_model(self, model: LoadedModel | None) -> None:
        """A model was opened: adapt ranges and enable what applies."""

    def on_result(self, result: RenderResult) -> None:
        """A result is on screen: update thumbnails from its extras."""
