"""Interpolate: a path through two or more endpoints (seeds or pins), a t slider, lerp or
slerp in Z or W, a strip of K frames, play / loop, and export as strip, GIF or MP4."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ...session.state import SessionState
from ...views import View
from ...views.interpolate import Endpoint
from ..widgets.common import FloatSlider, Gesture
from ..widgets.thumbs import ThumbList
from .base import Panel


class InterpolatePanel(Panel):
    view = View.INTERPOLATE
    shortcut = "Ctrl+2"

    def __init__(self, window):
        super().__init__(window)
        lay = QVBoxLayout(self)
        box = QGroupBox("Endpoints (drop pins here)")
        bl = QVBoxLayout(box)
        self.endpoints = ThumbList(56, accept_pins=True, one_row=True,
                                   tooltip="The path's points in order. Drop pins here; Delete removes one.")
        bl.addWidget(self.endpoints)
        row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("A seed to add as the next endpoint")
        self.add_seed = QPushButton("Add seed")
        self.add_seed.setToolTip("Append this seed to the path")
        self.add_pin = QPushButton("Add selected pin")
        self.add_pin.setToolTip("Append the pin selected in the pins bar")
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Remove the selected endpoint")
        for w in (self.seed, self.add_seed, self.add_pin, self.remove):
            row.addWidget(w)
        bl.addLayout(row)
        lay.addWidget(box)

        form = QFormLayout()
        self.t = FloatSlider(0.0, 1.0, 3, "t", "Position along the whole path (0 = first endpoint).")
        form.addRow("t", self.t)
        self.method = QComboBox()
        self.method.addItems(["lerp", "slerp"])
        self.method.setToolTip("lerp: straight line; slerp: along the sphere (keeps the latent's norm)")
        self.space = QComboBox()
        self.space.addItems(["w", "z"])
        self.space.setToolTip("Interpolate in W (after the mapping network) or in Z (seeds only)")
        self.frames = QSpinBox()
        self.frames.setRange(2, 64)
        self.frames.setToolTip("Frames in the strip (and in an exported animation)")
        self.loop = QCheckBox("Loop back to the first endpoint")
        self.loop.setToolTip("Close the path: the last segment returns to the first endpoint")
        form.addRow("Method", self.method)
        form.addRow("Space", self.space)
        form.addRow("Frames K", self.frames)
        form.addRow("", self.loop)
        # Conditional models: the label itself travels from one class to another (interpolated
        # before the mapping network, z following the seeds' path in Z).
        row = QHBoxLayout()
        self.class_path = QCheckBox("from class")
        self.class_path.setToolTip("Interpolate the class label (before the mapping network) instead of "
                                   "the seeds' classes")
        self.class_a, self.class_b = QSpinBox(), QSpinBox()
        self.class_a.setToolTip("The class at t = 0")
        self.class_b.setToolTip("The class at t = 1")
        row.addWidget(self.class_path)
        row.addWidget(self.class_a)
        row.addWidget(QLabel("to"))
        row.addWidget(self.class_b)
        row.setContentsMargins(0, 0, 0, 0)
        self.class_row = QWidget()
        self.class_row.setLayout(row)
        form.addRow("Class", self.class_row)
        self._form = form
        lay.addLayout(form)

        row = QHBoxLayout()
        self.play = QPushButton("▶ Play")
        self.play.setCheckable(True)
        self.play.setToolTip("Play: move t along the path, starting again at the end "
                             "(the whole playback is one undo step)")
        self.export = QPushButton("Export strip / GIF / MP4…")
        self.export.setToolTip("Save the K frames as a strip PNG, a GIF or an MP4")
        row.addWidget(self.play)
        row.addWidget(self.export)
        lay.addLayout(row)
        self.strip = ThumbList(64, tooltip="The K frames; click one to jump there.")
        lay.addWidget(self.strip, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(40)
        self.timer.timeout.connect(self._tick)
        self.endpoints.pinDropped.connect(self._add_pin_id)
        self.endpoints.removeRequested.connect(self._remove_index)
        self.add_seed.clicked.connect(self._add_seed)
        self.add_pin.clicked.connect(self._add_selected_pin)
        self.remove.clicked.connect(lambda: self._remove_index(self.endpoints.currentRow()))
        self.t.edited.connect(lambda v, g: self.change_sub(f"t {v:.3f}", g, t=v))
        self.method.currentTextChanged.connect(lambda m: self.change_sub(f"{m}", None, method=m))
        self.space.currentTextChanged.connect(lambda m: self.change_sub(f"interpolate in {m.upper()}", None,
                                                                        space=m))
        self.frames.valueChanged.connect(lambda k: self.change_sub(f"{k} frames", None, frames=k))
        self.loop.toggled.connect(lambda b: self.change_sub("loop" if b else "no loop", None, loop=b))
        self.class_path.toggled.connect(lambda _b: self._classes_changed())
        self.class_a.valueChanged.connect(lambda _v: self._classes_changed())
        self.class_b.valueChanged.connect(lambda _v: self._classes_changed())
        self.play.toggled.connect(self._play)
        self.export.clicked.connect(self._export)
        self.strip.clickedData.connect(self._jump)
        self._play_gesture = None
        self._endpoints_fig = None

    def _classes_changed(self) -> None:
        pair = (int(self.class_a.value()), int(self.class_b.value())) if self.class_path.isChecked() else None
        if pair != self.sub.classes:
            self.change_sub("classes follow the seeds" if pair is None else f"class {pair[0]} → {pair[1]}",
                            None, classes=pair)

    def on_model(self, model) -> None:
        c_dim = model.G.c_dim if model is not None else 0
        for box in (self.class_a, self.class_b):
            box.blockSignals(True)
            box.setRange(0, max(c_dim - 1, 0))
            box.blockSignals(False)
        self._form.setRowVisible(self.class_row, c_dim > 0)

    # ------------------------------------------------------------------ endpoints
    def _add(self, ep: Endpoint) -> None:
        self.change_sub(f"add endpoint {ep.label()}", None, endpoints=self.sub.endpoints + (ep,))

    def _add_seed(self) -> None:
        self._add(Endpoint(seed=self.seed.value()))

    def _add_pin_id(self, pin_id: int) -> None:
        if self.window.state.pin(pin_id) is not None:
            self._add(Endpoint(pin_id=pin_id))

    def _add_selected_pin(self) -> None:
        pin_id = self.window.selected_pin()
        if pin_id is not None:
            self._add_pin_id(pin_id)

    def _remove_index(self, i) -> None:
        eps = list(self.sub.endpoints)
        if isinstance(i, int) and 0 <= i < len(eps):
            del eps[i]
            self.change_sub("remove endpoint", None, endpoints=tuple(eps))

    # ------------------------------------------------------------------ playing
    def _play(self, on: bool) -> None:
        self.play.setText("⏸ Pause" if on else "▶ Play")
        if on:
            self._play_gesture = Gesture("play")
            self.timer.start()
        else:
            self.timer.stop()
            g, self._play_gesture = self._play_gesture, None
            if g is not None:          # playing was one undo step; close it
                g.done = True
                t = self.sub.t
                self.change_sub(f"t {t:.3f}", g, t=t)

    def _tick(self) -> None:
        s = self.sub
        t = s.t + 1.0 / max(4 * s.frames, 8)
        if t > 1.0:
            t = 0.0
        self.change_sub(f"t {t:.3f}", self._play_gesture, t=round(t, 4))

    def _jump(self, index: int) -> None:
        s = self.sub
        k = max(s.frames - (0 if s.loop else 1), 1)
        self.change_sub(f"t {index / k:.3f}", None, t=min(index / k, 1.0))

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export interpolation", "interpolation.gif",
                                              "GIF (*.gif);;MP4 video (*.mp4);;Strip PNG (*.png)")
        if path:
            self.window.export_strip(path)

    # ------------------------------------------------------------------ sync
    def sync(self, state: SessionState) -> None:
        s = state.sub(self.view)
        self.t.setValue(s.t)
        self.method.setCurrentText(s.method)
        self.space.setCurrentText(s.space)
        self.frames.setValue(s.frames)
        self.loop.setChecked(s.loop)
        self.class_path.setChecked(s.classes is not None)
        if s.classes is not None:
            self.class_a.setValue(s.classes[0])
            self.class_b.setValue(s.classes[1])
        seeds_only = all(e.pin_id is None for e in s.endpoints)
        self.space.setEnabled(seeds_only)
        self.space.setToolTip("Interpolate in W (after the mapping network) or in Z" +
                              ("" if seeds_only else " — pins are latents in W, so a path through pins is in W"))
        self._show_endpoints(state)

    def _show_endpoints(self, state: SessionState) -> None:
        labels = [e.label() for e in state.sub(self.view).endpoints]
        data = list(range(len(labels)))
        fig = self._endpoints_fig
        if fig is not None and fig.meta.get("labels") == labels:
            self.endpoints.set_tiles(fig.tiles, labels, data)
        else:
            self.endpoints.set_placeholders(labels, data)

    def on_result(self, result) -> None:
        fig = result.extras.get("strip")
        key = result.extra_keys.get("strip")
        if fig is not None and key != getattr(self, "_strip_key", None):
            self._strip_key = key
            n = len(fig.tiles)
            self.strip.set_tiles(fig.tiles, [str(i) for i in range(n)], list(range(n)),
                                 [f"frame {i}: click to jump there" for i in range(n)])
        key = result.extra_keys.get("endpoints")
        if key is not None and key != getattr(self, "_endpoints_key", None):
            self._endpoints_key = key
            self._endpoints_fig = result.extras["endpoints"]
            self._show_endpoints(self.window.state)
