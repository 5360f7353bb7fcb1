"""Edit: iGAN-style brushes over the image, and projection of real images.

Tools (drawn over the main image view, on the model's pixel grid):
  Pan      the view pans and zooms as usual
  Colour   paint a colour the region should take (colour picker, width)
  Sketch   draw where an edge should run
  Warp     drag a box around a region, then drag the box to where it should move
  Eraser   remove colour and sketch constraints under it

"Optimise" runs `latent.edit.edit_latent` on a worker thread (a Job: progress reaches
this panel only through queued signals). While it runs the best candidate is laid over
the image live and the strip shows the top candidates; afterwards the slider walks from
the start to the result along the optimisation. "Accept" makes the chosen image the
current latent — one undo step named "Edit" (or "Projection"). "Project image…" (or an
image dropped on this panel) runs `latent.project.project` the same way. "Save
animation…" writes the recorded start -> result frames as GIF or MP4.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QColorDialog, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QListWidgetItem,
                               QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from ...export.images import to_uint8
from ...latent.edit import EditConfig, EditProgress, Recording, edit_latent, warm_up
from ...latent.project import ProjectConfig, load_target, project
from ...latent.strokes import (ColorStroke, EraserStroke, SketchStroke, StrokeDocument, StrokesError,
                               WarpStroke, rasterize)
from ...models.loaded import LoadedModel
from ...render.synth import synthesize
from ..widgets.common import to_qimage
from ..widgets.edit_overlay import StrokeOverlay
from ..widgets.thumbs import DATA, ThumbList
from ..context import PanelContext
from .base import Panel

TOOLS = ("pan", "color", "sketch", "warp", "eraser")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
MAX_FRAMES = 240   # recorded frames kept for the slider and the animation


@dataclass
class Replay:
    """The winner's path start -> result, rendered on the worker after an edit ends."""
    ws: np.ndarray        # [T, num_ws, w_dim]
    frames: np.ndarray    # [T, H, W, 3] uint8


def edit_and_replay(G, ws, cons, cfg, D, cancel):
    """Worker: the edit's progress events, then a Replay of the winning candidate's path
    (what the start -> result slider and the animation show)."""
    rec = Recording([ws])
    for ev in edit_latent(G, ws, cons, cfg, D, cancel):
        rec.add(ev)
        yield ev
    path = rec.frames_ws(max_frames=MAX_FRAMES, hold=0)
    yield Replay(path, to_uint8(synthesize(G, path)))


class EditPanel(Panel):
    view = "sample"
    title = "Edit"
    shortcut = "Ctrl+7"

    runFinished = Signal()          # an optimisation or projection ended (result or cancel)
    accepted = Signal()             # the result became the current latent

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self.setAcceptDrops(True)
        self.doc = StrokeDocument((64, 64))
        self._tool = "pan"
        self._color = QColor(220, 30, 30)
        self._drawing = None            # the stroke being drawn, or None
        self._warp_rect = None          # (x, y, w, h) chosen by the first warp drag
        self._warp_drag = None          # (x, y) where the second warp drag started
        self._job = None
        self._cancel = threading.Event()
        self._kind = ""                 # 'Edit' | 'Projection' while a run is shown
        self._frames: list[np.ndarray] = []      # [H, W, 3] uint8 per recorded step
        self._frame_ws: list[np.ndarray] = []    # [1, num_ws, w_dim] per recorded step
        self._result_ws: np.ndarray | None = None
        self._last_event = None
        self._updates = 0

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
        row = QHBoxLayout()
        self.tool_group = QButtonGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_buttons: dict[str, QToolButton] = {}
        tips = {"pan": "Pan and zoom the view (no drawing)",
                "color": "Colour brush: paint the colour this region should take",
                "sketch": "Sketch brush: draw where an edge or outline should run",
                "warp": "Warp: drag a box around a region, then drag the box where it should go",
                "eraser": "Eraser: remove colour and sketch strokes under it"}
        for name, text in zip(TOOLS, ("Pan", "Colour", "Sketch", "Warp", "Eraser")):
            b = QToolButton()
            b.setText(text)
            b.setCheckable(True)
            b.setToolTip(tips[name])
            self.tool_group.addButton(b)
            self.tool_buttons[name] = b
            b.toggled.connect(lambda on, n=name: on and self.set_tool(n))
            row.addWidget(b)
        tl.addLayout(row)
        form = QFormLayout()
        crow = QHBoxLayout()
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
        form.addRow("Colour", crow)
        tl.addLayout(form)
        row2 = QHBoxLayout()
        self.undo_btn = QPushButton("Undo stroke")
        self.undo_btn.setToolTip("Remove the last stroke")
        self.undo_btn.clicked.connect(self.undo_stroke)
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.setToolTip("Remove all strokes")
        self.clear_btn.clicked.connect(self.clear_strokes)
        self.show_box = QCheckBox("Show strokes")
        self.show_box.setChecked(True)
        self.show_box.setToolTip("Show or hide the strokes drawn over the image")
        self.show_box.toggled.connect(self.overlay.setVisible)
        row2.addWidget(self.undo_btn)
        row2.addWidget(self.clear_btn)
        row2.addWidget(self.show_box)
        tl.addLayout(row2)
        row3 = QHBoxLayout()
        self.save_strokes_btn = QPushButton("Save strokes…")
        self.save_strokes_btn.setToolTip("Save the strokes as JSON (ganexplorer edit --strokes reads it)")
        self.save_strokes_btn.clicked.connect(self.save_strokes_dialog)
        self.load_strokes_btn = QPushButton("Load strokes…")
        self.load_strokes_btn.setToolTip("Load strokes saved before")
        self.load_strokes_btn.clicked.connect(self.load_strokes_dialog)
        row3.addWidget(self.save_strokes_btn)
        row3.addWidget(self.load_strokes_btn)
        tl.addLayout(row3)
        lay.addWidget(tools)

        # -------------------------------------------------------------- optimisation
        opt = QGroupBox("Optimise")
        of = QFormLayout(opt)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 5000)
        self.steps_spin.setValue(EditConfig.steps)
        self.steps_spin.setToolTip("Adam steps at most")
        of.addRow("Steps", self.steps_spin)
        self.cand_spin = QSpinBox()
        self.cand_spin.setRange(1, 64)
        self.cand_spin.setValue(EditConfig.candidates)
        self.cand_spin.setToolTip("K latents optimised together: the current one and K-1 perturbations")
        of.addRow("Candidates", self.cand_spin)
        self.lam_latent = QDoubleSpinBox()
        self.lam_latent.setRange(0, 100)
        self.lam_latent.setDecimals(3)
        self.lam_latent.setSingleStep(0.05)
        self.lam_latent.setValue(EditConfig.lambda_latent)
        self.lam_latent.setToolTip("λ: how strongly the latent stays near the start (iGAN's ‖z − z0‖²)")
        of.addRow("Stay near start", self.lam_latent)
        self.lam_keep = QDoubleSpinBox()
        self.lam_keep.setRange(0, 100)
        self.lam_keep.setDecimals(2)
        self.lam_keep.setSingleStep(0.1)
        self.lam_keep.setValue(EditConfig.lambda_keep)
        self.lam_keep.setToolTip("How strongly the image stays the same where nothing is drawn (0 = iGAN's cost)")
        of.addRow("Keep the rest", self.lam_keep)
        brow = QHBoxLayout()
        self.run_btn = QPushButton("Optimise")
        self.run_btn.setToolTip("Steer the latent so the image follows the strokes (Ctrl+Return)")
        self.run_btn.setShortcut("Ctrl+Return")
        self.run_btn.clicked.connect(self.start_edit)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop; the best result so far is kept for review")
        self.cancel_btn.clicked.connect(self.cancel)
        brow.addWidget(self.run_btn)
        brow.addWidget(self.cancel_btn)
        of.addRow(brow)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        of.addRow(self.progress)
        self.status = QLabel("Draw on the image, then Optimise.")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(3 * self.status.fontMetrics().height())
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        of.addRow(self.status)
        lay.addWidget(opt)

        # -------------------------------------------------------------- result
        res = QGroupBox("Result")
        rl = QVBoxLayout(res)
        self.strip = ThumbList(56, one_row=True, tooltip="The best candidates; click one to choose it")
        self.strip.clickedData.connect(self.choose_candidate)
        rl.addWidget(self.strip)
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
        lay.addWidget(res)

        # -------------------------------------------------------------- projection
        proj = QGroupBox("Projection")
        pl = QHBoxLayout(proj)
        self.project_btn = QPushButton("Project image…")
        self.project_btn.setToolTip("Find the latent whose image looks most like a photo (or drop one here)")
        self.project_btn.clicked.connect(self.project_dialog)
        self.proj_steps = QSpinBox()
        self.proj_steps.setRange(1, 10000)
        self.proj_steps.setValue(ProjectConfig.steps)
        self.proj_steps.setToolTip("Projection steps")
        pl.addWidget(self.project_btn)
        pl.addWidget(QLabel("Steps"))
        pl.addWidget(self.proj_steps)
        lay.addStretch(1)
        outer.addLayout(arow)
        outer.addWidget(proj)

        self.tool_buttons["pan"].setChecked(True)
        self._update_color_button()
        self._update_enabled()
        # (the window calls on_model itself for every panel in its tabs)
        ctx.latentChanged.connect(self._latent_changed)
        model = ctx.current_model()
        if model is not None:
            self.on_model(model)

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
        self._redraw()

    def _release(self, x: float, y: float) -> None:
        st = self._drawing
        if st is None:
            return
        self._move(x, y)
        self._drawing = None
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

    def add_stroke(self, stroke) -> None:
        self.doc.add(stroke)
        self._redraw()
        self._update_enabled()

    def undo_stroke(self) -> None:
        self.doc.undo()
        self._redraw()
        self._update_enabled()

    def clear_strokes(self) -> None:
        self.doc.clear()
        self._warp_rect = self._drawing = None
        self._redraw()
        self._update_enabled()

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

    # ================================================================== model and latent
    def on_model(self, model: LoadedModel | None) -> None:
        if model is None:
            return
        if self._job is not None:
            self.cancel()
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
        if self._job is None and self._result_ws is not None:
            self._forget_result()   # the start moved on (seed, undo, ...): the result is stale
        self._update_enabled()

    # ================================================================== running
    def running(self) -> bool:
        return self._job is not None

    def start_edit(self) -> None:
        """Optimise the current latent toward the strokes on a worker thread."""
        model, ws = self.ctx.current_model(), self.ctx.current_ws()
        if model is None or ws is None or self._job is not None:
            return
        if self.doc.is_empty():
            self.status.setText("Draw a colour, sketch or warp stroke first.")
            return
        cfg = EditConfig(steps=self.steps_spin.value(), candidates=self.cand_spin.value(),
                         lambda_latent=self.lam_latent.value(), lambda_keep=self.lam_keep.value())
        cons = rasterize(self.doc, model.G.img_resolution)
        self._begin("Edit", cfg.steps, ws)
        cancel = self._cancel
        self._job = self.ctx.jobs.start_on_model(
            model, lambda m: edit_and_replay(m.G, ws, cons, cfg, m.D, cancel), D=True,
            name="edit", on_progress=self._on_progress, on_done=lambda _: self._end(None), on_error=self._end)

    def project_dialog(self) -> None:
        exts = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Project an image", "", f"Images ({exts})")
        if path:
            self.start_projection(path)

    def start_projection(self, path: str) -> None:
        """Project the image at `path` (cropped and resized to the model) on a worker thread."""
        model = self.ctx.current_model()
        if model is None or self._job is not None:
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
        self._begin("Projection", cfg.steps, None)
        cancel = self._cancel
        self._job = self.ctx.jobs.start_on_model(
            model, lambda m: project(m.G, target, cfg, m.E, m.D, cancel), D=True, E=True,
            name="projection", on_progress=self._on_progress, on_done=lambda _: self._end(None),
            on_error=self._end)

    def cancel(self) -> None:
        self._cancel.set()

    def _begin(self, kind: str, steps: int, ws_start: np.ndarray | None) -> None:
        self._forget_result()
        self._kind = kind
        self._cancel = threading.Event()
        self._updates = 0
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self.status.setText(f"{kind}: starting…")
        if ws_start is not None:
            img = self.ctx.image_view.image()
            if img is not None:
                self._record(img, ws_start)
        self._update_enabled(running=True)

    def _record(self, img: np.ndarray, ws: np.ndarray) -> None:
        if len(self._frames) >= MAX_FRAMES:   # keep every other frame past the cap
            self._frames, self._frame_ws = self._frames[::2], self._frame_ws[::2]
        self._frames.append(np.ascontiguousarray(img))
        self._frame_ws.append(np.asarray(ws, np.float32).reshape(1, *np.shape(ws)[-2:]))

    def _on_progress(self, ev) -> None:
        if isinstance(ev, Replay):   # after the last event: the slider follows the winner's path
            self._frames = list(ev.frames)
            self._frame_ws = [w[None] for w in ev.ws]
            n = len(self._frames)
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(n - 1, 0))
            self.slider.setValue(n - 1)
            self.slider.blockSignals(False)
            return
        if isinstance(ev, EditProgress):
            ws, img = ev.best_ws, to_uint8(ev.best_image)[0]
            text = f"step {ev.step}/{ev.steps}  cost {ev.best_loss:.4f}  " + "  ".join(
                f"{k} {v:.3f}" for k, v in ev.terms.items() if k != "total")
        else:
            ws, img = ev.ws, to_uint8(ev.image)[0]
            text = f"step {ev.step}/{ev.steps}  PSNR {ev.psnr:.2f} dB"
        self._last_event = ev
        self._updates += 1
        self._record(img, ws)
        self._result_ws = np.asarray(ws, np.float32)
        self.progress.setValue(min(ev.step, self.progress.maximum()))
        self.status.setText(f"{self._kind}: {text}  ({ev.elapsed:.1f} s)")
        self._show_image(img)
        if isinstance(ev, EditProgress) and (ev.done or ev.step % 5 == 0):
            self._fill_strip(ev)
        if ev.done:
            self._finish_view(ev)

    def _finish_view(self, ev) -> None:
        n = len(self._frames)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(n - 1)
        self.slider.blockSignals(False)
        self._result_ws = np.asarray(ev.best_ws if isinstance(ev, EditProgress) else ev.ws, np.float32)
        if isinstance(ev, EditProgress):
            self._frames[-1] = to_uint8(ev.best_image)[0]
            self._frame_ws[-1] = self._result_ws
        self._show_image(self._frames[-1])
        word = "stopped" if ev.cancelled else "done"
        extra = f"cost {ev.best_loss:.4f}" if isinstance(ev, EditProgress) else f"PSNR {ev.psnr:.2f} dB"
        self.status.setText(f"{self._kind} {word} after {ev.step} steps, {extra}, {ev.elapsed:.1f} s "
                            f"({self._updates / max(ev.elapsed, 1e-6):.0f} updates/s). Accept or Discard.")

    def _end(self, error: str | None) -> None:
        self._job = None
        if error:
            self.status.setText(f"{self._kind} failed: {error}")
            self.ctx.status(f"{self._kind} failed: {error}", 10000)
            self._forget_result()
        self._update_enabled()
        self.runFinished.emit()

    def _fill_strip(self, ev: EditProgress) -> None:
        self.strip.clear()
        imgs = to_uint8(ev.top_images)
        for i, (img, loss) in enumerate(zip(imgs, ev.top_loss)):
            item = QListWidgetItem(QIcon(QPixmap.fromImage(to_qimage(img))), f"{loss:.3f}")
            item.setData(DATA, i)
            item.setToolTip(f"candidate {i + 1}: cost {loss:.4f}")
            self.strip.addItem(item)
        self._strip_ws = ev.top_ws
        self._strip_imgs = imgs

    def choose_candidate(self, i) -> None:
        """Use the i-th candidate of the strip as the result."""
        if self._job is not None or getattr(self, "_strip_ws", None) is None:
            return
        i = int(i)
        self._result_ws = np.asarray(self._strip_ws[i:i + 1], np.float32)
        self._show_image(self._strip_imgs[i])

    def _show_frame(self, i: int) -> None:
        if 0 <= i < len(self._frames) and self._job is None:
            self._result_ws = self._frame_ws[i]
            self._show_image(self._frames[i])

    def _show_image(self, img: np.ndarray) -> None:
        self.preview.setImage(img, autoLevels=False, levels=(0, 255))
        self.preview.setRect(0, 0, img.shape[1], img.shape[0])
        self.preview.show()

    def has_result(self) -> bool:
        return self._result_ws is not None and self._job is None

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
        self.preview.hide()
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
        running = self._job is not None if running is None else running
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
        self.preview.hide()
        super().hideEvent(ev)

    def showEvent(self, ev) -> None:
        self.overlay.set_active(self._tool != "pan")
        self.overlay.setVisible(self.show_box.isChecked())
        if self._frames and (self._result_ws is not None or self._job is not None):
            self.preview.show()
        super().showEvent(ev)


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
