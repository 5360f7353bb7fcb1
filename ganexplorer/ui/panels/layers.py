"""Layers: choose a synthesis layer and how to look at it (strongest channels, one channel,
the feature norm, a spectrum), and, for StyleGAN models, each layer's noise strength.

The panel only describes: every control changes the Layers sub-state; the render thread
draws the figure (views.layers). What only a render can tell (the layer's channel count and
size, its strongest channels) comes back in the result and is shown here."""
from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QRadioButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from ...render.requests import RenderResult
from ...session.state import SessionState
from ...views import View
from ...views.layers import COUNTS, MAX_STRENGTH, middle_layer
from ..context import PanelContext
from ..widgets.common import FloatSlider
from .base import Panel

MODE_TEXT = {"grid": ("strongest channels", "A grid of the channels with the largest mean |activation|, "
                      "strongest first, each on its own colour scale (blue < 0 < red)"),
             "channel": ("one channel", "One channel enlarged (blue < 0 < red)"),
             "norm": ("feature norm", "The length of each pixel's feature vector over all channels")}
SPECTRUM_TEXT = {"off": "off", "layer": "of the layer", "image": "of the image"}
SHOW_RANKED = 8          # strongest channels listed under the controls


class LayersPanel(Panel):
    view = View.LAYERS
    shortcut = "Ctrl+8"

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self._channels = 0                  # the shown layer's channel count (from a result)
        self._ranked: list[int] = []        # its channels, strongest first (from a result)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.layer = QComboBox()
        self.layer.setToolTip("The synthesis layer to look at, coarse (top) to fine")
        form.addRow("Layer", self.layer)
        row = QHBoxLayout()
        self.mode_group = QButtonGroup(self)
        self.modes: dict[str, QRadioButton] = {}
        for name, (text, tip) in MODE_TEXT.items():
            b = QRadioButton(text)
            b.setToolTip(tip)
            self.mode_group.addButton(b)
            self.modes[name] = b
            row.addWidget(b)
        form.addRow("Show", row)
        self.count = QComboBox()
        self.count.addItems([str(n) for n in COUNTS])
        self.count.setToolTip("How many of the strongest channels the grid shows")
        form.addRow("Channels", self.count)
        row = QHBoxLayout()
        self.channel = QSpinBox()
        self.channel.setRange(0, 4095)
        self.channel.setKeyboardTracking(False)
        self.channel.setToolTip("The channel shown enlarged")
        self.strongest = QPushButton("Strongest")
        self.strongest.setToolTip("Show the channel with the largest mean |activation|")
        row.addWidget(self.channel, 1)
        row.addWidget(self.strongest)
        self.channel_row = QWidget()
        row.setContentsMargins(0, 0, 0, 0)
        self.channel_row.setLayout(row)
        form.addRow("Channel", self.channel_row)
        self.spectrum = QComboBox()
        for name, text in SPECTRUM_TEXT.items():
            self.spectrum.addItem(text, name)
        self.spectrum.setToolTip("The centred 2-D spectrum (log |FFT|, zero frequency in the middle) of "
                                 "the layer's picture or of the output image, shown beside them")
        form.addRow("Spectrum", self.spectrum)
        self._form = form
        lay.addLayout(form)
        self.info = QLabel()
        self.info.setWordWrap(True)
        lay.addWidget(self.info)

        self.noise_box = QGroupBox("Noise strength per layer")
        nl = QVBoxLayout(self.noise_box)
        self.noise_note = QLabel()
        self.noise_note.setWordWrap(True)
        nl.addWidget(self.noise_note)
        self.noise_rows = QWidget()
        self.noise_form = QFormLayout(self.noise_rows)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.noise_rows)
        nl.addWidget(scroll, 1)
        self.noise_reset = QPushButton("Reset noise")
        self.noise_reset.setToolTip("Every layer's noise as trained (strength 1)")
        nl.addWidget(self.noise_reset)
        self.noise_sliders: dict[str, FloatSlider] = {}
        lay.addWidget(self.noise_box, 1)

        self.layer.currentIndexChanged.connect(self._layer_chosen)
        for name, b in self.modes.items():
            b.clicked.connect(lambda _=False, n=name: self._set(f"layers: {MODE_TEXT[n][0]}", mode=n))
        self.count.currentIndexChanged.connect(
            lambda i: self._set(f"layers: {COUNTS[i]} channels", count=COUNTS[i]))
        self.channel.valueChanged.connect(lambda v: self._set(f"layers: channel {v}", channel=int(v)))
        self.strongest.clicked.connect(self._show_strongest)
        self.spectrum.currentIndexChanged.connect(
            lambda i: self._set(f"layers: spectrum {self.spectrum.itemText(i)}", spectrum=self.spectrum.itemData(i)))
        self.noise_reset.clicked.connect(lambda: self._set("layers: reset noise", noise=()))

    # ------------------------------------------------------------------ gestures
    def _set(self, label: str, gesture=None, **fields) -> None:
        self.change_sub(label, gesture, **fields)

    def _layer_chosen(self, i: int) -> None:
        name = self.layer.itemData(i)
        if name:   # channel numbers belong to a layer: start the new one at 0
            self._set(f"layers: {name}", layer=name, channel=0)

    def _show_strongest(self) -> None:
        if self._ranked:
            self._set(f"layers: channel {self._ranked[0]}", mode="channel", channel=self._ranked[0])

    def _noise_edited(self, name: str, value: float, gesture) -> None:
        sub = self.sub.with_strength(name, value)
        self._set(f"layers: noise {name} × {value:.2f}", gesture, noise=sub.noise)

    # ------------------------------------------------------------------ state -> widgets
    def sync(self, s: SessionState) -> None:
        sub = s.sub(self.view)
        model = self.ctx.current_model()
        layer = sub.layer
        if model is not None and layer not in model.G.feature_layers():
            layer = middle_layer(model.G)
        i = self.layer.findData(layer)
        if i >= 0:
            self.layer.setCurrentIndex(i)
        if sub.mode in self.modes:
            self.modes[sub.mode].setChecked(True)
        if sub.count in COUNTS:
            self.count.setCurrentIndex(COUNTS.index(sub.count))
        self.channel.setValue(sub.channel)
        i = self.spectrum.findData(sub.spectrum)
        if i >= 0:
            self.spectrum.setCurrentIndex(i)
        self._form.setRowVisible(self.count, sub.mode == "grid")
        self._form.setRowVisible(self.channel_row, sub.mode == "channel")
        for name, slider in self.noise_sliders.items():
            slider.setValue(sub.strength(name))
        self.noise_reset.setEnabled(bool(sub.noise))
        self.noise_note.setText(
            "The noise mode is 'none' (Sample panel): there is no noise to scale." if s.noise_mode == "none"
            else "Scale or zero (0) the per-pixel noise of one layer; the image and the maps follow.")

    def on_model(self, model) -> None:
        self.layer.blockSignals(True)
        self.layer.clear()
        names = model.G.feature_layers() if model is not None else ()
        for name in names:
            self.layer.addItem(name, name)
        self.layer.blockSignals(False)
        self._channels, self._ranked = 0, []
        self.info.setText("")
        while self.noise_form.rowCount():
            self.noise_form.removeRow(0)
        self.noise_sliders = {}
        noise = model.G.noise_layers() if model is not None else ()
        for name in noise:
            slider = FloatSlider(0.0, MAX_STRENGTH, 2, f"noise {name}",
                                 f"Noise strength of {name}: 0 none, 1 as trained")
            slider.setValue(1.0)
            slider.edited.connect(lambda v, g, n=name: self._noise_edited(n, v, g))
            self.noise_form.addRow(name, slider)
            self.noise_sliders[name] = slider
        self.noise_box.setVisible(bool(noise))
        self.setEnabled(model is not None)

    def on_result(self, result: RenderResult) -> None:
        if result.view != self.view or "layer_shape" not in result.data:
            return
        C, h, w = (int(v) for v in result.data["layer_shape"])
        self._channels = C
        self._ranked = [int(c) for c in result.data["layer_ranked"]]
        self.channel.blockSignals(True)
        self.channel.setMaximum(max(C - 1, 0))
        self.channel.blockSignals(False)
        top = ", ".join(str(c) for c in self._ranked[:SHOW_RANKED])
        self.info.setText(f"{C} channels of {h}×{w}; strongest: {top}{', …' if C > SHOW_RANKED else ''}")
