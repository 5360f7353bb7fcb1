"""Sample: seed with previous / next / random, truncation psi and cutoff, noise mode,
and a grid of seeds to browse (click a sample to pin it, double-click to make it current)."""
from __future__ import annotations

import random

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ...models.protocol import NOISE_MODES
from ...session.state import SessionState
from ...views import View
from ..widgets.common import FloatSlider
from ..widgets.thumbs import ThumbList
from .base import Panel

SPIN_MAX = 2**31 - 1


class SamplePanel(Panel):
    view = View.SAMPLE
    shortcut = "Ctrl+1"

    def __init__(self, window):
        super().__init__(window)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, SPIN_MAX)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seed: z = RandomState(seed).randn(z_dim), as NVIDIA's gen_images.py.")
        self.prev = QPushButton("◀")
        self.prev.setToolTip("Previous seed (Alt+Left)")
        self.next = QPushButton("▶")
        self.next.setToolTip("Next seed (Alt+Right)")
        self.rand = QPushButton("Random")
        self.rand.setToolTip("A random seed (Ctrl+R)")
        for b in (self.prev, self.next):
            b.setFixedWidth(32)
        row.addWidget(self.seed, 1)
        row.addWidget(self.prev)
        row.addWidget(self.next)
        row.addWidget(self.rand)
        form.addRow("Seed", row)
        self.psi = FloatSlider(-1.0, 2.0, 2, "psi", "Truncation psi: 1 = none, 0 = the average "
                               "face, negative = the 'opposite' image.")
        form.addRow("Truncation ψ", self.psi)
        self.cutoff = QSpinBox()
        self.cutoff.setSpecialValueText("all layers")
        self.cutoff.setToolTip("Truncate only the first N layers (StyleGAN); 'all layers' truncates every layer.")
        form.addRow("Cutoff", self.cutoff)
        self.noise = QComboBox()
        self.noise.addItems(list(NOISE_MODES))
        self.noise.setToolTip("StyleGAN per-pixel noise: const (stored, repeatable), random (new each "
                              "render) or none.")
        form.addRow("Noise", self.noise)
        # Conditional models: one class for every sample, or (default) class = seed % classes.
        row = QHBoxLayout()
        self.class_follows = QCheckBox("follows seed")
        self.class_follows.setToolTip("Class = seed % number of classes (NVIDIA's gen_images.py convention)")
        self.class_box = QSpinBox()
        self.class_box.setToolTip("The class every sample is drawn from")
        self.class_count = QLabel()
        row.addWidget(self.class_follows)
        row.addWidget(self.class_box, 1)
        row.addWidget(self.class_count)
        self.class_row = QWidget()
        self.class_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Class", self.class_row)
        # StyleGAN3: the input transform (as NVIDIA's visualizer offers), moving the Fourier features.
        self.tx, self.ty, self.rot = (QDoubleSpinBox() for _ in range(3))
        for box, lo, hi, step, tip in ((self.tx, -4, 4, 0.01, "Move the image right (fraction of its width)"),
                                       (self.ty, -4, 4, 0.01, "Move the image down (fraction of its height)"),
                                       (self.rot, -360, 360, 1, "Turn the image counter-clockwise (degrees)")):
            box.setRange(lo, hi)
            box.setDecimals(3 if step < 1 else 1)
            box.setSingleStep(step)
            box.setKeyboardTracking(False)
            box.setToolTip(tip)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for label, box in (("x", self.tx), ("y", self.ty), ("°", self.rot)):
            row.addWidget(QLabel(label))
            row.addWidget(box, 1)
        self.transform_row = QWidget()
        self.transform_row.setLayout(row)
        form.addRow("Move / turn", self.transform_row)
        self._form = form
        lay.addLayout(form)
        self.pin_btn = QPushButton("Pin current latent")
        self.pin_btn.setToolTip("Keep the current latent in the pins bar (P)")
        lay.addWidget(self.pin_btn)

        box = QGroupBox("Browse seeds")
        bl = QVBoxLayout(box)
        nav = QHBoxLayout()
        self.page_prev = QPushButton("◀ Page")
        self.page_prev.setToolTip("Show the previous page of seeds")
        self.page_next = QPushButton("Page ▶")
        self.page_next.setToolTip("Show the next page of seeds")
        self.grid_size = QSpinBox()
        self.grid_size.setRange(4, 64)
        self.grid_size.setToolTip("How many seeds the grid shows")
        self.page_label = QLabel()
        nav.addWidget(self.page_prev)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.grid_size)
        nav.addWidget(self.page_next)
        bl.addLayout(nav)
        self.grid = ThumbList(72, tooltip="Click a sample to pin it; double-click to make it the current seed.",
                              distinct_double_click=True)
        bl.addWidget(self.grid, 1)
        lay.addWidget(box, 1)

        self.seed.valueChanged.connect(lambda v: self._set_seed(v))
        self.prev.clicked.connect(lambda: self.step(-1))
        self.next.clicked.connect(lambda: self.step(+1))
        self.rand.clicked.connect(self.random_seed)
        self.psi.edited.connect(lambda v, g: window.change(f"ψ {v:.2f}", g, psi=v))
        self.cutoff.valueChanged.connect(
            lambda v: window.change(f"cutoff {v or 'all'}", None, cutoff=v or None))
        self.noise.currentTextChanged.connect(lambda t: window.change(f"noise {t}", None, noise_mode=t))
        self.class_follows.toggled.connect(self._class_changed)
        self.class_box.valueChanged.connect(lambda _v: self._class_changed())
        self.tx.valueChanged.connect(lambda v: window.change(f"move x {v:g}", None,
                                                             translate=(float(v), window.state.translate[1])))
        self.ty.valueChanged.connect(lambda v: window.change(f"move y {v:g}", None,
                                                             translate=(window.state.translate[0], float(v))))
        self.rot.valueChanged.connect(lambda v: window.change(f"turn {v:g}°", None, rotate=float(v)))
        self.pin_btn.clicked.connect(window.pin_current)
        self.page_prev.clicked.connect(lambda: self._page(-1))
        self.page_next.clicked.connect(lambda: self._page(+1))
        self.grid_size.valueChanged.connect(lambda v: self.change_sub(f"grid of {v}", None, grid_size=v))
        self.grid.clickedData.connect(self._pin_seed)
        self.grid.doubleClickedData.connect(self._set_seed)

    def _class_changed(self, *_args) -> None:
        k = None if self.class_follows.isChecked() else int(self.class_box.value())
        self.class_box.setEnabled(k is not None)
        if k != self.window.state.class_index:
            self.window.change("class follows seed" if k is None else f"class {k}", None, class_index=k)

    def _set_seed(self, seed: int) -> None:
        if seed < 0:                 # the "no seed" mark of the box (see sync), not a seed
            return
        self.window.change(f"seed {seed}", None, seed=int(seed), base_ws=None, base_label="")

    def step(self, d: int) -> None:
        self._set_seed(min(max(self.window.state.seed + d, 0), SPIN_MAX))

    def random_seed(self) -> None:
        self._set_seed(random.randrange(0, 2**31))

    def _page(self, d: int) -> None:
        g = self.sub
        start = max(0, g.grid_start + d * g.grid_size)
        self.change_sub(f"browse from seed {start}", None, grid_start=start)

    def _pin_seed(self, seed: int) -> None:
        self.window.pin_seed(int(seed))

    def sync(self, s: SessionState) -> None:
        # A latent from projection, editing or a pin replaced the seed: the box shows where it
        # came from, not a seed that no longer describes the image (-1 is that mark).
        if s.base_ws is None:
            self.seed.setSpecialValueText("")
            self.seed.setRange(0, SPIN_MAX)
            self.seed.setValue(s.seed)
        else:
            self.seed.setRange(-1, SPIN_MAX)
            self.seed.setSpecialValueText(f"— {s.base_label or 'a latent'} —")
            self.seed.setValue(-1)
        self.seed.setToolTip("Seed: z = RandomState(seed).randn(z_dim), as NVIDIA's gen_images.py." +
                             ("" if s.base_ws is None else f"\nNow showing {s.base_label}; change the seed "
                              "with ◀ ▶ to return to seeds."))
        self.psi.setValue(s.psi)
        self.cutoff.setValue(s.cutoff or 0)
        self.noise.setCurrentText(s.noise_mode)
        for w in (self.class_follows, self.class_box, self.tx, self.ty, self.rot):
            w.blockSignals(True)      # model -> view: no echo back into the history
        self.class_follows.setChecked(s.class_index is None)
        self.class_box.setEnabled(s.class_index is not None)
        if s.class_index is not None:
            self.class_box.setValue(s.class_index)
        self.tx.setValue(s.translate[0])
        self.ty.setValue(s.translate[1])
        self.rot.setValue(s.rotate)
        for w in (self.class_follows, self.class_box, self.tx, self.ty, self.rot):
            w.blockSignals(False)
        g = s.sub(self.view)
        self.grid_size.setValue(g.grid_size)
        self.page_label.setText(f"seeds {g.grid_start}–{g.grid_start + g.grid_size - 1}")
        self.page_prev.setEnabled(g.grid_start > 0)

    def on_model(self, model) -> None:
        styles = model is not None and model.G.has_styles
        self.cutoff.setRange(0, model.G.num_ws if model is not None else 0)
        self.cutoff.setEnabled(styles)
        self.noise.setEnabled(styles)
        c_dim = model.G.c_dim if model is not None else 0
        self.class_box.blockSignals(True)
        self.class_box.setRange(0, max(c_dim - 1, 0))
        self.class_box.blockSignals(False)
        self.class_count.setText(f"of {c_dim}")
        self._form.setRowVisible(self.class_row, c_dim > 0)
        self._form.setRowVisible(self.transform_row, model is not None and model.G.has_input_transform)

    def on_result(self, result) -> None:
        fig = result.extras.get("grid")
        key = result.extra_keys.get("grid")
        if fig is not None and key != getattr(self, "_grid_key", None):
            self._grid_key = key
            seeds = fig.meta.get("seeds", [])
            self.grid.set_tiles(fig.tiles, [str(s) for s in seeds], seeds,
                                [f"seed {s}: click to pin, double-click to show" for s in seeds])
