"""The narrow, typed interface panels and dialogs get instead of the window.

`ui.panel_host.PanelHost` implements both protocols (structurally: it does not derive from
them) over the Qt-free `session.explorer.Explorer` and a few window services; the window
hands it to every panel and dialog, so a panel never sees (or imports) `main_window` and the
window can import every panel without a cycle. A member added here is added there too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..latent.directions import Directions
from ..models.loaded import LoadedModel
from ..render.figures import Figure
from ..session.state import SessionState
from ..views import View

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings, SignalInstance
    from PySide6.QtWidgets import QWidget

    from .jobs import JobRunner
    from .widgets.image_view import ImageView


class PanelContext(Protocol):
    """What a panel may read and ask for."""

    @property
    def state(self) -> SessionState: ...        # the state on screen

    jobs: "JobRunner"                            # start(fn, ...), start_on_model(model, fn, ...)
    image_view: "ImageView"                      # overlays go into image_view.view_box
    latentChanged: "SignalInstance"              # current_ws() changed
    modelChanged: "SignalInstance"               # a model was opened (LoadedModel)

    def change(self, label: str, gesture: object = None, **fields: Any) -> None: ...   # shared fields

    # one view's sub-state: state.sub(view) with `fields` replaced, as one undo step
    def change_sub(self, view: View, label: str, gesture: object = None, **fields: Any) -> None: ...

    def set_view(self, view: View) -> None: ...             # show that view's panel (and its figure)

    def apply(self, state: SessionState, label: str, gesture: object = None) -> None: ...  # a whole new state

    def sync_panel(self, panel: "QWidget") -> None: ...     # show the state in `panel`, gestures muted

    def current_model(self) -> LoadedModel | None: ...

    def current_ws(self) -> np.ndarray | None: ...          # [1, num_ws, w_dim], a copy

    def set_ws(self, ws: np.ndarray, label: str) -> None: ...

    def bake_edits(self) -> None: ...

    def direction_set(self, method: str, k: int = 10) -> Directions | None: ...

    def pin_current(self) -> None: ...

    def pin_seed(self, seed: int) -> None: ...

    def pin_arithmetic_result(self) -> None: ...

    def save_arithmetic_direction(self, name: str) -> None: ...

    def selected_pin(self) -> int | None: ...               # the pin chosen in the pins bar

    def figure(self, name: str) -> Figure | None: ...       # 'pins', 'grid', 'strip'

    def export_strip(self, path: str) -> None: ...

    def error_box(self, title: str, message: str) -> None: ...   # non-blocking

    def status(self, text: str, ms: int = 4000) -> None: ...      # a status-line message


class ExportContext(Protocol):
    """What the export dialog needs."""

    jobs: "JobRunner"
    settings: "QSettings"

    def export_sources(self) -> dict[str, Figure]: ...

    def export_meta(self) -> dict[str, Any]: ...

    def save_latent_dialog(self) -> None: ...

    def status(self, text: str, ms: int = 4000) -> None: ...
