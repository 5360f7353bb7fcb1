"""Edit: iGAN-style brushes over the image, and projection of real images.

Tools (drawn over the main image view, on the model's pixel grid):
  Pan      the view pans and zooms as usual
  Colour   paint a colour the region should take (colour picker, width)
  Sketch   draw where an edge should run
  Warp     drag a box around a region, then drag the box to where it should move
  Eraser   remove colour and sketch constraints under it

Live (iGAN: the result follows the brush): every stroke — on release, and every
`PACE_MS` while it is being painted — restarts `latent.edit.edit_latent` on the worker
from the best candidates the interrupted run had reached (`ui.live_edit`); the best
candidate is laid over the image and the strip shows the top candidates as it runs, the
newest frame winning. "Optimise" runs the same optimisation from scratch (with Live off,
it is the only way to run). Afterwards the slider walks from the start to the result along
the winner's path. "Accept" makes the chosen image the current latent — one undo step named
"Edit" (or "Projection"). "Project image…" (or an image dropped on this panel) runs
`latent.project.project` the same way, and shows the target beside the result with the
PSNR of the two images as displayed. "Save animation…" writes the start -> result frames.
"""
from __future__ import annotations

import copy
import threading
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from shiboken6 import isValid
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QDoubleSpinBox, QFileDialog,
                               QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QListWidgetItem,
                               QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox, QVBoxLayout, QWidget)

from ...export.images import to_uint8
from ...latent.edit import EditConfig, EditProgress, warm_up
from ...latent.project import ProjectConfig, load_target, project
from ...latent.strokes import ColorStroke, EraserStroke, SketchStroke, StrokeDocument, StrokesError, WarpStroke
from ...models.loaded import LoadedModel
from ..live_edit import LatestSlot, LiveFrame, LiveRequest, SlotClosedError, live_session, replay_projection
from ..widgets.common import to_qimage
from ..widgets.edit_overlay import StrokeOverlay
from ..widgets.projection_compare import ProjectionCompare
from ..widgets.thumbs import DATA, ThumbList
from ..widgets.tool_row import tool_row
from ..context import PanelContext
from .base import Panel

TOOLS = ("pan", "color", "sketch", "warp", "eraser")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
PACE_MS = 150      # while a stroke is being painted, a new run starts at most this often
TEXT_EVERY_S = 0.2  # live status text and progress bar: at most this often (the images: every frame)


class EditPanel(Panel):
    view = "sample"
    title = "Edit"
    shortcut = "Ctrl+9"

    runFinished = Signal()          # an optimisation or projection ended (result or cancel)
    accepted = Signal()             # the result became the current latent
    candidatesShown = Signal(int, int)   # (run serial, step): the strip now shows that run's step

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self.setAcceptDrops(True)
        self.doc = StrokeDocument((64, 64))
        self._tool = "pan"
        self._color = QColor(220, 30, 30)
        self._drawing = None            # the stroke being drawn, or None
        self._warp_rect = None          # (x, y, w, h) chosen by the first warp drag
        self._warp_drag = None          # (x, y) where the second warp drag started
        self._job = None                # the projection job while it runs
        self._cancel = threading.Event()  # the user's Cancel for the run in progress
        self._kind = ""                 # 'Edit' | 'Projection' while a run is shown
        self._frames: list[np.ndarray] = []      # [H, W, 3] uint8 along the winner's path
        self._frame_ws: list[np.ndarray] = []    # [1, num_ws, w_dim] for each of those frames
        self._result_ws: np.ndarray | None = None
        self._last_event = None
        self._updates = 0
        # The live session: one worker job on the model's copy, fed through one-slot boxes.
        self._session = None            # its Job
        self._session_key = None        # (model, device) it was started for
        self._inbox: LatestSlot | None = None
        self._outbox: LatestSlot | None = None
        self._session_stop = threading.Event()
        self._serial = 0                # the newest request handed to the session
        self._running_serial: int | None = None   # the run whose end has not arrived
        self._proj_outbox: LatestSlot | None = None
        # A panel deleted with its window ends its session at once, as cancelled (nothing is
        # reported to widgets that are gone); the hook holds no reference to the panel.
        self._alive: dict = {"job": None, "inbox": None}
        self.destroyed.connect(lambda *_a, alive=self._alive: _end_session(alive))
        self.run_log: list = []         # live_edit.RunEnd per run the sessions ended
        self.submitted_at: dict[int, float] = {}   # serial -> perf_counter() when it was sent
        # Paced runs while painting: the stroke so far goes out every PACE_MS.
        self._pace = QTimer(self)
        self._pace.setInterval(PACE_MS)
        self._pace.timeout.connect(self._paced_submit)
        self._stroke_version = 0        # bumps with every change of the stroke being drawn
        self._text_at = 0.0             # when the live status text was last written
        self._sent_version = 0

        # The overlay items live in the main view; the preview shows the live candidate.
        self.overlay = StrokeOverlay()
        self.preview = pg.ImageItem(axisOrder="row-major")
        self.preview.setZValue(10)
        self.preview.hide()
        vb = ctx.image_view.view_box
        vb.addItem(self.preview)
        vb.addItem(self.overlay)
        self.overlay.pressed.connect(self._press)
        self.overlay.moved.connect(self._move)
        self.overlay.released.connect(self._release)

        # Brushes, options and the result strip scroll; Accept / Discard and Projection stay
        # below them in view (in a 1280x800 window they were below the fold).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        body = QWidget()
        lay = QVBoxLayout(body)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.scroll = scroll
        # -------------------------------------------------------------- tools
        tools = QGroupBox("Brushes")
        tl = QVBoxLayout(tools)
        self.tool_group, self.tool_buttons, row = tool_row(self, {
            "pan": ("Pan", "Pan and zoom the view (no drawing)"),
            "color": ("Colour", "Colour brush: paint the colour this region should take"),
            "sketch": ("Sketch", "Sketch brush: draw where an edge or outline should run"),
            "warp": ("Warp", "Warp: drag a box around a region, then drag the box where it should go"),
            "eraser": ("Eraser", "Eraser: remove colour and sketch strokes under it")}, self.set_tool)
        tl.addLayout(row)
        crow = QHBoxLayout()
        crow.addWidget(QLabel("Colour"))
        self.color_btn = QPushButton()
        self.color_btn.setToolTip("Choose the colour brush's colour")
        self.color_btn.clicked.connect(self.choose_color)
        crow.addWidget(self.color_btn)
        self.width_spin = QSpinBox()
        self.width_spin.setRange(1, 256)
        self.width_spin.setValue(6)
        self.width_spin.setSuffix(" px")
        self.width_spin.setToolTip("Brush width in the model's pixels")
        crow.addWidget(QLabel("Width"))
        crow.addWidget(self.width_spin)
        self.show_box = QCheckBox("Show strokes")
        self.show_box.setChecked(True)
        self.show_box.setToolTip("Show or hide the strokes drawn over the image")
        self.show_box.toggled.connect(self.overlay.setVisible)
        crow.addWidget(self.show_box)
        tl.addLayout(crow)
        row2 = QHBoxLayout()
        self.undo_btn = QPushButton("Undo stroke")
        self.undo_btn.setToolTip("Remove the last stroke")
        self.undo_btn.clicked.connect(self.undo_stroke)
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.setToolTip("Remove all strokes")
        self.clear_btn.clicked.connect(self.clear_strokes)
        self.save_strokes_btn = QPushButton("Save…")
        self.save_strokes_btn.setToolTip("Save the strokes as JSON (ganexplorer edit --strokes reads it)")
        self.save_strokes_btn.clicked.connect(self.save_strokes_dialog)
        self.load_strokes_btn = QPushButton("Load…")
        self.load_strokes_btn.setToolTip("Load strokes saved before")
        self.load_strokes_btn.clicked.connect(self.load_strokes_dialog)
        for b in (self.undo_btn, self.clear_btn, self.save_strokes_btn, self.load_strokes_btn):
            row2.addWidget(b)
        tl.addLayout(row2)
        lay.addWidget(tools)

        # -------------------------------------------------------------- settings (scroll)
        opt = QGroupBox("Optimisation")
        of = QGridLayout(opt)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 5000)
        self.steps_spin.setValue(EditConfig.steps)
        self.steps_spin.setToolTip("Adam steps at most")
        self.cand_spin = QSpinBox()
        self.cand_spin.setRange(1, 64)
        self.cand_spin.setValue(EditConfig.candidates)
        self.cand_spin.setToolTip("K latents optimised together: the current one and K-1 perturbations")
        self.lam_latent = QDoubleSpinBox()
        self.lam_latent.setRange(0, 100)
        self.lam_latent.setDecimals(3)
        self.lam_latent.setSingleStep(0.05)
        self.lam_latent.setValue(EditConfig.lambda_latent)
        self.lam_latent.setToolTip("λ: how strongly the latent stays near the start (iGAN's ‖z − z0‖²)")
        self.lam_keep = QDoubleSpinBox()
        self.lam_keep.setRange(0, 100)
        self.lam_keep.setDecimals(2)
        self.lam_keep.setSingleStep(0.1)
        self.lam_keep.setValue(EditConfig.lambda_keep)
        self.lam_keep.setToolTip("How strongly the image stays the same where nothing is drawn (0 = iGAN's cost)")
        for i, (text, spin) in enumerate((("Steps", self.steps_spin), ("Candidates", self.cand_spin),
                                          ("Stay near start", self.lam_latent), ("Keep the rest", self.lam_keep))):
            of.addWidget(QLabel(text), i // 2, 2 * (i % 2))
            of.addWidget(spin, i // 2, 2 * (i % 2) + 1)
        of.setColumnStretch(1, 1)
        of.setColumnStretch(3, 1)
        lay.addWidget(opt)
        lay.addStretch(1)

        # -------------------------------------------------------------- run (always in view)
        # Below the scroll area: what a live run shows and the buttons that end it stay in
        # view in a 1280x800 window (the settings above scroll).
        run = QWidget()
        rv = QVBoxLayout(run)
        rv.setContentsMargins(6, 0, 6, 0)
        brow = QHBoxLayout()
        self.live_box = QCheckBox("Live")
        self.live_box.setChecked(True)
        self.live_box.setToolTip("Follow the brush: optimise after every stroke, and while painting, continuing "
                                 "from the best candidates so far (iGAN); off: only Optimise runs")
        self.run_btn = QPushButton("Optimise")
        self.run_btn.setToolTip("Run the optimisation from scratch: the current latent and fresh "
                                "perturbations of it (Ctrl+Return)")
        self.run_btn.setShortcut("Ctrl+Return")
        self.run_btn.clicked.connect(self.start_edit)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop; the best result so far is kept for review")
        self.cancel_btn.clicked.connect(self.cancel)
        brow.addWidget(self.live_box)
        brow.addWidget(self.run_btn, 1)
        brow.addWidget(self.cancel_btn, 1)
        rv.addLayout(brow)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(self.progress.fontMetrics().height() + 6)
        rv.addWidget(self.progress)
        self.status = QLabel("Draw on the image: the result follows the brush.")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(2 * self.status.fontMetrics().height())
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        rv.addWidget(self.status)

        # -------------------------------------------------------------- result
        res = QGroupBox("Result")
        rl = QVBoxLayout(res)
        self.strip = ThumbList(56, one_row=True, tooltip="The best candidates; click one to choose it")
        self.strip.clickedData.connect(self.choose_candidate)
        rl.addWidget(self.strip)
        # A projection has no candidates: its target and result take the strip's place.
        self.compare = ProjectionCompare(self.strip.height() - 24)
        self.compare.setToolTip("The projection's target beside its result")
        self.compare.hide()
        rl.addWidget(self.compare)
        srow = QHBoxLayout()
        srow.addWidget(QLabel("Start"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("From the start image to the result, along the optimisation")
        self.slider.valueChanged.connect(self._show_frame)
        srow.addWidget(self.slider, 1)
        srow.addWidget(QLabel("Result"))
        rl.addLayout(srow)
        arow = QHBoxLayout()
        self.accept_btn = QPushButton("Accept")
        self.accept_btn.setToolTip("Make this image the current latent (one undo step)")
        self.accept_btn.clicked.connect(self.accept_result)
        self.discard_btn = QPushButton("Discard")
        self.discard_btn.setToolTip("Forget this result and show the current image again")
        self.discard_btn.clicked.connect(self.discard_result)
        self.anim_btn = QPushButton("Save animation…")
        self.anim_btn.setToolTip("Write the start -> result frames as GIF or MP4")
        self.anim_btn.clicked.connect(self.save_animation_dialog)
        arow.addWidget(self.accept_btn)
        arow.addWidget(self.discard_btn)
        arow.addWidget(self.anim_btn)
        rl.addLayout(arow)
        rv.addWidget(res)

        # -------------------------------------------------------------- projection
        pl = QHBoxLayout()
        self.project_btn = QPushButton("Project image…")
        self.project_btn.setToolTip("Find the latent whose image looks most like a photo (or drop one here)")
        self.project_btn.clicked.connect(self.project_dialog)
        self.proj_steps = QSpinBox()
        self.proj_steps.setRange(1, 10000)
        self.proj_steps.setValue(ProjectConfig.steps)
        self.proj_steps.setToolTip("Projection steps")
        pl.addWidget(self.project_btn, 1)
        pl.addWidget(QLabel("Steps"))
        pl.addWidget(self.proj_steps)
        rv.addLayout(pl)
        outer.addWidget(run)

        self.tool_buttons["pan"].setChecked(True)
        self._update_color_button()
        self._update_enabled()
        # (the window calls on_model itself for every panel in its tabs)
        ctx.latentChanged.connect(self._latent_changed)
        model = ctx.current_model()
        if model is not None:
            self.on_model(model)

    def heightForWidth(self, width: int) -> int:
        """Only as tall as the part that must stay in view. The tab's scroll area sizes a
        panel whose layout wraps text by this; the preferred height (everything unscrolled)
        put Accept / Discard below the fold at 1280x800. With the minimum, the panel gets
        the height there is, and only the brushes and settings above scroll."""
        return self.layout().minimumHeightForWidth(width)

    # ================================================================== tools
    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        changed = name != self._tool
        self._tool = name
        b = self.tool_buttons[name]
        if not b.isChecked():
            b.setChecked(True)
        self.overlay.set_active(name != "pan")
        if changed:   # a half-made warp selection does not survive a change of tool
            self._warp_rect = self._warp_drag = None
            self._redraw()

    def tool(self) -> str:
        return self._tool

    def choose_color(self) -> None:
        c = QColorDialog.getColor(self._color, self, "Brush colour")
        if c.isValid():
            self.set_color(c)

    def set_color(self, color: QColor | tuple[int, int, int]) -> None:
        self._color = color if isinstance(color, QColor) else QColor(*color)
        self._update_color_button()

    def _update_color_button(self) -> None:
        pm = QPixmap(28, 14)
        pm.fill(self._color)
        self.color_btn.setIcon(QIcon(pm))
        self.color_btn.setText(self._color.name())

    # The overlay's drags, in image pixels (also called directly by tests and scripts).
    def _press(self, x: float, y: float) -> None:
        w = float(self.width_spin.value())
        if self._tool == "color":
            self._drawing = ColorStroke((self._color.red(), self._color.green(), self._color.blue()), w, [(x, y)])
        elif self._tool == "sketch":
            self._drawing = SketchStroke(max(1.0, w / 3), [(x, y)])
        elif self._tool == "eraser":
            self._drawing = EraserStroke(w, [(x, y)])
        elif self._tool == "warp":
            r = self._warp_rect
            if r is not None and r[0] <= x <= r[0] + r[2] and r[1] <= y <= r[1] + r[3]:
                self._warp_drag = (x, y)
                self._drawing = WarpStroke(r, (0.0, 0.0))
            else:
                self._warp_rect, self._warp_drag = None, (x, y)
                self._drawing = WarpStroke((x, y, 1e-3, 1e-3), (0.0, 0.0))
        self._redraw()
        if self._drawing is not None and self.live_box.isChecked():
            self._ensure_session()        # the model copy is made while the stroke goes on
            self._stroke_version += 1
            self._pace.start()

    def _move(self, x: float, y: float) -> None:
        st = self._drawing
        if st is None:
            return
        if isinstance(st, WarpStroke):
            x0, y0 = self._warp_drag
            if self._warp_rect is None:   # selecting the region
                st.rect = (min(x0, x), min(y0, y), max(abs(x - x0), 1e-3), max(abs(y - y0), 1e-3))
            else:                         # dragging it
                st.offset = (x - x0, y - y0)
        elif st.points[-1] != (x, y):
            st.points.append((x, y))
        self._stroke_version += 1
        self._redraw()

    def _release(self, x: float, y: float) -> None:
        st = self._drawing
        if st is None:
            return
        self._move(x, y)
        self._drawing = None
        self._pace.stop()
        if isinstance(st, WarpStroke):
            if self._warp_rect is None:
                if st.rect[2] >= 1 and st.rect[3] >= 1:
                    self._warp_rect = st.rect   # now drag it
                    self.status.setText("Now drag the box to where that region should move.")
            else:
                if abs(st.offset[0]) >= 0.5 or abs(st.offset[1]) >= 0.5:
                    self.doc.add(WarpStroke(st.rect, st.offset))
                self._warp_rect = None
        else:
            self.doc.add(st)
        self._redraw()
        self._update_enabled()
        self._strokes_changed()

    def add_stroke(self, stroke) -> None:
        self.doc.add(stroke)
        self._redraw()
        self._update_enabled()
        self._strokes_changed()

    def undo_stroke(self) -> None:
        self.doc.undo()
        self._redraw()
        self._update_enabled()
        self._strokes_changed()

    def clear_strokes(self) -> None:
        self.doc.clear()
        self._warp_rect = self._drawing = None
        self._pace.stop()
        self._redraw()
        self._update_enabled()
        self._strokes_changed()

    def _redraw(self) -> None:
        extra = self._drawing
        if extra is None and self._warp_rect is not None:
            extra = WarpStroke(self._warp_rect, (0.0, 0.0))
        self.overlay.show_document(self.doc, extra)

    def save_strokes_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save strokes", "strokes.json", "Strokes (*.json)")
        if path:
            try:
                self.doc.save(path)
            except OSError as e:
                self.ctx.error_box("Could not save the strokes", str(e))

    def load_strokes_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load strokes", "", "Strokes (*.json)")
        if path:
            self.load_strokes(path)

    def load_strokes(self, path: str) -> None:
        try:
            doc = StrokeDocument.load(path)
        except StrokesError as e:
            self.ctx.error_box("Could not load the strokes", str(e))
            return
        R = self.doc.canvas[0]
        if doc.canvas != (R, R):   # rescale to this model's grid
            sx, sy = R / doc.canvas[0], R / doc.canvas[1]
            doc = StrokeDocument.from_dict(_scaled(doc.to_dict(), sx, sy))
        self.doc = doc
        self._redraw()
        self._update_enabled()
        self._strokes_changed()

    # ================================================================== model and latent
    def on_model(self, model: LoadedModel | None) -> None:
        if model is None:
            return
        if self._job is not None:
            self.cancel()
        self._stop_session()             # its copy belongs to the previous model
        self._running_serial = None
        R = model.G.img_resolution
        self.doc = StrokeDocument((R, R))
        self.overlay.set_size(R)
        self.width_spin.setValue(max(2, R // 10))
        # PyTorch's lazy kernel set-up, paid now in the background, not on the first edit.
        candidates = self.cand_spin.value()
        self.ctx.jobs.start_on_model(model, lambda m: warm_up(m.G, candidates), name="edit warm-up")
        self._forget_result()
        self._redraw()
        self._update_enabled()

    def _latent_changed(self) -> None:
        if self._running_serial is not None:
            self._halt()            # the start moved on under a live run: stop it
        if self._job is None and self._result_ws is not None:
            self._forget_result()   # the start moved on (seed, undo, ...): the result is stale
        self._update_enabled()

    # ================================================================== running
    def running(self) -> bool:
        return self._job is not None or self._running_serial is not None

    def _config(self) -> EditConfig:
        return EditConfig(steps=self.steps_spin.value(), candidates=self.cand_spin.value(),
                          lambda_latent=self.lam_latent.value(), lambda_keep=self.lam_keep.value())

    def start_edit(self) -> None:
        """Optimise the current latent toward the strokes from scratch (the current latent
        and fresh perturbations), on the live session's worker."""
        if self.running():
            return
        if self.doc.is_empty():
            self.status.setText("Draw a colour, sketch or warp stroke first.")
            return
        self._submit(self.doc, carry=False)

    def _strokes_changed(self) -> None:
        """Live: the finished strokes go to the worker at once (newest wins)."""
        if not self.live_box.isChecked() or self._job is not None:
            return
        if self.doc.is_empty():
            if self._running_serial is not None or self._result_ws is not None:
                self._halt()
                self._forget_result()
                self._update_enabled()
            return
        self._sent_version = self._stroke_version
        self._submit(self.doc, carry=True)

    def _paced_submit(self) -> None:
        """While painting: the strokes plus the one being drawn, when it changed since the last run."""
        st = self._drawing
        if st is None or self._stroke_version == self._sent_version or self._job is not None:
            return
        if isinstance(st, WarpStroke) and (self._warp_rect is None or st.offset == (0.0, 0.0)):
            return                        # still choosing the region: nothing asks for a change yet
        doc = copy.deepcopy(self.doc)
        doc.add(copy.deepcopy(st))
        if doc.is_empty():
            return
        self._sent_version = self._stroke_version
        self._submit(doc, carry=True)

    def _submit(self, doc: StrokeDocument, carry: bool) -> None:
        model, ws = self.ctx.current_model(), self.ctx.current_ws()
        if model is None or ws is None:
            return
        if self._running_serial is None:
            self._begin("Edit", self.steps_spin.value())
        self._serial += 1
        self._cancel = threading.Event()
        req = LiveRequest(self._serial, ws, copy.deepcopy(doc), self._config(), carry, self._cancel)
        self._running_serial = self._serial
        self.submitted_at[self._serial] = time.perf_counter()
        if len(self.submitted_at) > 256:      # a long painting session: keep the recent ones
            for k in sorted(self.submitted_at)[:128]:
                del self.submitted_at[k]
            del self.run_log[:-128]
        self._put(model, req)
        self._update_enabled(running=True)

    def _put(self, model: LoadedModel, req: LiveRequest) -> None:
        for _ in range(2):     # a session that just ended on its idle timeout: start another
            self._ensure_session(model)
            try:
                self._inbox.put(req)
                return
            except SlotClosedError:
                self._session = None

    def _halt(self) -> None:
        """Stop the live run in progress (if any) without starting another."""
        if self._running_serial is None:
            return
        self._serial += 1
        self._running_serial = None
        if self._inbox is not None and not self._inbox.closed:
            try:
                self._inbox.put(LiveRequest(self._serial, None))
            except SlotClosedError:
                pass
        self.runFinished.emit()

    def _ensure_session(self, model: LoadedModel | None = None) -> None:
        model = model or self.ctx.current_model()
        if model is None:
            return
        key = (id(model), self.ctx.jobs.device)
        if self._session is not None and self._session_key == key and not self._inbox.closed:
            return
        self._stop_session()
        inbox, outbox, stop = LatestSlot(), LatestSlot(), threading.Event()
        self._inbox, self._outbox, self._session_stop, self._session_key = inbox, outbox, stop, key
        candidates = self.cand_spin.value()
        job = None
        # Stopped by a new model, or by the window's cancel_all when it closes.
        stopped = lambda: stop.is_set() or (job is not None and job.cancelled)   # noqa: E731

        def ended(*_a) -> None:
            if self._session is job:
                self._session = None
                if self._running_serial is not None:    # the session failed under a run
                    self._running_serial = None
                    self._update_enabled()
                    self.runFinished.emit()

        def failed(message: str) -> None:
            if self._session is job:
                self.status.setText(f"Edit failed: {message}")
                self.ctx.status(f"Edit failed: {message}", 10000)
            ended()

        job = self.ctx.jobs.start_on_model(
            model, lambda m: live_session(m.G, m.D, inbox, outbox, stopped, warm_candidates=candidates,
                                   log=self.run_log), D=True,
            name="live edit", on_progress=lambda _serial: self._on_live_tick(outbox), on_done=ended,
            on_error=failed)
        self._session = job
        self._alive.update(job=job, inbox=inbox)

    def _stop_session(self) -> None:
        if self._session is not None:
            self._session_stop.set()
            self._session.cancel()
            if self._inbox is not None:
                self._inbox.close()
        self._session = None

    def session_stats(self) -> dict:
        """How the live session is doing (tests and benches): requests replaced unseen in the
        inbox, frames replaced unseen in the outbox."""
        return {"requests_replaced": self._inbox.replaced if self._inbox else 0,
                "frames_replaced": self._outbox.replaced if self._outbox else 0}

    def _on_live_tick(self, outbox: LatestSlot) -> None:
        if not isValid(self) or self._session_stop.is_set():
            return                          # the window closed under a run: one late nudge
        frame = outbox.take_nowait()
        if frame is None or outbox is not self._outbox:
            return
        if frame.serial != self._serial or self._running_serial is None:
            return                          # an older stroke's run, or one halted since
        self._show_frame_event(frame)

    def _show_frame_event(self, frame: LiveFrame) -> None:
        if frame.error:
            self._running_serial = None
            self.status.setText(f"Edit failed: {frame.error}")
            self._forget_result()
            self._update_enabled()
            self.runFinished.emit()
            return
        ev = frame.progress
        self._last_event = ev
        self._updates += 1
        img = to_uint8(ev.best_image)[0]
        self._result_ws = np.asarray(ev.best_ws, np.float32)
        self._show_image(img)
        self._fill_strip(ev)
        if frame.replay is None:
            now = time.perf_counter()
            if now - self._text_at >= TEXT_EVERY_S:
                # The progress bar repaints synchronously when its text changes: a few
                # times a second is enough for the words; the images follow every frame.
                self._text_at = now
                self.progress.setMaximum(ev.steps)
                self.progress.setValue(min(ev.step, ev.steps))
                start = f", from {frame.carried} candidates so far" if frame.carried else ""
                self.status.setText(f"Edit: step {ev.step}/{ev.steps}{start}  cost {ev.best_loss:.4f}  " +
                                    "  ".join(f"{k} {v:.3f}" for k, v in ev.terms.items() if k != "total") +
                                    f"  ({ev.elapsed:.1f} s)")
            self.candidatesShown.emit(frame.serial, ev.step)
            return
        self.progress.setMaximum(ev.steps)
        self.progress.setValue(min(ev.step, ev.steps))
        # The run's end: the result, and the slider along the winner's path.
        self._running_serial = None
        self._frames = list(frame.replay.frames)
        self._frame_ws = [w[None] for w in frame.replay.ws]
        self._frames[-1] = img
        self._frame_ws[-1] = self._result_ws
        self._finish_view(ev)
        self.candidatesShown.emit(frame.serial, ev.step)
        self._update_enabled()
        self.runFinished.emit()

    # ------------------------------------------------------------------ projection
    def project_dialog(self) -> None:
        exts = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Project an image", "", f"Images ({exts})")
        if path:
            self.start_projection(path)

    def start_projection(self, path: str) -> None:
        """Project the image at `path` (cropped and resized to the model) on a worker thread."""
        model = self.ctx.current_model()
        if model is None or self.running():
            return
        G = model.G
        try:
            target = load_target(path, G.img_resolution, G.img_channels)
        except ValueError as e:
            self.ctx.error_box("Could not open the image", str(e))
            return
        if G.c_dim and not G.has_styles:
            self.ctx.error_box("Projection", "Projection into a conditional DCGAN needs a class; "
                                  "use `ganexplorer project --class` for now.")
            return
        # The app keeps latents only (ws): StyleGAN noise maps stay fixed so that the
        # result shown is exactly what Accept gives.
        cfg = ProjectConfig(steps=self.proj_steps.value(), optimize_noise=False)
        self._begin("Projection", cfg.steps)
        self.compare.set_target(to_uint8(target)[0])
        self.strip.hide()
        self.compare.show()
        cancel, outbox = self._cancel, LatestSlot()
        self._proj_outbox = outbox
        self._job = self.ctx.jobs.start_on_model(
            model, lambda m: replay_projection(project(m.G, target, cfg, m.E, m.D, cancel), outbox, m.G),
            D=True, E=True, name="projection", on_progress=lambda _s: self._on_projection_tick(outbox),
            on_done=lambda _: self._end(None), on_error=self._end)

    def _on_projection_tick(self, outbox: LatestSlot) -> None:
        if not isValid(self):
            return
        frame = outbox.take_nowait()
        if frame is None or outbox is not self._proj_outbox:
            return
        ev = frame.progress
        img = to_uint8(ev.image)[0]
        self._last_event = ev
        self._updates += 1
        self._result_ws = np.asarray(ev.ws, np.float32)
        self._show_image(img)
        self.compare.set_result(img)
        if frame.replay is not None:
            self.progress.setValue(min(ev.step, self.progress.maximum()))
            self._frames = list(frame.replay.frames)
            self._frame_ws = [w[None] for w in frame.replay.ws]
            self._frames[-1], self._frame_ws[-1] = img, self._result_ws
            self._finish_view(ev)
        elif time.perf_counter() - self._text_at >= TEXT_EVERY_S:
            self._text_at = time.perf_counter()
            self.progress.setValue(min(ev.step, self.progress.maximum()))
            self.status.setText(f"Projection: step {ev.step}/{ev.steps}  {self._psnr_text()}  ({ev.elapsed:.1f} s)")

    def _psnr_text(self) -> str:
        return self.compare.psnr_label.text()

    def cancel(self) -> None:
        self._cancel.set()

    def _begin(self, kind: str, steps: int) -> None:
        self._forget_result()
        self._kind = kind
        self._cancel = threading.Event()
        self._updates = 0
        self._text_at = 0.0
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self.status.setText(f"{kind}: starting…")
        self._update_enabled(running=True)

    def _finish_view(self, ev) -> None:
        n = len(self._frames)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(n - 1)
        self.slider.blockSignals(False)
        self._result_ws = np.asarray(ev.best_ws if isinstance(ev, EditProgress) else ev.ws, np.float32)
        self._show_image(self._frames[-1])
        word = "stopped" if ev.cancelled else "done"
        extra = f"cost {ev.best_loss:.4f}" if isinstance(ev, EditProgress) else self._psnr_text()
        self.status.setText(f"{self._kind} {word} after {ev.step} steps, {extra}, {ev.elapsed:.1f} s "
                            f"({self._updates / max(ev.elapsed, 1e-6):.0f} updates shown/s). Accept or Discard.")

    def _end(self, error: str | None) -> None:
        self._job = None
        self._proj_outbox = None
        if error:
            self.status.setText(f"{self._kind} failed: {error}")
            self.ctx.status(f"{self._kind} failed: {error}", 10000)
            self._forget_result()
        self._update_enabled()
        self.runFinished.emit()

    def _fill_strip(self, ev: EditProgress) -> None:
        self.strip.setUpdatesEnabled(False)      # one repaint for the whole strip
        self.strip.clear()
        imgs = to_uint8(ev.top_images)
        for i, (img, loss) in enumerate(zip(imgs, ev.top_loss)):
            item = QListWidgetItem(QIcon(QPixmap.fromImage(to_qimage(img))), f"{loss:.3f}")
            item.setData(DATA, i)
            item.setToolTip(f"candidate {i + 1}: cost {loss:.4f}")
            self.strip.addItem(item)
        self.strip.setUpdatesEnabled(True)
        self._strip_ws = ev.top_ws
        self._strip_imgs = imgs

    def choose_candidate(self, i) -> None:
        """Use the i-th candidate of the strip as the result."""
        if self.running() or getattr(self, "_strip_ws", None) is None:
            return
        i = int(i)
        self._result_ws = np.asarray(self._strip_ws[i:i + 1], np.float32)
        self._show_image(self._strip_imgs[i])

    def _show_frame(self, i: int) -> None:
        if 0 <= i < len(self._frames) and not self.running():
            self._result_ws = self._frame_ws[i]
            self._show_image(self._frames[i])

    def _show_image(self, img: np.ndarray) -> None:
        self.preview.setImage(img, autoLevels=False, levels=(0, 255))
        self.preview.setRect(0, 0, img.shape[1], img.shape[0])
        self._set_preview(True)

    def _set_preview(self, on: bool) -> None:
        """The preview covers the view's own image exactly: while it shows, that image is not
        painted underneath (one enlarged image less to draw per live frame)."""
        self.preview.setVisible(on)
        self.ctx.image_view.image_item.setVisible(not on)

    def has_result(self) -> bool:
        return self._result_ws is not None and not self.running()

    def result_ws(self) -> np.ndarray | None:
        return None if self._result_ws is None else self._result_ws.copy()

    def accept_result(self) -> None:
        """The chosen image becomes the current latent: one undo step."""
        if not self.has_result():
            return
        ws, kind = self._result_ws, self._kind or "Edit"
        self._forget_result()
        if kind == "Edit":
            self.doc.clear()
            self._redraw()
        self.ctx.set_ws(ws, kind)
        self.status.setText(f"{kind} accepted (Undo takes it back).")
        self._update_enabled()
        self.accepted.emit()

    def discard_result(self) -> None:
        self._forget_result()
        self.status.setText("Result discarded.")
        self._update_enabled()

    def _forget_result(self) -> None:
        self._result_ws = None
        self._last_event = None
        self._frames, self._frame_ws = [], []
        self._strip_ws = self._strip_imgs = None
        self.strip.clear()
        self._set_preview(False)
        self.compare.hide()
        self.strip.show()
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)

    # ================================================================== animation
    def animation_frames(self, max_frames: int = 48, hold: int = 8) -> np.ndarray:
        """[T, H, W, 3] uint8: the recorded start -> result, result held `hold` frames."""
        if not self._frames:
            raise ValueError("nothing recorded yet: run an edit or a projection first")
        idx = np.unique(np.linspace(0, len(self._frames) - 1, min(max_frames, len(self._frames))).round().astype(int))
        frames = [self._frames[i] for i in idx] + [self._frames[-1]] * hold
        return np.stack(frames)

    def save_animation_dialog(self) -> None:
        if not self._frames:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save animation", "edit.gif", "GIF (*.gif);;MP4 (*.mp4)")
        if path:
            self.save_animation(path)

    def save_animation(self, path: str) -> None:
        from ...export.animation import save_animation
        frames = self.animation_frames()
        self.ctx.jobs.start(save_animation, frames, path, 12.0, name="save animation",
                               on_done=lambda p: self.ctx.status(f"Saved {p}", 5000),
                               on_error=lambda m: self.ctx.error_box("Could not save the animation", m))

    # ================================================================== drop an image
    def dragEnterEvent(self, ev) -> None:
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if urls and Path(urls[0].toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev) -> None:
        urls = ev.mimeData().urls()
        if urls:
            ev.acceptProposedAction()
            self.start_projection(urls[0].toLocalFile())

    # ================================================================== state
    def _update_enabled(self, running: bool | None = None) -> None:
        running = self.running() if running is None else running
        have = self.ctx.current_model() is not None
        self.run_btn.setEnabled(have and not running and not self.doc.is_empty())
        self.cancel_btn.setEnabled(running)
        self.project_btn.setEnabled(have and not running)
        done = self._result_ws is not None and not running
        self.accept_btn.setEnabled(done)
        self.discard_btn.setEnabled(done)
        self.anim_btn.setEnabled(bool(self._frames) and not running)
        self.slider.setEnabled(done)
        self.undo_btn.setEnabled(bool(self.doc.strokes))
        self.clear_btn.setEnabled(bool(self.doc.strokes))

    def hideEvent(self, ev) -> None:   # leaving the tab: brushes and preview off the view
        self.overlay.set_active(False)
        self.overlay.hide()
        self._set_preview(False)
        super().hideEvent(ev)

    def showEvent(self, ev) -> None:
        self.overlay.set_active(self._tool != "pan")
        self.overlay.setVisible(self.show_box.isChecked())
        if self._result_ws is not None:
            self._set_preview(True)
        super().showEvent(ev)


def _end_session(alive: dict) -> None:
    if alive["job"] is not None:
        alive["job"].cancel()
    if alive["inbox"] is not None:
        alive["inbox"].close()


def _scaled(d: dict, sx: float, sy: float) -> dict:
    """A strokes dict with every coordinate scaled (loading strokes drawn at another size)."""
    out = dict(d)
    out["canvas"] = [round(d["canvas"][0] * sx), round(d["canvas"][1] * sy)]
    strokes = []
    for s in d["strokes"]:
        s = dict(s)
        if "points" in s:
            s["points"] = [[x * sx, y * sy] for x, y in s["points"]]
        if "width" in s:
            s["width"] = s["width"] * (sx + sy) / 2
        if "rect" in s:
            x, y, w, h = s["rect"]
            s["rect"] = [x * sx, y * sy, w * sx, h * sy]
            s["offset"] = [s["offset"][0] * sx, s["offset"][1] * sy]
        strokes.append(s)
    out["strokes"] = strokes
    return out
