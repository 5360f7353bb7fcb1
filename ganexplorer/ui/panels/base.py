"""What every panel shares: its view, state-to-widget sync without echo, result hooks.

A panel never computes: it turns a gesture into a new SessionState through
`ctx.change(label, gesture, **fields)` (shared fields: seed, psi, edits, ...) or
`self.change_sub(label, gesture, **fields)` (its view's sub-state, read as `self.sub`), and
redraws itself in `sync(state)` with its widgets' signals blocked. It sees the application
only through `ui.context.PanelContext` (the window implements it), never the window itself.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from ...models.loaded import LoadedModel
from ...render.requests import RenderResult
from ...session.state import SessionState
from ...views import View, spec
from ..context import PanelContext


class Panel(QWidget):
    view: View = View.SAMPLE   # what the image view shows while this panel is active
    title = ""               # the tab's text; "" takes the view's title (views.REGISTRY)
    shortcut = ""            # e.g. 'Ctrl+1'

    def __init__(self, ctx: PanelContext):
        super().__init__()
        self.ctx = ctx
        self.window = ctx    # the name panels written against the earlier API use
        if not self.title:
            self.title = spec(self.view).title

    @property
    def sub(self) -> Any:
        """This panel's view's sub-state in the state on screen (e.g. InterpolateState)."""
        return self.ctx.state.sub(self.view)

    def change_sub(self, label: str, gesture: object = None, **fields: Any) -> None:
        """A gesture on this view's sub-state: `fields` replaced, as one undo step."""
        self.ctx.change_sub(self.view, label, gesture, **fields)

    def sync(self, state: SessionState) -> None:
        """Show `state` in the widgets. Called through ctx.sync_panel, which mutes
        ctx.change meanwhile, so setters that emit do not echo back into the history."""

    def on_model(self, model: LoadedModel | None) -> None:
        """A model was opened: adapt ranges and enable what applies."""

    def on_result(self, result: RenderResult) -> None:
        """A result is on screen: update thumbnails from its extras."""
