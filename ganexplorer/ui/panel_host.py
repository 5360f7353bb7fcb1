"""The object panels and the export dialog get as their context: the Explorer's commands
themselves plus the few window services a panel needs, and nothing else of the window.

`PanelHost` implements `ui.context.PanelContext` and `ExportContext`. The core's commands
are the Explorer's own bound methods (no forwarding code, nothing to keep in step); the
window's services (dialogs, the status line, the pins bar's selection, showing a view)
are looked up on the window at call time, so a test that replaces one on the window
(``w.error_box = ...``) is heard by every panel. A member added to PanelContext is added
here as well (tests/test_ui_binding.py checks that every member is present).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..models.loaded import LoadedModel
from ..session.explorer import Explorer
from ..session.state import SessionState

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings, SignalInstance
    from PySide6.QtWidgets import QWidget

    from .jobs import JobRunner
    from .widgets.image_view import ImageView


class WindowServices(Protocol):
    """What the host needs from the window (MainWindow provides it)."""

    jobs: "JobRunner"
    image_view: "ImageView"
    settings: "QSettings"
    latentChanged: "SignalInstance"
    modelChanged: "SignalInstance"

    def set_view(self, view: Any) -> None: ...

    def sync_panel(self, panel: "QWidget") -> None: ...

    def selected_pin(self) -> int | None: ...

    def export_strip(self, path: str) -> None: ...

    def save_latent_dialog(self) -> None: ...

    def error_box(self, title: str, message: str) -> None: ...

    def status(self, text: str, ms: int = 4000) -> None: ...


class PanelHost:
    """PanelContext and ExportContext over the Explorer `core` and the window's services."""

    def __init__(self, core: Explorer, window: WindowServices):
        self.core = core
        self._window = window
        self.jobs = window.jobs                    # start(fn, ...), start_on_model(model, fn, ...)
        self.image_view = window.image_view        # overlays go into image_view.view_box
        self.settings = window.settings
        self.latentChanged = window.latentChanged  # current_ws() changed
        self.modelChanged = window.modelChanged    # a model was opened (LoadedModel)
        # The core's commands, as they are.
        self.change = core.change
        self.change_sub = core.change_sub
        self.apply = core.apply
        self.current_ws = core.current_ws
        self.set_ws = core.set_ws
        self.bake_edits = core.bake_edits
        self.direction_set = core.direction_set
        self.pin_current = core.pin_current
        self.pin_seed = core.pin_seed
        self.pin_arithmetic_result = core.pin_arithmetic_result
        self.save_arithmetic_direction = core.save_arithmetic_direction
        self.figure = core.figure
        self.export_meta = core.export_meta
        self.export_sources = core.export_sources

    @property
    def state(self) -> SessionState:
        """The state on screen."""
        return self.core.state

    def current_model(self) -> LoadedModel | None:
        return self.core.model

    # ---------------------------------------------------------------- the window's services
    def set_view(self, view: Any) -> None:
        self._window.set_view(view)

    def sync_panel(self, panel: "QWidget") -> None:
        self._window.sync_panel(panel)

    def selected_pin(self) -> int | None:
        return self._window.selected_pin()

    def export_strip(self, path: str) -> None:
        self._window.export_strip(path)

    def save_latent_dialog(self) -> None:
        self._window.save_latent_dialog()

    def error_box(self, title: str, message: str) -> None:
        self._window.error_box(title, message)

    def status(self, text: str, ms: int = 4000) -> None:
        self._window.status(text, ms)
