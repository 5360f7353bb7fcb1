"""Directions: GANSpace (PCA) and SeFa components and saved directions, each a slider with
its own layer range, applied to the current latent; reset; pin the edited latent."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSpinBox, QVBoxLayout, QWidget)
from superqt import QRangeSlider

from ...latent.directions import Directions
from ...session.state import Edit, SessionState
from ...views import View
from ..widgets.common import FloatSlider, Gesture
from ..context import PanelContext
from .base import Panel

METHODS = {"sefa": "SeFa (closed form)", "pca": "PCA (GANSpace)", "saved": "Saved directions"}


class DirectionRow:
    """One direction: name, strength slider (in units of its natural scale), layer range."""

    def __init__(self, panel: "DirectionsPanel", grid: QGridLayout, row: int, name: str,
                 vector: np.ndarray, scale: float, num_ws: int, accuracy: float | None = None):
        self.panel, self.name, self.vector, self.scale = panel, name, vector, float(scale) or 1.0
        self.accuracy_label = None     # a labelled direction's held-out accuracy, beside its slider
        if accuracy is not None:
            self.accuracy_label = QLabel(f"acc {accuracy:.2f}")
            self.accuracy_label.setToolTip(f"{name}: held-out (cross-validated) accuracy of the classifier "
                                           "whose boundary normal this is (Labels panel)")
            grid.addWidget(self.accuracy_label, row, 3)
        self.label = QLabel(name)
        self.slider = FloatSlider(-3.0, 3.0, 2, name, f"{name}: strength in units of its natural "
                                  f"step ({self.scale:.3g} in W)")
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.slider, row, 1)
        self.layers = None
        self._gesture = None
        if num_ws > 1:
            self.layers = QRangeSlider(Qt.Orientation.Horizontal)
            self.layers.setRange(0, num_ws - 1)
            self.layers.setValue((0, num_ws - 1))
            self.layers.setToolTip(f"{name}: the layers it acts on (inclusive)")
            self.layers.setMinimumWidth(80)
            grid.addWidget(self.layers, row, 2)
            self.layers.sliderPressed.connect(lambda: setattr(self, "_gesture", Gesture(name)))
            self.layers.sliderReleased.connect(self._released)
            self.layers.valueChanged.connect(lambda _v: self.push(self._gesture, "layers"))
        self.num_ws = num_ws
        self.slider.edited.connect(lambda _v, g: self.push(g, "strength"))

    def _released(self) -> None:
        g, self._gesture = self._gesture, None
        if g is not None:
            g.done = True
            self.push(g, "layers")

    def widgets(self):
        return [w for w in (self.label, self.slider, self.layers, self.accuracy_label) if w is not None]

    def edit(self) -> Edit:
        start, stop = 0, None
        if self.layers is not None:
            lo, hi = (int(v) for v in self.layers.value())
            start, stop = lo, (None if (lo, hi) == (0, self.num_ws - 1) else hi + 1)
        return Edit(self.name, self.vector, self.slider.value() * self.scale, start, stop)

    def push(self, gesture, what: str) -> None:
        e = self.edit()
        label = (f"{self.name} layers {e.start}–{(e.stop or self.num_ws) - 1}" if what == "layers"
                 else f"{self.name} {e.alpha / self.scale:+.2f}")
        self.panel.ctx.change(label, gesture, edits=self.panel.ctx.state.with_edit(e).edits)

    def show(self, e: Edit | None) -> None:
        self.slider.setValue(0.0 if e is None else e.alpha / self.scale)
        if self.layers is not None:
            lo = 0 if e is None else e.start
            hi = self.num_ws - 1 if e is None or e.stop is None else e.stop - 1
            self.layers.blockSignals(True)
            self.layers.setValue((lo, hi))
            self.layers.blockSignals(False)


class DirectionsPanel(Panel):
    view = View.DIRECTIONS
    shortcut = "Ctrl+5"

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self.rows: list[DirectionRow] = []
        self._shown: tuple | None = None
        self._num_ws = 1
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.method = QComboBox()
        for key, text in METHODS.items():
            self.method.addItem(text, key)
        self.method.setToolTip("Where the sliders come from: SeFa (closed form from the weights), "
                               "PCA of sampled w (GANSpace), or directions saved from the arithmetic panel")
        self.k = QSpinBox()
        self.k.setRange(1, 32)
        self.k.setValue(10)
        self.k.setToolTip("How many components to show")
        top.addWidget(self.method, 1)
        top.addWidget(QLabel("k"))
        top.addWidget(self.k)
        lay.addLayout(top)
        self.status = QLabel()
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.host = QWidget()
        self.grid = QGridLayout(self.host)
        self.grid.setColumnStretch(1, 3)
        self.grid.setColumnStretch(2, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.host)
        lay.addWidget(scroll, 1)
        # Edits made with another method (or a saved direction since deleted) stay applied:
        # each is listed here with a remove button, so no active edit is ever invisible.
        self.others_box = QWidget()
        self.others = QVBoxLayout(self.others_box)
        self.others.setContentsMargins(0, 0, 0, 0)
        self.others_box.setVisible(False)
        self._others_key: tuple = ()
        lay.addWidget(self.others_box)
        row = QHBoxLayout()
        self.reset = QPushButton("Reset all")
        self.reset.setToolTip("Set every direction slider back to 0 (one undo step)")
        self.pin = QPushButton("Pin edited latent")
        self.pin.setToolTip("Keep the edited latent as a pin (P)")
        self.apply = QPushButton("Make it the base")
        self.apply.setToolTip("Bake the edits into the current latent and zero the sliders")
        row.addWidget(self.reset)
        row.addWidget(self.apply)
        row.addWidget(self.pin)
        lay.addLayout(row)
        self.method.currentIndexChanged.connect(
            lambda _i: self.change_sub(f"directions: {self.method.currentData()}", None,
                                       method=self.method.currentData()))
        self.k.valueChanged.connect(lambda _k: self.refresh())
        self.reset.clicked.connect(lambda: ctx.change("reset directions", None, edits=()))
        self.pin.clicked.connect(ctx.pin_current)
        self.apply.clicked.connect(ctx.bake_edits)

    def refresh(self) -> None:
        """Show the state again (after a direction set finished computing)."""
        self.ctx.sync_panel(self)

    def _ensure(self, s: SessionState) -> None:
        dirs = self.ctx.direction_set(s.sub(self.view).method, self.k.value())
        if dirs is None:
            self.status.setText("Computing directions…" if self.ctx.current_model() is not None
                                else "Open a model first.")
        elif not dirs.names:
            self.status.setText("No saved directions yet: build one in the Arithmetic panel and "
                                "press “Save as direction”, or learn one in the Labels panel.")
        else:
            self.status.setText(f"{len(dirs.names)} directions. Sliders move the current latent; "
                                "the range slider limits the layers (StyleGAN).")
        self._build(dirs)

    def _build(self, dirs: Directions | None) -> None:
        key = None if dirs is None else (id(dirs), self._num_ws)
        if key == self._shown:
            return
        self._shown = key
        for r in self.rows:
            for w in r.widgets():
                w.setParent(None)
                w.deleteLater()
        self.rows = []
        if dirs is None:
            return
        accuracy = {d.name: d.accuracy for d in self.ctx.state.saved_directions} if dirs.method == "saved" else {}
        for i, name in enumerate(dirs.names):
            acc = float(dirs.accuracy[i]) if dirs.accuracy is not None else accuracy.get(name)
            self.rows.append(DirectionRow(self, self.grid, i, name, dirs.vectors[i], float(dirs.scales[i]),
                                          self._num_ws, acc))

    def sync(self, s: SessionState) -> None:
        self.method.setCurrentIndex(max(self.method.findData(s.sub(self.view).method), 0))
        self._ensure(s)
        for r in self.rows:
            r.show(s.edit(r.name))
        self._show_others(s)
        self.reset.setEnabled(bool(s.edits))
        self.apply.setEnabled(bool(s.edits))

    def other_edits(self, s: SessionState) -> list:
        """Active edits that no slider on screen shows."""
        shown = {r.name for r in self.rows}
        return [e for e in s.edits if e.name not in shown]

    def _show_others(self, s: SessionState) -> None:
        others = self.other_edits(s)
        key = tuple((e.name, e.alpha, e.start, e.stop) for e in others)
        if key == self._others_key:
            return
        self._others_key = key
        while self.others.count():
            old = self.others.takeAt(0).widget()
            if old is not None:
                old.setParent(None)
                old.deleteLater()
        if others:
            head = QLabel("Also applied (from another method):")
            self.others.addWidget(head)
        for e in others:
            line = QWidget()
            hl = QHBoxLayout(line)
            hl.setContentsMargins(0, 0, 0, 0)
            stop = "end" if e.stop is None else str(e.stop - 1)
            hl.addWidget(QLabel(f"{e.name}: {e.alpha:+.3g} in W, layers {e.start}–{stop}"), 1)
            rm = QPushButton("Remove")
            rm.setToolTip(f"Take {e.name} off the current latent (one undo step)")
            rm.setObjectName(f"remove-{e.name}")
            rm.clicked.connect(lambda _=False, n=e.name: self.ctx.change(
                f"remove {n}", None, edits=tuple(x for x in self.ctx.state.edits if x.name != n)))
            hl.addWidget(rm)
            self.others.addWidget(line)
        self.others_box.setVisible(bool(others))

    def on_model(self, model) -> None:
        """Forget the old sliders; the new set is computed when the panel is first shown."""
        self._num_ws = model.G.num_ws if model is not None else 1
        self._build(None)
        if self.isVisible():
            self.refresh()
