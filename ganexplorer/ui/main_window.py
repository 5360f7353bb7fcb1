"""The explorer window.

Layout: the image view in the centre; panels as tabs in a dock on the right (Sample,
Interpolate, Arithmetic, Style mixing, Directions, and Edit when that module is present);
model facts and the undo history on the left; the pins bar at the bottom; a toolbar with
the model picker, device choice, zoom and undo; a status bar with render ms and fps.

Data flow (house rules 2, 3, 10): a widget gesture calls `change(label, gesture, **fields)`
which pushes a new immutable SessionState onto the History (a drag's events share one
gesture token, so a drag is one undo step), re-syncs every panel with signals blocked,
and posts a RenderRequest to the one render thread. Results come back by queued signal;
the StampGate drops any result older than the one on screen.

API for panels written elsewhere (the Edit panel, the training wizard)
----------------------------------------------------------------------
- ``current_model() -> LoadedModel | None``: the open model (do not call its generator on
  the GUI thread; use a Job from ``ganexplorer.ui.jobs``).
- ``current_ws() -> np.ndarray | None``: [1, num_ws, w_dim] float32, the latent of the
  image now on screen in the Sample/Directions/Edit views (direction edits included);
  None before the first image. A copy: change it freely.
- ``set_ws(ws, label: str)``: make `ws` ([1, num_ws, w_dim] or [num_ws, w_dim]) the
  current latent; pushes ONE undo step named `label`, zeroes the direction sliders and
  re-renders. Raises ValueError if the shape does not fit the model.
- ``image_view``: the ``ImageView`` (a pyqtgraph GraphicsView). Add overlay items to
  ``image_view.view_box``; image pixel (x, y) is scene (x, y), y down.
  ``image_view.image()`` is the [H, W, 3] uint8 array on screen.
- ``open_model(path: str)``: open a checkpoint in the background; errors go to a dialog
  and the previous model stays.
- signal ``modelChanged(object)``: a new LoadedModel is open (GUI thread).
- signal ``latentChanged()``: ``current_ws()`` changed (after the new image is shown).
- also: ``frameShown(int)`` (stamp of each result put on screen), ``renderFailed(str)``,
  ``modelLoadFailed(str)``, ``state`` (the SessionState now shown), ``jobs`` (a JobRunner:
  ``jobs.start(fn, *args, on_done=, on_error=, on_progress=)``), ``error_box(title, text)``
  (a non-blocking warning), ``set_view(name)`` / ``show_panel(panel)``.

A panel added as a tab may define ``view`` ('sample' shows the current latent),
``sync(state)``, ``on_model(model)`` and ``on_result(result)``; all are optional.
"""
from __future__ import annotations

import dataclasses
import gc
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QTabWidget, QToolBar, QWidget)

from .. import resources
from ..latent.directions import Directions
from ..latent.sampling import parse_seeds
from ..models.loaded import LoadedModel
from ..render.cache import ModelCache
from ..render.directions import compute_directions
from ..render.figures import Figure
from ..render.mailbox import StampGate
from ..render.renderer import Renderer, default_cpu_threads
from ..render.requests import EditOp, RenderRequest, RenderResult, Source
from ..session.history import History
from ..session.io import SUFFIX as SESSION_SUFFIX
from ..session.io import SessionError, load_session, save_session
from ..session.state import Group, ModelRef, SavedDirection, SessionState
from .jobs import JobRunner, RenderThread
from .panels.arithmetic import ArithmeticPanel
from .panels.directions import DirectionsPanel
from .panels.info import HistoryPanel, InfoPanel, PinsBar
from .panels.interpolate import InterpolatePanel
from .panels.mixing import MixingPanel
from .panels.sample import SamplePanel
from .widgets.common import to_qimage
from .widgets.image_view import ImageView
from .widgets.panel_tabs import PanelTabs

MODEL_FILTER = "Checkpoints (*.safetensors *.pkl *.pt *.pth *.ckpt);;All files (*)"
RECENT_MAX = 10


def app_settings() -> QSettings:
    """Where settings and recent files live (an INI file in the user's config folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ganexplorer", "ganexplorer")


def sample_models() -> list[tuple[str, Path]]:
    """(label, path) of sample models found in installed packages; [] if that module is absent."""
    try:
        from ..models import samples
        found = samples.list_sample_models()
    except Exception:   # the module is optional and written elsewhere: never break the window
        return []
    out = []
    for item in found or []:
        path = item if isinstance(item, (str, os.PathLike)) else getattr(item, "path", None)
        if path is None:
            continue
        name = getattr(item, "name", None) or getattr(item, "label", None) or Path(path).stem
        out.append((str(name), Path(path)))
    return out


def default_model() -> Path | None:
    """The first bundled model, else the first sample model, else None."""
    bundled = resources.bundled_models()
    if bundled:
        return bundled[0]
    samples = sample_models()
    return samples[0][1] if samples else None


class MainWindow(QMainWindow):
    modelChanged = Signal(object)     # LoadedModel
    latentChanged = Signal()          # current_ws() changed
    frameShown = Signal(int)          # stamp of the result now on screen
    renderFailed = Signal(str)        # a render error, as shown over the image
    modelLoadFailed = Signal(str)     # the loader's message
    stateChanged = Signal()           # after every change, undo, redo

    def __init__(self, settings: QSettings | None = None, cache: ModelCache | None = None,
                 device: str | None = None):
        super().__init__()
        self.settings = settings or app_settings()
        self.setWindowTitle("GAN Explorer")
        self.setWindowIcon(QIcon(str(resources.resources_dir() / "icons" / "ganexplorer.svg")))
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.history: History[SessionState] = History(SessionState())
        self.jobs = JobRunner(self)
        self._cache = cache or ModelCache()
        self._model: LoadedModel | None = None
        self._device = device or str(self.settings.value("device", "cpu"))
        self._view = "sample"
        self._gate = StampGate()
        self._last: RenderResult | None = None
        self._figures: dict[str, Figure] = {}      # newest figure per extra ('pins', 'grid', 'strip')
        self._extra_keys: dict[str, str] = {}
        self._current_ws: np.ndarray | None = None
        self._frame_times: list[float] = []
        self._directions: dict[tuple, Directions] = {}
        self._pending_dirs: set[tuple] = set()
        self._saved_dirs: tuple[tuple, Directions] | None = None
        self.last_error = ""
        self._wizard = None
        self._syncing = False                      # True while panels show the state (no echo)
        self._stale: set = set()                   # panels to sync when they are shown
        self._pins_key: tuple | None = None
        self._dragging = False                     # a slider drag is under way: skip the browse grid

        threads = int(self.settings.value("cpu_threads", 0) or 0) or default_cpu_threads()
        self.renderer = Renderer(cpu_threads=threads)
        self.render_thread = RenderThread(self.renderer, self)
        self.render_thread.resultReady.connect(self._on_result)
        self.render_thread.start()

        self.image_view = ImageView()
        self.setCentralWidget(self.image_view)
        self._build_panels()
        self._build_actions()
        self._build_toolbar_and_menus()
        self._build_status()
        self._add_optional_panels()
        self._tooltips_for_qt_parts()
        self._restore_settings()
        self._refresh(render=False)
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
        self.history_list = HistoryPanel()
        self.history_list.jumpRequested.connect(self.jump)
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
        self.pins_bar.list.doubleClickedData.connect(self.show_pin)
        self.pins_bar.list.removeRequested.connect(self.remove_pin)
        self.pins_bar.show_btn.clicked.connect(lambda: self.show_pin(self.selected_pin()))
        self.pins_bar.remove.clicked.connect(lambda: self.remove_pin(self.selected_pin()))
        self.pins_bar.clear.clicked.connect(self._clear_pins)

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
        self.act_undo = A("Undo", self.undo, SK.Undo, "Undo the last change")
        self.act_redo = A("Redo", self.redo, SK.Redo, "Redo")
        self.act_pin = A("Pin current latent", self.pin_current, "P", "Keep the current latent as a pin")
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
        try:
            from .dialogs import train_wizard  # noqa: F401  (written alongside; optional)
            self._train_module = train_wizard
        except Exception as e:  # ImportError, or a half-written module: the window still opens
            self._train_module = None
            self.act_train.setEnabled(False)
            self.act_train.setToolTip(f"The training wizard is not available ({type(e).__name__}: {e})")

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
        self.dev_label = QLabel(self._device)
        self.dev_label.setToolTip("Device the generator runs on")
        for w in (self.ms_label, self.fps_label, self.dev_label):
            sb.addPermanentWidget(w)

    def _add_optional_panels(self) -> None:
        """The Edit panel (another module) joins as a tab when it imports."""
        self.edit_panel = None
        try:
            from .panels import edit_panel
        except ImportError:
            return
        try:
            panel = edit_panel.EditPanel(self)
        except Exception as e:   # a bug there must not keep the explorer from opening
            self.statusBar().showMessage(f"The Edit panel could not start: {type(e).__name__}: {e}", 10000)
            return
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
        i = self.device_box.findData(self._device)
        if i < 0:
            self.statusBar().showMessage(f"Device {self._device} is not available; rendering on the CPU.", 10000)
            self._device = "cpu"
            i = 0
        self.device_box.blockSignals(True)
        self.device_box.setCurrentIndex(i)
        self.device_box.blockSignals(False)
        self.dev_label.setText(self._device)
        self._fill_picker()

    # ================================================================== state
    @property
    def state(self) -> SessionState:
        return self.history.state

    def change(self, label: str, gesture: object = None, **fields: Any) -> None:
        """A panel's gesture: the current state with `fields` replaced, as one undo step
        (merged with the previous step while `gesture` is the same drag). Ignored while the
        panels are being synced to the state (model-to-view updates never echo back)."""
        if self._syncing:
            return
        self.apply(self.state.replace(**fields), label, gesture)

    def apply(self, state: SessionState, label: str, gesture: object = None) -> None:
        if self._syncing:
            return
        self._dragging = gesture is not None and not getattr(gesture, "done", True)
        self.history.push(state, label, gesture)
        self._refresh()

    def undo(self) -> None:
        self._dragging = False
        self.history.undo()
        self._refresh()

    def redo(self) -> None:
        self._dragging = False
        self.history.redo()
        self._refresh()

    def jump(self, index: int) -> None:
        self._dragging = False
        self.history.jump(index)
        self._refresh()

    def sync_panel(self, panel) -> None:
        """Show the state in one panel, with its gestures muted."""
        sync = getattr(panel, "sync", None)
        if sync is None:
            return
        self._syncing = True
        try:
            sync(self.state)
        finally:
            self._syncing = False
        self._stale.discard(panel)

    def _refresh(self, render: bool = True) -> None:
        """After any state change: the visible panel, pins, undo actions, history list, render.
        Hidden panels catch up when they are shown."""
        s = self.state
        current = self.current_panel()
        self._stale = set(self.panels)
        self.sync_panel(current)
        pins_key = tuple((p.id, p.label) for p in s.pins), self._extra_keys.get("pins")
        if pins_key != self._pins_key:
            self._show_pins(s)
        self.act_undo.setEnabled(self.history.can_undo())
        self.act_redo.setEnabled(self.history.can_redo())
        self.history_list.show_history(self.history.labels(), self.history.index)
        if render:
            self.request_render()
        self.stateChanged.emit()

    # ================================================================== rendering
    def build_request(self) -> RenderRequest | None:
        """The render request for the state and view on screen (stamp 0 until it is sent;
        no generator call here)."""
        s, m = self.state, self._model
        if m is None:
            return None
        current = (Source(seed=s.seed, label=f"seed {s.seed}") if s.base_ws is None
                   else Source(ws=s.base_ws, label=s.base_label or "latent"))

        def pin_source(pid: int) -> Source:
            p = s.pin(pid)
            if p is None:
                return Source(seed=0, label="missing pin")
            return Source(seed=p.seed, label=str(p.seed)) if p.seed is not None else Source(ws=p.ws, label=p.label)

        endpoints = tuple(dataclasses.replace(Source(seed=e.seed) if e.pin_id is None else pin_source(e.pin_id),
                                              label=e.label()) for e in s.endpoints)
        groups = tuple((g.sign, tuple(pin_source(i) for i in g.pin_ids)) for g in s.groups)
        try:
            rows, cols = tuple(parse_seeds(s.mix_rows, 64)), tuple(parse_seeds(s.mix_cols, 64))
        except ValueError:
            rows, cols = (), ()
        view = self._view
        return RenderRequest(
            stamp=0, model=m, device=self._device, psi=s.psi, cutoff=s.cutoff,
            noise_mode=s.noise_mode, view=view, current=current,
            edits=tuple(EditOp(e.vector, e.alpha, e.start, e.stop) for e in s.edits),
            grid_seeds=(tuple(range(s.grid_start, s.grid_start + s.grid_size))
                        if view == "sample" and not self._dragging else ()),
            pins=tuple(Source(ws=p.ws, label=p.label) for p in s.pins),
            endpoints=endpoints, interp_t=s.interp_t, interp_method=s.interp_method,
            interp_space=s.interp_space, interp_frames=s.interp_frames, interp_loop=s.interp_loop,
            groups=groups, arith_space=s.arith_space, arith_sigma=s.arith_sigma,
            arith_neighbours=s.arith_neighbours, arith_noise_seed=s.arith_noise_seed,
            mix_rows=rows, mix_cols=cols, mix_layers=s.mix_layers)

    def request_render(self) -> None:
        req = self.build_request()
        if req is not None:
            self.render_thread.submit(dataclasses.replace(req, stamp=self._gate.next()))

    def _on_result(self, r: RenderResult) -> None:
        if not self._gate.accept(r.stamp):
            return
        self._last = r
        if r.error is not None:
            self.image_view.show_error(r.error)
            self.statusBar().showMessage(r.error, 8000)
            self.renderFailed.emit(r.error)
        else:
            self.image_view.clear_error()
            if r.image is not None:
                self.image_view.set_image(r.image)
        for name, fig in r.extras.items():
            self._figures[name] = fig
        changed = {k for k, v in r.extra_keys.items() if self._extra_keys.get(k) != v}
        self._extra_keys.update(r.extra_keys)
        if "pins" in changed:
            self._show_pins(self.state)
        for p in self.panels:
            hook = getattr(p, "on_result", None)
            if hook is not None:
                hook(r)
        if r.current_ws is not None and (self._current_ws is None or self._current_ws.shape != r.current_ws.shape
                                         or not np.array_equal(self._current_ws, r.current_ws)):
            self._current_ws = r.current_ws
            self.latentChanged.emit()
        self._count_frame(r)
        self.frameShown.emit(r.stamp)

    def _count_frame(self, r: RenderResult) -> None:
        now = time.perf_counter()
        self._frame_times = [t for t in self._frame_times if now - t < 1.0] + [now]
        self.ms_label.setText(f"render {r.render_ms:.1f} ms")
        self.fps_label.setText(f"{len(self._frame_times)} fps")

    def _tab_changed(self, index: int) -> None:
        panel = self.panel_at(index)
        self._dragging = False
        if panel in self._stale:
            self.sync_panel(panel)
        view = getattr(panel, "view", "sample")
        if view != self._view:
            self._view = view
            self._gate.invalidate()
            self.request_render()

    def set_view(self, view: str) -> None:
        """Show the panel whose view is `view` ('sample', 'interpolate', 'arithmetic', ...)."""
        for p in self.panels:
            if getattr(p, "view", None) == view:
                self.show_panel(p)
                return

    @property
    def view(self) -> str:
        return self._view

    def set_device(self, device: str) -> None:
        if not device or device == self._device:
            return
        self._device = device
        self.settings.setValue("device", device)
        self.dev_label.setText(device)
        self.request_render()

    # ================================================================== models
    def open_model(self, path: str, then_state: SessionState | None = None, expect_sha: str = "") -> None:
        """Open a checkpoint in the background. On failure the loader's message is shown in a
        dialog and the previous model stays loaded."""
        path = str(path)
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.jobs.start(self._cache.get, path, name="open model",
                        on_done=lambda m: self._model_loaded(m, then_state, expect_sha),
                        on_error=self._model_failed)

    def _model_failed(self, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage("Could not open the model; the previous one stays open.", 8000)
        self._fill_picker()
        self.modelLoadFailed.emit(message)
        self.error_box("Could not open the model", message)

    def _model_loaded(self, model: LoadedModel, then_state: SessionState | None, expect_sha: str) -> None:
        self.last_error = ""
        same = self._model is not None and self._model.sha256 == model.sha256
        self._model = model
        self._gate.invalidate()
        self._current_ws = None
        self._figures.clear()          # thumbnails and latents of the previous model
        self._extra_keys.clear()
        self._last = None
        self._add_recent(str(model.path))
        self._fill_picker()
        self.info.show_model(model)
        self.setWindowTitle(f"GAN Explorer — {model.name}")
        if then_state is not None:
            self.history.reset(then_state, "opened session")
            self.set_view(then_state.view)
            if expect_sha and expect_sha != model.sha256:
                self.error_box("The model file changed",
                               f"{model.path.name} is not the file this session was saved with (its sha256 "
                               "differs), so the images may differ.")
        elif not same:
            s = self.state
            fresh = SessionState(seed=s.seed, psi=s.psi, grid_start=s.grid_start, grid_size=s.grid_size,
                                 interp_method=s.interp_method, interp_frames=s.interp_frames,
                                 dir_method=s.dir_method, mix_rows=s.mix_rows, mix_cols=s.mix_cols)
            self.history.reset(fresh, f"opened {model.name}")
        styles = bool(getattr(model.G, "has_styles", False))
        self.tabs.setTabVisible(self.tab_index(self.mix_panel), styles)
        if not styles and self.current_panel() is self.mix_panel:
            self.show_panel(self.sample_panel)
        for p in self.panels:
            hook = getattr(p, "on_model", None)
            if hook is not None:
                hook(model)
        self.statusBar().showMessage(f"Opened {model.path.name}", 5000)
        self._refresh()
        self.modelChanged.emit(model)
        # The model, torch, Qt and pyqtgraph are long-lived: move them out of the collector's
        # sight, or every full collection walks them all (240 ms on the GUI thread, measured
        # with bench/ui_latency.py). The young generations are swept first.
        gc.collect(1)
        gc.freeze()

    def current_model(self) -> LoadedModel | None:
        return self._model

    def current_ws(self) -> np.ndarray | None:
        return None if self._current_ws is None else np.array(self._current_ws, copy=True)

    def set_ws(self, ws: np.ndarray, label: str) -> None:
        m = self._model
        if m is None:
            raise ValueError("no model is open")
        ws = np.asarray(ws, np.float32)
        if ws.shape[-2:] != (m.G.num_ws, m.G.w_dim) or ws.size != m.G.num_ws * m.G.w_dim:
            raise ValueError(f"ws must be [1, {m.G.num_ws}, {m.G.w_dim}], got {list(ws.shape)}")
        self.change(label, None, base_ws=ws.reshape(1, m.G.num_ws, m.G.w_dim), base_label=label, edits=())

    def bake_edits(self) -> None:
        if self._current_ws is not None and self.state.edits:
            self.set_ws(self._current_ws, "bake direction edits")

    # ================================================================== pins
    def pins_figure(self) -> Figure | None:
        return self._figures.get("pins") if self.state.pins else None

    def selected_pin(self) -> int | None:
        d = self.pins_bar.list.selected_data()
        return None if d is None else int(d)

    def _show_pins(self, s: SessionState) -> None:
        self._pins_key = tuple((p.id, p.label) for p in s.pins), self._extra_keys.get("pins")
        ids = [p.id for p in s.pins]
        labels = [p.label for p in s.pins]
        fig = self._figures.get("pins")
        selected = self.selected_pin()
        if fig is not None and len(fig.tiles) == len(ids) and fig.meta.get("labels") == labels:
            self.pins_bar.list.set_tiles(fig.tiles, labels, ids,
                                         [f"pin #{i}: {lab}" for i, lab in zip(ids, labels)])
        else:
            self.pins_bar.list.set_placeholders(labels, ids)
        if selected in ids:
            self.pins_bar.list.setCurrentRow(ids.index(selected))

    def pin_current(self) -> None:
        if self._current_ws is None:
            return
        s = self.state
        plain = s.base_ws is None and not s.edits
        label = f"seed {s.seed}" if plain else (s.base_label or f"seed {s.seed}") + (" edited" if s.edits else "")
        self.change(f"pin {label}", None, **_pin_fields(s, self._current_ws, label, s.seed if plain else None))

    def pin_seed(self, seed: int) -> None:
        """Pin a seed of the browse grid (its latent as rendered there)."""
        fig = self._figures.get("grid")
        seeds = fig.meta.get("seeds", []) if fig is not None else []
        if seed in seeds:
            s = self.state
            self.change(f"pin seed {seed}", None,
                        **_pin_fields(s, fig.ws[seeds.index(seed)], f"seed {seed}", seed))

    def pin_arithmetic_result(self) -> None:
        r = self._last
        if r is None or "arith_result" not in r.data:
            self.statusBar().showMessage("No arithmetic result on screen yet.", 4000)
            return
        self.change("pin arithmetic result", None, **_pin_fields(self.state, r.data["arith_result"], "A−B+C"))

    def save_arithmetic_direction(self, name: str) -> None:
        r = self._last
        if r is None or "arith_result" not in r.data:
            self.statusBar().showMessage("No arithmetic result on screen yet.", 4000)
            return
        name = name.strip() or f"direction {len(self.state.saved_directions) + 1}"
        diff = (r.data["arith_result"][0] - r.data["arith_means"][-1]).mean(axis=0)   # [w_dim]
        scale = float(np.linalg.norm(diff))
        if scale == 0:
            self.statusBar().showMessage("The result equals the last group's mean: no direction to save.", 4000)
            return
        saved = tuple(d for d in self.state.saved_directions if d.name != name)
        d = SavedDirection(name, (diff / scale).astype(np.float32), scale)
        self.change(f"save direction {name}", None, saved_directions=saved + (d,))
        self.statusBar().showMessage(f"Saved direction “{name}”: see Directions ▸ Saved directions.", 5000)

    def show_pin(self, pin_id) -> None:
        p = None if pin_id is None else self.state.pin(int(pin_id))
        if p is None:
            return
        if p.seed is not None and p.psi == self.state.psi:
            self.change(f"show pin #{p.id}", None, seed=p.seed, base_ws=None, base_label="", edits=())
        else:
            self.change(f"show pin #{p.id}", None, base_ws=p.ws, base_label=f"pin #{p.id}", edits=())

    def remove_pin(self, pin_id) -> None:
        if pin_id is not None and self.state.pin(int(pin_id)) is not None:
            self.apply(self.state.remove_pin(int(pin_id)), f"remove pin #{pin_id}")

    def _clear_pins(self) -> None:
        if self.state.pins:
            self.change("clear pins", None, pins=(), groups=tuple(Group(g.sign) for g in self.state.groups),
                        endpoints=tuple(e for e in self.state.endpoints if e.pin_id is None))

    # ================================================================== directions
    def direction_set(self, method: str, k: int = 10) -> Directions | None:
        """The direction set for the open model, or None while it is computed in the background."""
        m = self._model
        if m is None:
            return None
        if method == "saved":
            saved = self.state.saved_directions
            key = tuple(id(d) for d in saved)
            if self._saved_dirs is None or self._saved_dirs[0] != key:
                vecs = np.stack([d.vector for d in saved]) if saved else np.zeros((0, m.G.w_dim), np.float32)
                self._saved_dirs = (key, Directions("saved", vecs, np.array([d.scale for d in saved], np.float32),
                                                    [d.name for d in saved]))
            return self._saved_dirs[1]
        key = (id(m), method, int(k))
        if key in self._directions:
            return self._directions[key]
        if key not in self._pending_dirs:
            self._pending_dirs.add(key)

            def done(d: Directions, key=key) -> None:
                self._pending_dirs.discard(key)
                self._directions[key] = d
                self.dir_panel.refresh()

            def failed(msg: str, key=key) -> None:
                self._pending_dirs.discard(key)
                self.dir_panel.status.setText(f"Could not compute the directions: {msg}")

            self.jobs.start(compute_directions, m.G, method, int(k), name="directions",
                            on_done=done, on_error=failed)
        return None

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
        current = str(self._model.path.resolve()) if self._model is not None else None
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
        if data == "__open__":
            self._fill_picker()
            self.open_model_dialog()
        elif data and (self._model is None or str(self._model.path.resolve()) != data):
            self.open_model(data)

    def save_session_dialog(self) -> None:
        if self._model is None:
            self.error_box("Nothing to save", "Open a model first.")
            return
        start = str(Path(str(self.settings.value("last_dir", str(Path.home())))) / f"session{SESSION_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save session", start, "Sessions (*.json)")
        if path:
            self.save_session(path)

    def save_session(self, path: str) -> None:
        m = self._model
        try:
            save_session(path, None if m is None else ModelRef(str(m.path), m.sha256),
                         self.state.replace(view=self._view))
        except OSError as e:
            self.error_box("Could not save the session", f"{path}: {e.strerror or e}")
            return
        self.statusBar().showMessage(f"Saved session {Path(path).name}", 5000)

    def open_session_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, "Sessions (*.json);;All files (*)")
        if path:
            self.open_session(path)

    def open_session(self, path: str) -> None:
        try:
            ref, state = load_session(path)
        except SessionError as e:
            self.error_box("Could not open the session", str(e))
            return
        if ref is None:
            self.error_box("Could not open the session", f"{Path(path).name} names no model.")
            return
        if self._model is not None and self._model.sha256 == ref.sha256:
            self.history.reset(state, "opened session")
            self.set_view(state.view)
            self._refresh()
        else:
            self.open_model(ref.path, then_state=state, expect_sha=ref.sha256)

    def save_latent_dialog(self) -> None:
        if self._current_ws is None:
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

    def export_meta(self) -> dict[str, Any]:
        m = self._model
        base = {"app": "ganexplorer", "noise_mode": self.state.noise_mode, "view": self._view}
        if m is not None:
            base.update(checkpoint=m.path.name, checkpoint_sha256=m.sha256, format=m.format)
        return base

    def export_sources(self) -> dict[str, Figure]:
        """The figures an export can take: the current view and each panel's thumbnails."""
        out: dict[str, Figure] = {}
        if self._last is not None and self._last.figure is not None and self._last.error is None:
            out["Current view"] = self._last.figure
        names = {"pins": "Pins", "grid": "Browse grid", "strip": "Interpolation strip"}
        for key, title in names.items():
            fig = self._figures.get(key)
            if fig is not None and (key != "pins" or self.state.pins):
                out[title] = fig
        return out

    def export_dialog(self) -> None:
        from .dialogs.export_dialog import ExportDialog
        dlg = ExportDialog(self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self._export_dialog = dlg

    def export_strip(self, path: str) -> None:
        """The interpolation strip as a PNG strip, a GIF or an MP4 (in the background)."""
        fig = self._figures.get("strip")
        if fig is None:
            self.error_box("Nothing to export", "Show the Interpolate panel first.")
            return
        meta = {**self.export_meta(), **fig.meta}
        self.jobs.start(_write_strip, fig, path, meta, name="export",
                        on_done=lambda p: self.statusBar().showMessage(f"Wrote {p}", 5000),
                        on_error=lambda msg: self.error_box("Could not export", msg))

    # ================================================================== misc
    def train_wizard(self) -> None:
        if self._train_module is None:
            return
        try:
            wiz = self._train_module.TrainWizard(self)
            wiz.openCheckpointRequested.connect(self.open_model)
        except Exception as e:   # a broken wizard must not close the explorer
            self.error_box("The training wizard could not start", f"{type(e).__name__}: {e}")
            return
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
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.jobs.cancel_all()
        self.render_thread.stop()
        super().closeEvent(e)

    def shutdown(self) -> None:
        """Stop the render thread (tests and benches call this; closing the window does it too)."""
        self.render_thread.stop()


def _pin_fields(s: SessionState, ws: np.ndarray, label: str, seed: int | None = None) -> dict[str, Any]:
    new = s.add_pin(ws, label, seed, s.psi)
    return {"pins": new.pins, "next_pin_id": new.next_pin_id}


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

