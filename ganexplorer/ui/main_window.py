"""The explorer window: layout and wiring around the Qt-free core.

Layout: the image view in the centre; panels as tabs in a dock on the right (Sample,
Interpolate, Arithmetic, Style mixing, Directions, Edit); model facts and the undo history
on the left; the pins bar at the bottom; a toolbar with the model picker, device choice,
zoom and undo; a status bar with render ms and fps.

Who decides what: `self.core` (`session.explorer.Explorer`) owns the model, device,
history, the current view, results, pins, directions and autosave, and builds the render
requests. The window keeps the widgets, actions and menus, file and question dialogs, the
render thread (results come back by queued signal into `core.accept`), the picker and
recent lists, drag-and-drop and the status bar. Its listeners on the core are bridged to
the Qt signals below.

Data flow (house rules 2, 3, 10): a widget gesture calls `change(label, gesture, **fields)`;
the core pushes a new immutable SessionState (a drag's events share one gesture token, so
a drag is one undo step), the window re-syncs the visible panel with its gestures muted,
and the core posts a RenderRequest to the one render thread. The StampGate drops any
result older than the one on screen.

API for panels and dialogs: the typed `ui.context.PanelContext` / `ExportContext`, which
this window implements. Beyond them: ``open_model(path)`` (in the background; errors go to
a dialog and the previous model stays), ``set_view(name)`` / ``show_panel(panel)``, and the
signals ``modelChanged(object)``, ``latentChanged()``, ``frameShown(int)`` (stamp of each
result put on screen), ``renderFailed(str)``, ``modelLoadFailed(str)``, ``stateChanged()``.

A panel added as a tab may define ``view`` ('sample' shows the current latent),
``sync(state)``, ``on_model(model)`` and ``on_result(result)``; all are optional.
"""
from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QTabWidget, QToolBar, QWidget)

from .. import resources
from ..latent.directions import Directions
from ..models.loaded import LoadedModel
from ..models.samples import list_sample_models
from ..render.cache import ModelCache
from ..render.figures import Figure
from ..render.mailbox import RenderWorker
from ..render.renderer import Renderer, default_cpu_threads
from ..render.requests import RenderResult
from ..session.explorer import Explorer
from ..session.history import History
from ..session.io import SUFFIX as SESSION_SUFFIX
from ..session.io import SessionError
from ..session.recovery import Autosaver, Orphan
from ..session.state import SessionState
from .dialogs.train_wizard import TrainWizard
from .jobs import JobRunner
from .panels.arithmetic import ArithmeticPanel
from .panels.directions import DirectionsPanel
from .panels.info import HistoryPanel, InfoPanel, PinsBar
from .panels.interpolate import InterpolatePanel
from .panels.mixing import MixingPanel
from .panels.sample import SamplePanel
from .widgets.common import WheelGuard, to_qimage
from .widgets.image_view import ImageView
from .widgets.panel_tabs import PanelTabs

MODEL_FILTER = "Checkpoints (*.safetensors *.pkl *.pt *.pth *.ckpt);;All files (*)"
RECENT_MAX = 10


def app_settings() -> QSettings:
    """Where settings and recent files live (an INI file in the user's config folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ganexplorer", "ganexplorer")


def sample_models() -> list[tuple[str, Path]]:
    """(label, path) of the sample models found in installed packages."""
    return [(s.name, s.path) for s in list_sample_models()]


def default_model() -> Path | None:
    """The first bundled model, else the first sample model, else None."""
    bundled = resources.bundled_models()
    if bundled:
        return bundled[0]
    samples = sample_models()
    return samples[0][1] if samples else None


class _Results(QObject):
    """Carries render results from the render thread to the GUI thread (a queued signal).
    Owned by Python, not by the window: a late result finds a live sender, never a deleted one."""
    resultReady = Signal(object)


class MainWindow(QMainWindow):
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
        self.panels = [SamplePanel(self), InterpolatePanel(self), ArithmeticPanel(self),
                       MixingPanel(self), DirectionsPanel(self)]
        for p in self.panels:
            self.tabs.add_panel(p, p.title, f"{p.title} ({p.shortcut})")
        self.sample_panel, self.interp_panel, self.arith_panel, self.mix_panel, self.dir_panel = self.panels
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

    def _action(self, text: str, slot, shortcut: Any = None, tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        a.setToolTip(f"{tip or text.rstrip('…')}" + (f" ({keys})" if keys else ""))
        a.setStatusTip(tip or text)
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        A = self._action
        SK = QKeySequence.StandardKey
        self.act_open = A("Open model…", self.open_model_dialog, SK.Open, "Open a checkpoint file")
        self.act_open_session = A("Open session…", self.open_session_dialog, "Ctrl+Shift+O",
                                  "Open a saved session (model, pins, groups, directions, view)")
        self.act_save_session = A("Save session…", self.save_session_dialog, SK.Save,
                                  "Save the session as JSON; reopening restores the exact images")
        self.act_export = A("Export…", self.export_dialog, "Ctrl+E", "Export a grid of pins or the current view")
        self.act_copy = A("Copy image", self.copy_image, "Ctrl+Shift+C", "Copy the shown image to the clipboard")
        self.act_save_npy = A("Save latent (.npy)…", self.save_latent_dialog, "Ctrl+Shift+S",
                              "Save the current latent ws [1, num_ws, w_dim] as .npy")
        self.act_quit = A("Quit", self.close, SK.Quit, "Close GAN Explorer")
        self.act_undo = A("Undo", self.core.undo, SK.Undo, "Undo the last change")
        self.act_redo = A("Redo", self.core.redo, SK.Redo, "Redo")
        self.act_pin = A("Pin current latent", self.core.pin_current, "P", "Keep the current latent as a pin")
        self.act_prev = A("Previous seed", lambda: self.sample_panel.step(-1), "Alt+Left", "Previous seed")
        self.act_next = A("Next seed", lambda: self.sample_panel.step(+1), "Alt+Right", "Next seed")
        self.act_random = A("Random seed", lambda: self.sample_panel.random_seed(), "Ctrl+R", "A random seed")
        self.act_zoom_in = A("Zoom in", lambda: self.image_view.zoom(1.25), SK.ZoomIn, "Zoom in")
        self.act_zoom_out = A("Zoom out", lambda: self.image_view.zoom(0.8), SK.ZoomOut, "Zoom out")
        self.act_fit = A("Fit image", self.image_view.fit, "F", "Fit the image to the view")
        self.act_smooth = A("Smooth zoom", self._set_smooth, "S", "Smooth (bilinear) or nearest-pixel zoom",
                            checkable=True)
        self.act_train = A("Train a model…", self.train_wizard, "Ctrl+T",
                           "Train a new model from a folder of images")
        self.act_about = A("About GAN Explorer", self._about, None, "About")
        self.panel_actions = []
        for p in self.panels:
            self.panel_actions.append(A(p.title, lambda _=False, p=p: self.show_panel(p), p.shortcut,
                                        f"Show the {p.title} panel"))

    def _build_toolbar_and_menus(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.picker = QComboBox()
        self.picker.setMinimumWidth(260)
        self.picker.setToolTip("Choose a model: bundled, sample models from installed packages, recent "
                               "files, or Open… (you can also drop a file onto the window)")
        self.picker.activated.connect(self._picker_activated)
        tb.addWidget(QLabel(" Model "))
        tb.addWidget(self.picker)
        tb.addAction(self.act_open)
        tb.addSeparator()
        self.device_box = QComboBox()
        self.device_box.setToolTip("Where the generator runs: CPU or a CUDA GPU")
        self.device_box.addItem("CPU", "cpu")
        try:
            import torch
            for i in range(torch.cuda.device_count()):
                self.device_box.addItem(f"GPU {i}: {torch.cuda.get_device_name(i)}", f"cuda:{i}")
        except Exception:   # a broken CUDA install must not stop the window
            pass
        self.device_box.currentIndexChanged.connect(lambda _i: self.set_device(self.device_box.currentData()))
        tb.addWidget(QLabel(" Device "))
        tb.addWidget(self.device_box)
        tb.addSeparator()
        for a in (self.act_undo, self.act_redo, self.act_pin, self.act_zoom_in, self.act_zoom_out,
                  self.act_fit, self.act_smooth, self.act_export, self.act_train):
            tb.addAction(a)
        self.toolbar = tb

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Recent models")
        m.addSeparator()
        for a in (self.act_open_session, self.act_save_session):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_export, self.act_copy, self.act_save_npy):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, self.act_pin, self.act_prev, self.act_next, self.act_random):
            m.addAction(a)
        m = mb.addMenu("&View")
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_smooth):
            m.addAction(a)
        m.addSeparator()
        for a in self.panel_actions:
            m.addAction(a)
        m.addSeparator()
        for d in (self.panels_dock, self.info_dock, self.pins_dock):
            m.addAction(d.toggleViewAction())
        self.view_menu = m
        m = mb.addMenu("&Train")
        m.addAction(self.act_train)
        m = mb.addMenu("&Help")
        m.addAction(self.act_about)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.ms_label = QLabel("—")
        self.ms_label.setToolTip("Time the last frame took in the renderer")
        self.fps_label = QLabel("—")
        self.fps_label.setToolTip("Frames shown per second (last second)")
        self.dev_label = QLabel(self.core.device)
        self.dev_label.setToolTip("Device the generator runs on")
        for w in (self.ms_label, self.fps_label, self.dev_label):
            sb.addPermanentWidget(w)

    def _add_edit_panel(self) -> None:
        """The Edit panel joins as a tab. Imported here, not at the top, so that a test can
        put a panel written only against the window's API in its place (test_ui_hooks)."""
        from .panels import edit_panel
        panel = edit_panel.EditPanel(self)
        self.edit_panel = panel
        self.panels.append(panel)
        self.tabs.add_panel(panel, getattr(panel, "title", "Edit"), "Edit the current latent with brushes")

    def _tooltips_for_qt_parts(self) -> None:
        """Qt's own buttons (dock float / close, tab scrollers) get tooltips too."""
        from PySide6.QtWidgets import QAbstractButton
        tips = {"qt_dockwidget_floatbutton": "Detach this panel into its own window (double-click its title "
                                             "to dock it again)",
                "qt_dockwidget_closebutton": "Hide this panel (View menu brings it back)",
                "ScrollLeftButton": "Scroll the tabs left", "ScrollRightButton": "Scroll the tabs right",
                "qt_toolbar_ext_button": "More tools", "qt_menubar_ext_button": "More menus"}
        for b in self.findChildren(QAbstractButton):
            if not b.toolTip() and b.objectName() in tips:
                b.setToolTip(tips[b.objectName()])

    def _restore_settings(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        smooth = str(self.settings.value("smooth", "false")).lower() == "true"
        self.act_smooth.setChecked(smooth)
        self.image_view.set_smooth(smooth)
        i = self.device_box.findData(self.core.device)
        if i < 0:
            self.statusBar().showMessage(f"Device {self.core.device} is not available; rendering on the CPU.", 10000)
            self.core.device = self.jobs.device = "cpu"
            i = 0
        self.device_box.blockSignals(True)
        self.device_box.setCurrentIndex(i)
        self.device_box.blockSignals(False)
        self.dev_label.setText(self.core.device)
        self._fill_picker()

    # ================================================================== the core, as panels see it
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
    def view(self) -> str:
        return self.core.view

    @property
    def dirty(self) -> bool:
        """Pins, groups, directions or history not in a saved session."""
        return self.core.dirty

    def change(self, label: str, gesture: object = None, **fields: Any) -> None:
        """A panel's gesture as one undo step (ignored while the panels show the state)."""
        self.core.change(label, gesture, **fields)

    def apply(self, state: SessionState, label: str, gesture: object = None) -> None:
        self.core.apply(state, label, gesture)

    def undo(self) -> None:
        self.core.undo()

    def redo(self) -> None:
        self.core.redo()

    def jump(self, index: int) -> None:
        self.core.jump(index)

    def current_model(self) -> LoadedModel | None:
        return self.core.model

    def current_ws(self) -> np.ndarray | None:
        return self.core.current_ws()

    def set_ws(self, ws: np.ndarray, label: str) -> None:
        self.core.set_ws(ws, label)

    def bake_edits(self) -> None:
        self.core.bake_edits()

    def direction_set(self, method: str, k: int = 10) -> Directions | None:
        return self.core.direction_set(method, k)

    def pin_current(self) -> None:
        self.core.pin_current()

    def pin_seed(self, seed: int) -> None:
        self.core.pin_seed(seed)

    def pin_arithmetic_result(self) -> None:
        self.core.pin_arithmetic_result()

    def save_arithmetic_direction(self, name: str) -> None:
        self.core.save_arithmetic_direction(name)

    def figure(self, name: str) -> Figure | None:
        return self.core.figure(name)

    def export_meta(self) -> dict[str, Any]:
        return self.core.export_meta()

    def export_sources(self) -> dict[str, Figure]:
        return self.core.export_sources()

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
            sync(self.state)
        self._stale.discard(panel)

    def _refresh_views(self) -> None:
        """After any state change (the core has submitted its render): the visible panel, pins, undo
        actions, history list. Hidden panels catch up when they are shown."""
        s = self.state
        self._stale = set(self.panels)
        self.sync_panel(self.current_panel())
        pins_key = tuple((p.id, p.label) for p in s.pins), self.core.extra_keys.get("pins")
        if pins_key != self._pins_key:
            self._show_pins(s)
        self.act_undo.setEnabled(self.history.can_undo())
        self.act_redo.setEnabled(self.history.can_redo())
        self.history_list.show_history(self.history.labels(), self.history.index)
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
            self._show_pins(self.state)
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
        self.ms_label.setText(f"render {r.render_ms:.1f} ms")
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
        self.core.set_view(getattr(panel, "view", "sample"))

    def set_view(self, view: str) -> None:
        """Show the panel whose view is `view` ('sample', 'interpolate', 'arithmetic', ...)."""
        for p in self.panels:
            if getattr(p, "view", None) == view:
                self.show_panel(p)
                return

    def set_device(self, device: str) -> None:
        if self.core.set_device(device):
            self.settings.setValue("device", device)
            self.dev_label.setText(device)

    # ================================================================== work never lost
    def _flush_autosave(self) -> None:
        error = self.core.flush_autosave()
        if error:
            self.statusBar().showMessage(error, 8000)

    def mark_saved(self) -> None:
        """What is shown now is saved (or the user chose to let it go)."""
        self.core.mark_saved()

    def ask_discard(self, what: str) -> str:
        """'save', 'discard' or 'cancel'. Tests replace this method to answer it."""
        B = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved work",
                          f"{what}\n\nThe pins, groups, directions and undo history of this session "
                          "are not saved.", B.Save | B.Discard | B.Cancel, self)
        box.setDefaultButton(B.Save)
        box.setObjectName("discard-dialog")
        answer = B(box.exec())
        return {B.Save: "save", B.Discard: "discard"}.get(answer, "cancel")

    def may_discard(self, what: str) -> bool:
        """True when the work on screen may be replaced: nothing unsaved, or the user saved
        it or chose to discard it."""
        if not self.dirty:
            return True
        answer = self.ask_discard(what)
        if answer == "save":
            self.save_session_dialog()
            return not self.dirty
        return answer == "discard"

    def ask_restore(self, orphan: Orphan) -> bool:
        """Offer a session a crash left behind. Tests replace this method to answer it."""
        B = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, "Restore the last session?",
                          "GAN Explorer did not close normally last time. Restore the work it "
                          f"autosaved?\n\n{orphan.summary()}", B.Yes | B.No, self)
        box.button(B.Yes).setText("Restore")
        box.button(B.No).setText("Discard")
        box.setObjectName("restore-dialog")
        return B(box.exec()) == B.Yes

    def offer_recovery(self) -> bool:
        """At start: offer what a crashed or killed window autosaved; True when restored."""
        found = self.core.orphans()
        if not found:
            return False
        newest = found[0]
        restore = self.ask_restore(newest)
        self.core.discard_orphans(found)   # restored into this window (its own autosave takes over), or declined
        if not restore or newest.model is None:
            return False
        self.open_model(newest.model.path, then_state=newest.state, expect_sha=newest.model.sha256,
                        ask=False, restored=True)
        return True

    # ================================================================== models
    def open_model(self, path: str, then_state: SessionState | None = None, expect_sha: str = "",
                   ask: bool = True, restored: bool = False) -> None:
        """Open a checkpoint in the background. On failure the loader's message is shown in a
        dialog and the previous model stays loaded. Unsaved work is asked about first."""
        path = str(path)
        if ask and not self.may_discard(f"Open {Path(path).name}?"):
            return
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.jobs.start(self._cache.get, path, name="open model",
                        on_done=lambda m: self._model_loaded(m, then_state, expect_sha, restored),
                        on_error=self._model_failed)

    def declare_label_size(self, c_dim: int) -> None:
        """The open DCGAN's last c_dim inputs are a one-hot label (0: none), remembered for the
        file (models/declared.py); the model is opened again, read that way."""
        m = self.core.model
        if m is None:
            return
        from ..models.declared import remember_c_dim, with_c_dim
        from ..models.errors import CheckpointError
        try:
            with_c_dim(m, c_dim)          # checks the size before it is remembered
        except CheckpointError as e:
            self.error_box("Could not declare the label size", str(e))
            return
        remember_c_dim(m.sha256, c_dim or None)
        self.open_model(str(m.path), then_state=self.state, ask=False)

    def _model_failed(self, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage("Could not open the model; the previous one stays open.", 8000)
        self._fill_picker()
        self.modelLoadFailed.emit(message)
        self.error_box("Could not open the model", message)

    def _model_loaded(self, model: LoadedModel, then_state: SessionState | None, expect_sha: str,
                      restored: bool = False) -> None:
        self.last_error = ""
        self.core.model_loaded(model, then_state, restored)
        self._add_recent(str(model.path))
        self._fill_picker()
        self.info.show_model(model)
        self.setWindowTitle(f"GAN Explorer — {model.name}")
        if then_state is not None:
            self.set_view(then_state.view)
            if expect_sha and expect_sha != model.sha256:
                self.error_box("The model file changed",
                               f"{model.path.name} is not the file this session was saved with (its sha256 "
                               "differs), so the images may differ.")
        styles = model.G.has_styles
        self.tabs.setTabVisible(self.tab_index(self.mix_panel), styles)
        if not styles and self.current_panel() is self.mix_panel:
            self.show_panel(self.sample_panel)
        with self.core.muted():     # ranges adapting to the model are not gestures (no "cutoff 1" step)
            for p in self.panels:
                hook = getattr(p, "on_model", None)
                if hook is not None:
                    hook(model)
        if model.warnings:   # e.g. NaN weights: the model opens, but the user is told why images break
            self.statusBar().showMessage(" ".join(model.warnings), 20000)
        else:
            self.statusBar().showMessage(f"Opened {model.path.name}", 5000)
        self.core.refresh()
        self.modelChanged.emit(model)
        # The model, torch, Qt and pyqtgraph are long-lived: move them out of the collector's
        # sight, or every full collection walks them all (240 ms on the GUI thread, measured
        # with bench/ui_latency.py). Unfreeze and sweep everything first: what the previous
        # model and its history left as cyclic garbage must not be frozen forever (the soak
        # test saw memory grow with every model switch).
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    # ================================================================== files
    def open_model_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
            self.open_model(path)

    def recent_files(self) -> list[str]:
        v = self.settings.value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or []) if x]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", recent[:RECENT_MAX])

    def _fill_picker(self) -> None:
        self.picker.blockSignals(True)
        self.picker.clear()
        m = self.core.model
        current = str(m.path.resolve()) if m is not None else None
        seen: set[str] = set()

        def add(label: str, path: Path | str, tip: str) -> None:
            p = str(Path(path).resolve())
            if p in seen:
                return
            seen.add(p)
            self.picker.addItem(label, p)
            self.picker.setItemData(self.picker.count() - 1, f"{tip}\n{p}", Qt.ItemDataRole.ToolTipRole)

        if current is None:
            self.picker.addItem("— no model open —", None)
        for p in resources.bundled_models():
            add(f"Bundled: {p.stem}", p, "A model shipped with GAN Explorer")
        for name, p in sample_models():
            add(f"Sample: {name}", p, "A sample model found in an installed package")
        for p in self.recent_files():
            if Path(p).exists():
                add(f"Recent: {Path(p).name}", p, "Opened recently")
        if current is not None and current not in seen:
            add(Path(current).name, current, "The open model")
        self.picker.insertSeparator(self.picker.count())
        self.picker.addItem("Open…", "__open__")
        i = self.picker.findData(current) if current is not None else 0
        self.picker.setCurrentIndex(max(i, 0))
        self.picker.blockSignals(False)
        self.recent_menu.clear()
        for p in self.recent_files():
            a = self.recent_menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, p=p: self.open_model(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _picker_activated(self, index: int) -> None:
        data = self.picker.itemData(index)
        m = self.core.model
        if data == "__open__":
            self._fill_picker()
            self.open_model_dialog()
        elif data and (m is None or str(m.path.resolve()) != data):
            self.open_model(data)

    def save_session_dialog(self) -> None:
        if self.core.model is None:
            self.error_box("Nothing to save", "Open a model first.")
            return
        start = str(Path(str(self.settings.value("last_dir", str(Path.home())))) / f"session{SESSION_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save session", start, "Sessions (*.json)")
        if path:
            self.save_session(path)

    def save_session(self, path: str) -> bool:
        try:
            self.core.save_session(path)
        except OSError as e:
            self.error_box("Could not save the session", f"{path}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"Saved session {Path(path).name}", 5000)
        return True

    def open_session_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, "Sessions (*.json);;All files (*)")
        if path:
            self.open_session(path)

    def open_session(self, path: str) -> None:
        if not self.may_discard(f"Open the session {Path(path).name}?"):
            return
        try:
            ref, state = self.core.read_session(path)
        except SessionError as e:
            self.error_box("Could not open the session", str(e))
            return
        m = self.core.model
        if m is not None and m.sha256 == ref.sha256:
            self.core.reset_to(state, "opened session")
            self.set_view(state.view)
            self.core.refresh()
        else:
            self.open_model(ref.path, then_state=state, expect_sha=ref.sha256, ask=False)

    def save_latent_dialog(self) -> None:
        if self.current_ws() is None:
            self.error_box("No latent yet", "Open a model and wait for the first image.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save latent", "latent.npy", "NumPy array (*.npy)")
        if path:
            self.save_latent(path)

    def save_latent(self, path: str) -> None:
        from ..atomic import atomic_path
        try:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, self.current_ws())
        except OSError as e:
            self.error_box("Could not save the latent", f"{path}: {e.strerror or e}")
            return
        self.statusBar().showMessage(f"Saved the latent to {Path(path).name}", 5000)

    def copy_image(self) -> None:
        img = self.image_view.image()
        if img is not None:
            QGuiApplication.clipboard().setImage(to_qimage(img))
            self.statusBar().showMessage("Image copied to the clipboard", 3000)

    def export_dialog(self) -> None:
        from .dialogs.export_dialog import ExportDialog
        dlg = ExportDialog(self, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self._export_dialog = dlg

    def export_strip(self, path: str) -> None:
        """The interpolation strip as a PNG strip, a GIF or an MP4 (in the background)."""
        fig = self.core.figure("strip")
        if fig is None:
            self.error_box("Nothing to export", "Show the Interpolate panel first.")
            return
        meta = {**self.export_meta(), **fig.meta}
        self.jobs.start(_write_strip, fig, path, meta, name="export",
                        on_done=lambda p: self.statusBar().showMessage(f"Wrote {p}", 5000),
                        on_error=lambda msg: self.error_box("Could not export", msg))

    # ================================================================== misc
    def train_wizard(self) -> None:
        wiz = TrainWizard(self)
        wiz.openCheckpointRequested.connect(self.open_model)
        self._wizard = wiz
        wiz.show()

    def _set_smooth(self, on: bool) -> None:
        self.image_view.set_smooth(on)
        self.settings.setValue("smooth", "true" if on else "false")

    def _about(self) -> None:
        QMessageBox.about(self, "About GAN Explorer",
                          "GAN Explorer: open a trained GAN and explore its latent space by hand.\n\n"
                          "Shortcuts: Ctrl+O open, Alt+←/→ seed, Ctrl+R random seed, P pin, "
                          "Ctrl+Z / Ctrl+Shift+Z undo / redo, Ctrl+1…5 panels, F fit, S smooth zoom, "
                          "Ctrl+E export, Ctrl+Shift+C copy image.")

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
        self.autosave.finish()         # a clean exit: nothing to recover next time
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


def _write_strip(fig: Figure, path: str, meta: dict) -> str:
    """Runs on a job thread: PNG strip with metadata, or a GIF / MP4 of the frames."""
    p = Path(path)
    if p.suffix.lower() == ".png":
        from ..export.metadata import save_image
        save_image(fig.image(padding=2), p, meta, latents={"ws": fig.ws})
    else:
        from ..export.animation import save_animation
        save_animation(fig.tiles, p, fps=24, loop=True)
    return p.name
