"""Drag: DragGAN point editing (Pan et al. 2023) on StyleGAN2 and StyleGAN3 models.

On the image: click a handle point, then the point it should move to (its target); several
pairs at once; right-click a point to remove its pair. Optionally paint a mask of the region
that may move. Start runs `latent.drag.drag_steps` on a worker (a Job on the model's private
copy); every optimisation step is one frame. Frames reach the GUI through a one-slot mailbox
(newest wins: a slow screen skips frames, it never queues them) and are laid over the image
with the tracked handles moving. Stop, or every handle reaching its target, or the step
limit, ends the drag; its final latent becomes the current one as ONE undo step ("Drag"),
so Undo gives back the image from before; another latent arriving meanwhile (a seed, an
undo) stops the drag and keeps that latent. With Record on, "Save recording…" writes the
drag as GIF or MP4 (points drawn) and a JSON of the handle track beside it.

The settings (step size, r1, r2, steps, w / w+, layers, λ) are the view's sub-state
(views.drag.DragState: saved with the session, a change is an undo step); the points and
the mask are gestures kept here, like the Edit panel's strokes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout)

from ...export.images import to_uint8
from ...latent.drag import PAPER_N_WS, DragConfig, drag_steps, feature_layer, tracking_radius
from ...latent.drag_record import DragRecording
from ...models.loaded import LoadedModel
from ...render.mailbox import Mailbox
from ...session.state import SessionState
from ...views import View
from ...views.drag import DragState, save_recording
from ..context import PanelContext
from ..widgets.drag_overlay import DragOverlay
from ..widgets.tool_row import tool_row
from .base import Panel

TOOLS = ("points", "mask", "pan")
PICK_PX = 3.0          # a right click this close (image pixels) to a point removes its pair
UNAVAILABLE = ("Drag editing needs a StyleGAN2 or StyleGAN3 model: it optimises the per-layer styles w "
               "through the synthesis network's feature maps, and a {kind} has neither.")


@dataclass
class DragFrame:
    """One optimisation step as the GUI shows it (made on the worker)."""
    step: int
    steps: int
    image: np.ndarray          # [H, W, 3] uint8
    handles: np.ndarray        # [n, 2] (x, y) tracked
    distances: np.ndarray      # [n] px to the targets
    elapsed: float
    done: bool
    reached: bool


@dataclass
class DragOutcome:
    """What the worker returns when the drag ends."""
    ws: np.ndarray             # [1, num_ws, w_dim] the final latent
    handles: np.ndarray        # [n, 2] where the handles ended
    steps: int
    reached: bool
    cancelled: bool
    elapsed: float
    recording: DragRecording | None


def drag_worker(G, ws, handles, targets, mask, cfg: DragConfig, stop: threading.Event,
                box: Mailbox, wake: threading.Event, record: bool):
    """Worker: run the drag; each step's frame replaces the previous one in `box`, and a
    progress event (None) is yielded only when the GUI has taken the last one (`wake`
    clear), so at most two wake-ups are ever in flight, whatever the step rate."""
    rec = DragRecording(ws, handles, targets) if record else None
    last = None
    for st in drag_steps(G, ws, handles, targets, mask, cfg, stop):
        if rec is not None:
            rec.add(st.step, st.ws, st.handles)
        box.put(DragFrame(st.step, st.steps, to_uint8(st.image)[0], st.handles, st.distances,
                          st.elapsed, st.done, st.reached))
        last = st
        if not wake.is_set():
            wake.set()
            yield None
    return DragOutcome(last.ws, last.handles, last.step, last.reached, last.cancelled, last.elapsed, rec)


def paint_segment(mask: np.ndarray, x0: float, y0: float, x1: float, y1: float, radius: float) -> None:
    """Set mask to 1 within `radius` pixels of the segment (x0, y0)-(x1, y1) (pixel centres
    at integers), in place."""
    H, W = mask.shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    dx, dy = x1 - x0, y1 - y0
    n2 = dx * dx + dy * dy
    t = np.zeros_like(xx) if n2 < 1e-12 else np.clip(((xx - x0) * dx + (yy - y0) * dy) / n2, 0, 1)
    d2 = (xx - (x0 + t * dx)) ** 2 + (yy - (y0 + t * dy)) ** 2
    mask[d2 <= radius * radius] = 1.0


class DragPanel(Panel):
    view = View.DRAG
    title = "Drag"
    shortcut = "Ctrl+7"

    frameShown = Signal(int)       # the step of each frame put on screen
    runFinished = Signal()         # a drag ended (applied, dropped or failed)
    recordingSaved = Signal(str)   # what Save recording wrote

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self.handles: list[tuple[float, float]] = []
        self.targets: list[tuple[float, float]] = []
        self.pending: tuple[float, float] | None = None     # a handle waiting for its target
        self.mask: np.ndarray | None = None                 # [R, R] 1: may move
        self._R = 64
        self._tool = "points"
        self._job = None
        self._stop = threading.Event()
        self._box: Mailbox = Mailbox()
        self._wake = threading.Event()
        self._ws_start: np.ndarray | None = None
        self._starts: list[tuple[float, float]] = []
        self.frames_shown = 0
        self.last_frame: DragFrame | None = None
        self.recording: DragRecording | None = None
        self._rec_meta: dict = {}
        self._available = False

        # The frames are laid over the image view; the overlay draws points and the mask.
        self.preview = pg.ImageItem(axisOrder="row-major")
        self.preview.setZValue(11)
        self.preview.hide()
        self.overlay = DragOverlay()
        self.overlay.hide()
        vb = ctx.image_view.view_box
        vb.addItem(self.preview)
        vb.addItem(self.overlay)
        self.overlay.clicked.connect(self.add_point)
        self.overlay.removeRequested.connect(self.remove_near)
        self.overlay.painted.connect(self._paint)

        lay = QVBoxLayout(self)      # the panel tabs put every panel in a scroll area

        self.unavailable = QLabel()
        self.unavailable.setWordWrap(True)
        self.unavailable.setStyleSheet("QLabel { padding: 6px; background: rgba(200, 150, 40, 60); }")
        self.unavailable.hide()
        lay.addWidget(self.unavailable)

        # -------------------------------------------------------------- points and mask
        pts = QGroupBox("Points")
        pl = QVBoxLayout(pts)
        self.tool_group, self.tool_buttons, row = tool_row(self, {
            "points": ("Points", "Click a handle point, then its target; right-click a point to remove its pair"),
            "mask": ("Mask brush", "Paint the region that may move (the rest is kept)"),
            "pan": ("Pan", "Pan and zoom the view")}, self.set_tool)
        pl.addLayout(row)
        self.points_label = QLabel()
        self.points_label.setWordWrap(True)
        pl.addWidget(self.points_label)
        prow = QHBoxLayout()
        self.undo_point_btn = QPushButton("Remove last")
        self.undo_point_btn.setToolTip("Remove the last point placed")
        self.undo_point_btn.clicked.connect(self.remove_last)
        self.clear_points_btn = QPushButton("Clear points")
        self.clear_points_btn.setToolTip("Remove every handle and target")
        self.clear_points_btn.clicked.connect(self.clear_points)
        prow.addWidget(self.undo_point_btn)
        prow.addWidget(self.clear_points_btn)
        pl.addLayout(prow)
        mrow = QHBoxLayout()
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(1, 512)
        self.brush_spin.setValue(4)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Mask brush radius in image pixels")
        self.clear_mask_btn = QPushButton("Clear mask")
        self.clear_mask_btn.setToolTip("No mask: every part of the image may move")
        self.clear_mask_btn.clicked.connect(self.clear_mask)
        self.show_mask_box = QCheckBox("Show mask")
        self.show_mask_box.setChecked(True)
        self.show_mask_box.setToolTip("Show the painted region (green) over the image")
        self.show_mask_box.toggled.connect(lambda _on: self._redraw())
        mrow.addWidget(QLabel("Brush"))
        mrow.addWidget(self.brush_spin)
        mrow.addWidget(self.clear_mask_btn)
        mrow.addWidget(self.show_mask_box)
        pl.addLayout(mrow)
        lay.addWidget(pts)

        # -------------------------------------------------------------- optimisation
        opt = QGroupBox("Optimisation")
        of = QFormLayout(opt)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(4)
        self.lr_spin.setRange(0.0001, 1.0)
        self.lr_spin.setSingleStep(0.0005)
        self.lr_spin.setValue(DragState.lr)
        self.lr_spin.setToolTip(f"Adam step size on the latent (the paper's: {DragState.lr:g})")
        of.addRow("Step size", self.lr_spin)
        self.r1_spin = QDoubleSpinBox()
        self.r1_spin.setDecimals(1)
        self.r1_spin.setRange(0, 64)
        self.r1_spin.setValue(DragConfig.r1)
        self.r1_spin.setSuffix(" px")
        self.r1_spin.setToolTip("r1: radius of the patch around each handle that motion supervision moves")
        of.addRow("Motion radius r1", self.r1_spin)
        self.r2_spin = QSpinBox()
        self.r2_spin.setRange(0, 128)
        self.r2_spin.setValue(0)
        self.r2_spin.setSpecialValueText("auto")
        self.r2_spin.setSuffix(" px")
        self.r2_spin.setToolTip("r2: half-size of the window point tracking searches (auto: 12 px, "
                                "or image size / 16 below 192 px)")
        of.addRow("Tracking radius r2", self.r2_spin)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 10000)
        self.steps_spin.setValue(DragConfig.steps)
        self.steps_spin.setToolTip("Stop after this many steps if the handles have not arrived")
        of.addRow("Steps at most", self.steps_spin)
        self.space_box = QComboBox()
        self.space_box.addItem("w+ (first layers)", "w+")
        self.space_box.addItem("w (one for all layers)", "w")
        self.space_box.setToolTip("w+: optimise the styles of the first layers only, the finer layers keep "
                                  "the appearance (the paper's choice); w: one offset for every layer")
        self.space_box.currentIndexChanged.connect(lambda _i: self._update_enabled())
        of.addRow("Latent", self.space_box)
        self.nws_spin = QSpinBox()
        self.nws_spin.setRange(1, 64)
        self.nws_spin.setValue(PAPER_N_WS)
        self.nws_spin.setToolTip(f"w+: how many of the first ws rows move (the paper: {PAPER_N_WS})")
        of.addRow("Layers (w+)", self.nws_spin)
        self.lam_spin = QDoubleSpinBox()
        self.lam_spin.setRange(0, 1000)
        self.lam_spin.setDecimals(1)
        self.lam_spin.setValue(DragConfig.lambda_mask)
        self.lam_spin.setToolTip("λ: how strongly the region outside the mask keeps its features (paper: 20)")
        of.addRow("Mask weight λ", self.lam_spin)
        brow = QHBoxLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.setToolTip("Drag the handles toward their targets (one frame per step)")
        self.start_btn.clicked.connect(self.start)
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Stop here; the image so far becomes the current one (one undo step)")
        self.stop_btn.clicked.connect(self.stop)
        brow.addWidget(self.start_btn)
        brow.addWidget(self.stop_btn)
        of.addRow(brow)
        self.progress = QProgressBar()
        of.addRow(self.progress)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(3 * self.status.fontMetrics().height())
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        of.addRow(self.status)
        lay.addWidget(opt)

        # -------------------------------------------------------------- recording
        rec = QGroupBox("Recording")
        rl = QHBoxLayout(rec)
        self.record_box = QCheckBox("Record")
        self.record_box.setToolTip("Keep the drag's steps to save them as an animation")
        self.markers_box = QCheckBox("Draw points")
        self.markers_box.setChecked(True)
        self.markers_box.setToolTip("Draw the handles, targets and arrows in the animation")
        self.save_btn = QPushButton("Save recording…")
        self.save_btn.setToolTip("Write the last recorded drag as GIF or MP4, with its track as JSON beside it")
        self.save_btn.clicked.connect(self.save_recording_dialog)
        rl.addWidget(self.record_box)
        rl.addWidget(self.markers_box)
        rl.addWidget(self.save_btn)
        lay.addWidget(rec)
        lay.addStretch(1)

        # The settings are this view's sub-state (saved with the session; a change is an undo step).
        for w, field, label in ((self.lr_spin, "lr", "drag step size {:g}"), (self.r1_spin, "r1", "drag r1 {:g}"),
                                (self.r2_spin, "r2", "drag r2 {}"), (self.steps_spin, "steps", "drag {} steps"),
                                (self.nws_spin, "n_ws", "drag {} layers"),
                                (self.lam_spin, "lambda_mask", "drag mask weight {:g}")):
            w.valueChanged.connect(lambda v, f=field, lab=label: self.change_sub(lab.format(v), None, **{f: v}))
        self.space_box.currentIndexChanged.connect(
            lambda _i: self.change_sub(f"drag in {self.space_box.currentData()}", None,
                                       space=self.space_box.currentData()))
        self.tool_buttons["points"].setChecked(True)
        ctx.latentChanged.connect(self._latent_changed)
        self._update_points_label()
        self.on_model(ctx.current_model())

    # ================================================================== points and mask
    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        self._tool = name
        if not self.tool_buttons[name].isChecked():
            self.tool_buttons[name].setChecked(True)
        if self.isVisible():
            self.overlay.set_mode(self._mode())

    def tool(self) -> str:
        return self._tool

    def _mode(self) -> str:
        if not self._available or self._job is not None:
            return "off"
        return {"points": "points", "mask": "mask"}.get(self._tool, "off")

    def add_point(self, x: float, y: float) -> None:
        """A click in image pixels: a handle, or the target of the waiting handle. Points snap
        to the centre of the pixel clicked (what the user sees)."""
        if self._job is not None or not self._available:
            return
        x, y = float(np.clip(round(x), 0, self._R - 1)), float(np.clip(round(y), 0, self._R - 1))
        if self.pending is None:
            self.pending = (x, y)
        else:
            self.handles.append(self.pending)
            self.targets.append((x, y))
            self.pending = None
        self._starts = []
        self._points_changed()

    def remove_near(self, x: float, y: float) -> None:
        """Remove the pair with a handle or target within PICK_PX of (x, y) (or the waiting handle)."""
        if self._job is not None:
            return
        if self.pending is not None and np.hypot(self.pending[0] - x, self.pending[1] - y) <= PICK_PX:
            self.pending = None
        else:
            best, best_d = None, PICK_PX
            for i, (h, t) in enumerate(zip(self.handles, self.targets)):
                d = min(np.hypot(h[0] - x, h[1] - y), np.hypot(t[0] - x, t[1] - y))
                if d <= best_d:
                    best, best_d = i, d
            if best is None:
                return
            del self.handles[best], self.targets[best]
        self._starts = []
        self._points_changed()

    def remove_last(self) -> None:
        if self._job is not None:
            return
        if self.pending is not None:
            self.pending = None
        elif self.handles:
            self.handles.pop()
            self.targets.pop()
        self._starts = []
        self._points_changed()

    def clear_points(self) -> None:
        if self._job is not None:
            return
        self.handles, self.targets, self.pending, self._starts = [], [], None, []
        self._points_changed()

    def _paint(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self._job is not None or not self._available:
            return
        if self.mask is None:
            self.mask = np.zeros((self._R, self._R), np.float32)
        paint_segment(self.mask, x0, y0, x1, y1, float(self.brush_spin.value()))
        self._redraw()
        self._update_enabled()

    def clear_mask(self) -> None:
        if self._job is not None:
            return
        self.mask = None
        self._redraw()
        self._update_enabled()

    def _points_changed(self) -> None:
        self._redraw()
        self._update_points_label()
        self._update_enabled()

    def _update_points_label(self) -> None:
        n = len(self.handles)
        if self.pending is not None:
            text = f"{n} pair{'s' * (n != 1)}; now click where the new handle should go."
        elif n:
            text = f"{n} pair{'s' * (n != 1)}. Click another handle, or Start."
        else:
            text = "Click a handle point on the image, then the point it should move to."
        self.points_label.setText(text)

    def _redraw(self, handles=None) -> None:
        shown = self.handles if handles is None else [tuple(p) for p in handles]
        self.overlay.set_points(shown, self.targets, self.pending, self._starts)
        self.overlay.set_mask(self.mask if self.show_mask_box.isChecked() else None)

    # ================================================================== model and latent
    def on_model(self, model: LoadedModel | None) -> None:
        if self._job is not None:
            self.stop()
        self._forget_run()
        if model is None:
            self._available = False
            self.unavailable.setText("Open a StyleGAN2 or StyleGAN3 model to drag points on its images.")
            self.unavailable.show()
        else:
            G = model.G
            self._available = bool(G.has_styles)
            self._R = int(G.img_resolution)
            self.overlay.set_size(self._R)
            self.handles, self.targets, self.pending, self._starts, self.mask = [], [], None, [], None
            self.brush_spin.setValue(max(2, self._R // 16))
            self.nws_spin.setRange(1, max(G.num_ws, PAPER_N_WS))   # more than num_ws: all of them
            kind = {"dcgan": "DCGAN"}.get(G.kind, G.kind)
            self.unavailable.setText(UNAVAILABLE.format(kind=kind))
            self.unavailable.setVisible(not self._available)
            self.status.setText("Place handle and target points, then Start." if self._available else "")
        self._redraw()
        self._update_points_label()
        self._update_enabled()

    def _latent_changed(self) -> None:
        if self._job is None:
            self.preview.hide()     # the new latent's render is on screen now
        elif not np.array_equal(self.ctx.current_ws(), self._ws_start):
            self.stop()             # another latent came (seed, undo): the drag's start is gone

    # ================================================================== running
    def running(self) -> bool:
        return self._job is not None

    def sync(self, state: SessionState) -> None:
        sub: DragState = state.sub(self.view)
        self.lr_spin.setValue(sub.lr)
        self.r1_spin.setValue(sub.r1)
        self.r2_spin.setValue(sub.r2)
        self.steps_spin.setValue(sub.steps)
        self.nws_spin.setValue(sub.n_ws)
        self.lam_spin.setValue(sub.lambda_mask)
        i = self.space_box.findData(sub.space)
        self.space_box.setCurrentIndex(max(i, 0))
        self._update_enabled()

    def config(self) -> DragConfig:
        """The drag settings of the state on screen (ValueError naming what is out of range)."""
        sub: DragState = self.sub
        return sub.config(self.ctx.state.noise_mode)

    def start(self) -> None:
        """Drag the current latent's handles toward their targets on a worker."""
        model, ws = self.ctx.current_model(), self.ctx.current_ws()
        if self._job is not None or model is None or ws is None:
            return
        if not self._available:
            self.status.setText(self.unavailable.text())
            return
        if not self.handles:
            self.status.setText("Place at least one handle and its target first.")
            return
        s = self.ctx.state
        if tuple(s.translate) != (0.0, 0.0) or s.rotate != 0.0:
            self.status.setText("Set translate and rotate back to 0 in the Sample panel first: the drag "
                                "works on the untransformed image.")
            return
        try:
            cfg = self.config()
        except ValueError as e:
            self.status.setText(str(e))
            return
        mask = None if self.mask is None else self.mask.copy()
        if mask is not None and mask.max() <= 0:
            mask = None
        handles, targets = list(self.handles), list(self.targets)
        self._forget_run()
        self._stop, self._box, self._wake = threading.Event(), Mailbox(), threading.Event()
        self._ws_start = ws
        self._starts = handles
        self.frames_shown = 0
        self.last_frame = None
        self._rec_meta = {"checkpoint": model.path.name, "checkpoint_sha256": model.sha256,
                          "seed": s.seed if s.base_ws is None and not s.edits else None, "psi": s.psi,
                          "handles": [list(p) for p in handles], "targets": [list(p) for p in targets],
                          "lr": cfg.lr, "r1": cfg.r1, "r2": tracking_radius(cfg, self._R),
                          "space": cfg.space, "n_ws": cfg.n_ws, "layer": feature_layer(model.G),
                          "lambda_mask": cfg.lambda_mask if mask is not None else 0.0,
                          "noise_mode": cfg.noise_mode}
        self.progress.setRange(0, cfg.steps)
        self.progress.setValue(0)
        self.status.setText("Drag: starting…")
        stop, box, wake, record = self._stop, self._box, self._wake, self.record_box.isChecked()
        self._job = self.ctx.jobs.start_on_model(
            model, lambda m: drag_worker(m.G, ws, handles, targets, mask, cfg, stop, box, wake, record),
            name="drag", on_progress=self._on_wake, on_done=self._finished, on_error=self._failed)
        self.overlay.set_mode("off")
        self._update_enabled()

    def stop(self) -> None:
        """End the drag after the step in progress (its result is applied)."""
        self._stop.set()

    def _on_wake(self, _event) -> None:
        self._wake.clear()          # before taking: a frame put after this wakes us again
        frame = self._box.take(timeout=0)
        if frame is not None:
            self._show(frame)

    def _show(self, f: DragFrame) -> None:
        self.last_frame = f
        self.frames_shown += 1
        self.preview.setImage(f.image, autoLevels=False, levels=(0, 255))
        self.preview.setRect(0, 0, f.image.shape[1], f.image.shape[0])
        if self.isVisible():
            self.preview.show()
        self._redraw(f.handles)
        self.progress.setValue(min(f.step, self.progress.maximum()))
        self.status.setText(f"Drag: step {f.step}/{f.steps}, distance to the targets "
                            + ", ".join(f"{d:.1f}" for d in f.distances)
                            + f" px ({f.step / max(f.elapsed, 1e-6):.1f} steps/s)")
        self.frameShown.emit(f.step)

    def _finished(self, out: DragOutcome) -> None:
        self._job = None
        frame = self._box.take(timeout=0)    # the last step, if the GUI had not taken it yet
        ws_now = self.ctx.current_ws()
        if ws_now is None or self._ws_start is None or not np.array_equal(ws_now, self._ws_start):
            # another seed, an undo or another model arrived meanwhile: that one stays
            self.status.setText("The latent changed during the drag, so its result was dropped.")
            self.preview.hide()
            self._starts = []
        else:
            if frame is not None:
                self._show(frame)
            # DragGAN's way: the handles stay where tracking put them, so Start drags on.
            self.handles = [tuple(map(float, p)) for p in out.handles]
            self.recording = out.recording
            why = ("the handles reached their targets" if out.reached else
                   "stopped" if out.cancelled else "the step limit")
            dist = np.linalg.norm(np.asarray(self.targets) - out.handles, axis=1)
            self.status.setText(f"Drag done after {out.steps} steps, {out.elapsed:.1f} s ({why}); distance "
                                + ", ".join(f"{d:.1f}" for d in dist) + " px. Undo takes it back.")
            self.ctx.set_ws(out.ws, "Drag")
        self._redraw()
        self.overlay.set_mode(self._mode() if self.isVisible() else "off")
        self._update_enabled()
        self.runFinished.emit()

    def _failed(self, message: str) -> None:
        self._job = None
        self.preview.hide()
        self._starts = []
        self.status.setText(f"Drag failed: {message}")
        self.ctx.status(f"Drag failed: {message}", 10000)
        self._redraw()
        self.overlay.set_mode(self._mode() if self.isVisible() else "off")
        self._update_enabled()
        self.runFinished.emit()

    def _forget_run(self) -> None:
        self.recording = None
        self.preview.hide()

    # ================================================================== recording
    def save_recording_dialog(self) -> None:
        if self.recording is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save recording", "drag.gif", "GIF (*.gif);;MP4 (*.mp4)")
        if path:
            self.save_recording(path)

    def save_recording(self, path: str) -> None:
        """Write the last recorded drag to `path` (.gif or .mp4) in the background."""
        model = self.ctx.current_model()
        if self.recording is None or model is None:
            self.ctx.error_box("Nothing recorded", "Tick Record, then run a drag first.")
            return
        if Path(path).suffix.lower() not in (".gif", ".mp4"):
            self.ctx.error_box("Could not save the recording", f"{Path(path).name}: save it as .gif or .mp4.")
            return
        rec, meta, markers = self.recording, dict(self._rec_meta), self.markers_box.isChecked()
        noise = meta.get("noise_mode", "const")
        self.ctx.jobs.start_on_model(
            model, lambda m: save_recording(m.G, rec, path, noise, markers, meta), name="save recording",
            on_done=self._saved, on_error=lambda msg: self.ctx.error_box("Could not save the recording", msg))

    def _saved(self, what: str) -> None:
        self.ctx.status(f"Saved {what}", 5000)
        self.recordingSaved.emit(what)

    # ================================================================== state
    def _update_enabled(self) -> None:
        running = self._job is not None
        ok = self._available and not running
        self.start_btn.setEnabled(ok and bool(self.handles))
        self.stop_btn.setEnabled(running)
        for w in (*self.tool_buttons.values(), self.undo_point_btn, self.clear_points_btn, self.brush_spin,
                  self.lr_spin, self.r1_spin, self.r2_spin, self.steps_spin, self.space_box, self.lam_spin,
                  self.record_box, self.markers_box):
            w.setEnabled(ok)
        self.undo_point_btn.setEnabled(ok and (bool(self.handles) or self.pending is not None))
        self.clear_points_btn.setEnabled(ok and (bool(self.handles) or self.pending is not None))
        self.clear_mask_btn.setEnabled(ok and self.mask is not None)
        self.nws_spin.setEnabled(ok and self.space_box.currentData() == "w+")
        self.save_btn.setEnabled(not running and self.recording is not None)

    def hideEvent(self, ev) -> None:     # leaving the tab: points, mask and frames off the view
        self.overlay.set_mode("off")
        self.overlay.hide()
        self.preview.hide()
        super().hideEvent(ev)

    def showEvent(self, ev) -> None:
        self.overlay.show()
        self.overlay.set_mode(self._mode())
        if self._job is not None and self.last_frame is not None:
            self.preview.show()
        super().showEvent(ev)
