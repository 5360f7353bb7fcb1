"""The explorer window: layout and wiring around the Qt-free core.

Layout: the image view in the centre; panels as tabs in a dock on the right (Sample,
Interpolate, Arithmetic, Style mixing, Directions, Edit); model facts and the undo history
on the left; the pins bar at the bottom; a toolbar with the model picker, device choice,
zoom and undo; a status bar with render ms and fps.

Who decides what: `self.core` (`session.explorer.Explorer`) owns the model, device,
history, the current view, results, pins, directions and autosave, and builds the render
requests. This file keeps the layout (docks, tabs, the pins bar), the render thread
(results come back by queued signal into `core.accept`), showing the state and results,
drag-and-drop and closing; its listeners on the core are bridged to the Qt signals below.
The rest is mixed in by concern: `ui/actions.py` (actions, toolbar, menus, status bar,
restored settings), `ui/file_actions.py` (open/save session, latent, export, copy, the
model picker and recent files), `ui/model_opening.py` (the open-model flow and its
dialogs), `ui/unsaved_work.py` (autosave, the unsaved-work question, crash recovery).

Data flow (house rules 2, 3, 10): a widget gesture calls `ctx.change(label, gesture, **fields)`;
the core pushes a new immutable SessionState (a drag's events share one gesture token, so
a drag is one undo step), the window re-syncs the visible panel with its gestures muted,
and the core posts a RenderRequest to the one render thread. The StampGate drops any
result older than the one on screen.

API for panels and dialogs: the typed `ui.context.PanelContext` / `ExportContext`,
implemented by `self.ctx` (`ui.panel_host.PanelHost`: the core's commands and a few window
services); panels never get the window. The window's own API (tests, tools, the wizard):
``open_model(path)`` (in the background; errors go to a dialog and the previous model
stays), ``set_view(name)`` / ``show_panel(panel)``, and the signals ``modelChanged(object)``,
``latentChanged()``, ``frameShown(int)`` (stamp of each result put on screen),
``renderFailed(str)``, ``modelLoadFailed(str)``, ``stateChanged()``.

The view panels come from ``ui.panels.registry.VIEW_PANELS`` (one per view of
``ganexplorer.views``); a panel added as a tab may define ``view`` (a ``views.View``;
``View.SAMPLE`` shows the current latent), ``sync(state)``, ``on_model(model)`` and
``on_result(result)``; all are optional.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QTabWidget, QWidget

from .. import resources
from ..models.loaded import LoadedModel
from ..render.cache import ModelCache
from ..render.figures import Figure
from ..render.mailbox import RenderWorker
from ..render.renderer import Renderer, default_cpu_threads
from ..render.requests import RenderResult
from ..render.synth import stage_text
from ..session.explorer import Explorer
from ..session.history import History
from ..session.recovery import Autosaver
from ..session.state import SessionState
from ..views import View
from .actions import WindowActions
from .dialogs.train_wizard import TrainWizard
from .file_actions import FileActions
from .file_actions import default_model as default_model   # re-exported: app.py, headless.py, bench
from .jobs import JobRunner
from .model_opening import ModelOpening
from .panel_host import PanelHost
from .panels.info import HistoryPanel, InfoPanel, PinsBar
from .panels.registry import VIEW_PANELS
from .unsaved_work import UnsavedWork
from .widgets.common import WheelGuard
from .widgets.image_view import ImageView
from .widgets.panel_tabs import PanelTabs


def app_settings() -> QSettings:
    """Where settings and recent files live (an INI file in the user's config folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ganexplorer", "ganexplorer")


class _Results(QObject):
    """Carries render results from the render thread to the GUI thread (a queued signal).
    Owned by Python, not by the window: a late result finds a live sender, never a deleted one."""
    resultReady = Signal(object)


class MainWindow(WindowActions, FileActions, ModelOpening, UnsavedWork, QMainWindow):
    modelChanged = Signal(object)     # LoadedModel
    latentChanged = Signal()          # current_ws() changed
    frameShown = Signal(int)          # stamp of the result now on screen
    renderFailed = Signal(str)        # a render error, as shown over the image
    modelLoadFailed = Signal(str)     # the loader's message
    stateChanged = Signal()           # after every change, undo, redo

    def __init__(self, settings: QSettings | None = None, cache: ModelCache | None = None,
                 device: str | None = None, recovery_dir: Path | None = None):
        super().__init__()
        self.settings = settings or app_settings()
        self.setWindowTitle("GAN Explorer")
        self.setWindowIcon(QIcon(str(resources.icon_path())))
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.jobs = JobRunner(self)
        self._cache = cache or ModelCache()
        threads = int(self.settings.value("cpu_threads", 0) or 0) or default_cpu_threads()
        self.renderer = Renderer(cpu_threads=threads)
        self._results = _Results()
        self._results.resultReady.connect(self._on_result, Qt.ConnectionType.QueuedConnection)
        self.render_thread = RenderWorker(self.renderer.render, self._results.resultReady.emit)
        self.core = Explorer(self.jobs, submit=self.render_thread.submit,
                             device=device or str(self.settings.value("device", "cpu")), recovery_dir=recovery_dir)
        self.core.on_change.append(self._refresh_views)
        self.core.on_status.append(self.status)
        self.core.on_directions.append(self._directions_ready)
        self.last_error = ""
        self._wizard = None
        self._stale: set = set()                   # panels to sync when they are shown
        self._pins_key: tuple | None = None
        self._frame_times: list[float] = []
        self._full_after_pause = QTimer(self)         # a drag that stops moving gets the full image
        self._full_after_pause.setSingleShot(True)
        self._full_after_pause.setInterval(250)
        self._full_after_pause.timeout.connect(self.core.render_full)
        self.render_thread.start()
        self._autosave_timer = QTimer(self)           # writes the newest state once the throttle allows
        self._autosave_timer.setInterval(500)
        self._autosave_timer.timeout.connect(self._flush_autosave)
        self._autosave_timer.start()
        self._wheel_guard = WheelGuard(self)          # wheel over a control scrolls unless it has focus
        from PySide6.QtWidgets import QApplication
        QApplication.instance().installEventFilter(self._wheel_guard)

        self.image_view = ImageView()
        self.setCentralWidget(self.image_view)
        self.ctx = PanelHost(self.core, self)          # what panels and dialogs see, never the window
        self._build_panels()
        self._build_actions()
        self._build_toolbar_and_menus()
        self._build_status()
        self._add_edit_panel()
        self._tooltips_for_qt_parts()
        self._restore_settings()
        self.core.refresh(render=False)
        self.image_view.show_prompt("Open a model: File ▸ Open model… (Ctrl+O), pick one in the toolbar,\n"
                                    "or drop a checkpoint file onto this window.")

    # ================================================================== building
    def _build_panels(self) -> None:
        self.tabs = PanelTabs()
        self.tabs.setDocumentMode(True)
        self.panels = [cls(self.ctx) for cls in VIEW_PANELS]
        for p in self.panels:
            self.tabs.add_panel(p, p.title, f"{p.title} ({p.shortcut})" if p.shortcut else p.title)
        self.sample_panel, self.interp_panel, self.arith_panel, self.mix_panel, self.dir_panel = (
            self.panel_for(v) for v in (View.SAMPLE, View.INTERPOLATE, View.ARITHMETIC, View.MIXING,
                                        View.DIRECTIONS))
        self.tabs.currentChanged.connect(self._tab_changed)
        dock = QDockWidget("Panels", self)
        dock.setObjectName("panels")
        dock.setWidget(self.tabs)
        dock.setMinimumWidth(400)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.panels_dock = dock

        self.info = InfoPanel()
        self.info.declareLabels.connect(self.declare_label_size)
        self.history_list = HistoryPanel()
        self.history_list.jumpRequested.connect(self.core.jump)
        left = QTabWidget()
        left.addTab(self.info, "Model")
        left.addTab(self.history_list, "History")
        left.setTabToolTip(0, "Facts about the open model")
        left.setTabToolTip(1, "Undo history")
        self.left_tabs = left
        ldock = QDockWidget("Model and history", self)
        ldock.setObjectName("info")
        ldock.setWidget(left)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, ldock)
        self.info_dock = ldock

        self.pins_bar = PinsBar()
        self.pins_bar.setMaximumHeight(130)
        pdock = QDockWidget("Pins", self)
        pdock.setObjectName("pins")
        pdock.setWidget(self.pins_bar)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, pdock)
        self.pins_dock = pdock
        self.pins_bar.list.doubleClickedData.connect(self.core.show_pin)
        self.pins_bar.list.removeRequested.connect(self.core.remove_pin)
        self.pins_bar.show_btn.clicked.connect(lambda: self.core.show_pin(self.selected_pin()))
        self.pins_bar.remove.clicked.connect(lambda: self.core.remove_pin(self.selected_pin()))
        self.pins_bar.clear.clicked.connect(self.core.clear_pins)

    def panel_at(self, index: int) -> QWidget | None:
        return self.tabs.widget(index)

    def current_panel(self) -> QWidget | None:
        return self.tabs.currentWidget()

    def tab_index(self, panel: QWidget) -> int:
        return self.tabs.indexOf(panel)

    def show_panel(self, panel: QWidget) -> None:
        """Bring a panel's tab to the front (its view then shows in the image view)."""
        self.tabs.setCurrentWidget(panel)

    def _add_edit_panel(self) -> None:
        """The Edit panel joins as a tab. Imported here, not at the top, so that a test can
        put a panel written only against the PanelContext in its place (test_ui_hooks)."""
        from .panels import edit_panel
        panel = edit_panel.EditPanel(self.ctx)
        self.edit_panel = panel
        self.panels.append(panel)
        self.tabs.add_panel(panel, getattr(panel, "title", "Edit"), "Edit the current latent with brushes")

    # ================================================================== the core, for tests and tools
    # Panels and dialogs use `self.ctx` (PanelHost: the Explorer's commands themselves). These
    # few stay on the window because tests, drivers and tools/ script it; new code calls w.core.
    @property
    def state(self) -> SessionState:
        return self.core.state

    @property
    def history(self) -> History[SessionState]:
        return self.core.history

    @property
    def autosave(self) -> Autosaver:
        return self.core.autosave

    @property
    def view(self) -> View:
        return self.core.view

    @property
    def dirty(self) -> bool:
        """Pins, groups, directions or history not in a saved session."""
        return self.core.dirty

    def current_model(self) -> LoadedModel | None:
        return self.core.model

    def current_ws(self) -> np.ndarray | None:
        return self.core.current_ws()

    def change(self, label: str, gesture: object = None, **fields: Any) -> None:
        self.core.change(label, gesture, **fields)

    def change_sub(self, view: View, label: str, gesture: object = None, **fields: Any) -> None:
        self.core.change_sub(view, label, gesture, **fields)

    def apply(self, state: SessionState, label: str, gesture: object = None) -> None:
        self.core.apply(state, label, gesture)

    def undo(self) -> None:
        self.core.undo()

    def set_ws(self, ws: np.ndarray, label: str) -> None:
        self.core.set_ws(ws, label)

    def pin_current(self) -> None:
        self.core.pin_current()

    def pin_seed(self, seed: int) -> None:
        self.core.pin_seed(seed)

    def export_sources(self) -> dict[str, Figure]:
        return self.core.export_sources()

    # ================================================================== the window's services to panels
    def status(self, text: str, ms: int = 4000) -> None:
        self.statusBar().showMessage(text, ms)

    def selected_pin(self) -> int | None:
        d = self.pins_bar.list.selected_data()
        return None if d is None else int(d)

    # ================================================================== showing the state
    def sync_panel(self, panel) -> None:
        """Show the state in one panel, with its gestures muted."""
        sync = getattr(panel, "sync", None)
        if sync is None:
            return
        with self.core.muted():
            sync(self.core.state)
        self._stale.discard(panel)

    def _refresh_views(self) -> None:
        """After any state change (the core has submitted its render): the visible panel, pins, undo
        actions, history list. Hidden panels catch up when they are shown."""
        s = self.core.state
        self._stale = set(self.panels)
        self.sync_panel(self.current_panel())
        pins_key = tuple((p.id, p.label) for p in s.pins), self.core.extra_keys.get("pins")
        if pins_key != self._pins_key:
            self._show_pins(s)
        self.act_undo.setEnabled(self.core.history.can_undo())
        self.act_redo.setEnabled(self.core.history.can_redo())
        self.history_list.show_history(self.core.history.labels(), self.core.history.index)
        self.stateChanged.emit()

    def _show_pins(self, s: SessionState) -> None:
        self._pins_key = tuple((p.id, p.label) for p in s.pins), self.core.extra_keys.get("pins")
        ids = [p.id for p in s.pins]
        labels = [p.label for p in s.pins]
        fig = self.core.figures.get("pins")
        selected = self.selected_pin()
        if fig is not None and len(fig.tiles) == len(ids) and fig.meta.get("labels") == labels:
            self.pins_bar.list.set_tiles(fig.tiles, labels, ids,
                                         [f"pin #{i}: {lab}" for i, lab in zip(ids, labels)])
        else:
            self.pins_bar.list.set_placeholders(labels, ids)
        if selected in ids:
            self.pins_bar.list.setCurrentRow(ids.index(selected))

    def _on_result(self, r: RenderResult) -> None:
        changed = self.core.accept(r)
        if changed is None:
            return
        if r.error is not None:
            self.image_view.show_error(r.error)
            self.statusBar().showMessage(r.error, 8000)
            self.renderFailed.emit(r.error)
        else:
            self.image_view.clear_error()
            if r.image is not None:
                self.image_view.set_image(r.image)
        if "pins" in changed:
            self._show_pins(self.core.state)
        for p in self.panels:
            hook = getattr(p, "on_result", None)
            if hook is not None:
                hook(r)
        if "latent" in changed:
            self.latentChanged.emit()
        self._count_frame(r)
        self.frameShown.emit(r.stamp)

    def _count_frame(self, r: RenderResult) -> None:
        now = time.perf_counter()
        self._frame_times = [t for t in self._frame_times if now - t < 1.0] + [now]
        meta = r.figure.meta if r.figure is not None else {}
        self.ms_label.setText(f"render {r.render_ms:.1f} ms, {stage_text(meta)}")
        if "preview_res" in meta:
            self._full_after_pause.start()            # restarted by every preview frame
        self.fps_label.setText(f"{len(self._frame_times)} fps")

    def _directions_ready(self, error: str) -> None:
        if error:
            self.dir_panel.status.setText(f"Could not compute the directions: {error}")
        else:
            self.dir_panel.refresh()

    def _tab_changed(self, index: int) -> None:
        panel = self.panel_at(index)
        self.core.dragging = False
        if panel in self._stale:
            self.sync_panel(panel)
        self.core.set_view(getattr(panel, "view", View.SAMPLE))

    def panel_for(self, view: View | str) -> QWidget | None:
        """The first tab whose panel shows `view`."""
        return next((p for p in self.panels if getattr(p, "view", None) == View(view)), None)

    def set_view(self, view: View | str) -> None:
        """Show the panel whose view is `view` (a views.View or its name)."""
        p = self.panel_for(view)
        if p is not None:
            self.show_panel(p)

    def set_device(self, device: str) -> None:
        if self.core.set_device(device):
            self.settings.setValue("device", device)
            self.dev_label.setText(device)

    # ================================================================== misc
    def train_wizard(self) -> None:
        wiz = TrainWizard(self)
        wiz.openCheckpointRequested.connect(self.open_model)
        self._wizard = wiz
        wiz.show()

    def error_box(self, title: str, message: str) -> None:
        """A non-blocking warning dialog (the event loop, and rendering, go on)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self._last_box = box

    def dragEnterEvent(self, e) -> None:
        if any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        files = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if not files:
            return
        e.acceptProposedAction()
        if files[0].endswith(".json"):
            self.open_session(files[0])
        else:
            self.open_model(files[0])

    def closeEvent(self, e) -> None:
        if not self.may_discard("Close GAN Explorer?"):
            e.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.jobs.cancel_all()
        self.shutdown()
        self.core.autosave.finish()         # a clean exit: nothing to recover next time
        super().closeEvent(e)

    def shutdown(self) -> None:
        """Stop the render thread without waiting on a render still running (tests and
        benches call this; closing the window does it too)."""
        self._autosave_timer.stop()
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._wheel_guard)
        if not self.render_thread.stop(timeout=2.0):
            self.statusBar().showMessage("A render was still running; it is abandoned.", 2000)
