"""Style mixing (StyleGAN only): row sources x column sources, as in the StyleGAN paper's
figure 3; each cell takes the chosen layers from its column source. Presets coarse /
middle / fine come from latent.stylemix; a range slider picks any other span."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QRadioButton, QVBoxLayout
from superqt import QLabeledRangeSlider

from ...latent.sampling import parse_seeds
from ...latent.stylemix import layer_ranges, layer_resolution
from ...session.state import SessionState
from ...views import View
from ..widgets.common import Gesture
from ..context import PanelContext
from .base import Panel


class MixingPanel(Panel):
    view = View.MIXING
    shortcut = "Ctrl+4"

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self._ranges: dict[str, tuple[int, int]] = {}
        self._num_ws, self._res, self._per_res = 0, 0, 2
        self._rates: list[float] | None = None   # StyleGAN3 per-layer sampling rates
        self._gesture = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.rows = QLineEdit()
        self.rows.setToolTip("Row sources: seeds like 0-3 or 1,5,9 (their images keep the other layers)")
        self.cols = QLineEdit()
        self.cols.setToolTip("Column sources: seeds whose chosen layers are copied into every row")
        form.addRow("Rows", self.rows)
        form.addRow("Columns", self.cols)
        lay.addLayout(form)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c33;")
        self.problem.setWordWrap(True)
        lay.addWidget(self.problem)
        row = QHBoxLayout()
        self.preset_group = QButtonGroup(self)
        self.presets: dict[str, QRadioButton] = {}
        for name, tip in (("coarse", "Layers for 4²–8²: pose, face shape"),
                          ("middle", "Layers for 16²–32²: features, hair style, eyes"),
                          ("fine", "Layers for 64² and up: colours, micro-structure"),
                          ("custom", "Any span of layers, set on the slider below")):
            b = QRadioButton(name)
            b.setToolTip(tip)
            self.preset_group.addButton(b)
            self.presets[name] = b
            row.addWidget(b)
        lay.addLayout(row)
        self.range = QLabeledRangeSlider(Qt.Orientation.Horizontal)
        self.range.setToolTip("Layers taken from the column sources (inclusive); drag either end")
        lay.addWidget(self.range)
        self.span_label = QLabel()
        self.span_label.setWordWrap(True)
        lay.addWidget(self.span_label)
        lay.addStretch(1)

        self.rows.editingFinished.connect(self._seeds_edited)
        self.cols.editingFinished.connect(self._seeds_edited)
        for name, b in self.presets.items():
            b.clicked.connect(lambda _=False, n=name: self._preset(n))
        self.range.sliderPressed.connect(lambda: setattr(self, "_gesture", Gesture("layers")))
        self.range.sliderReleased.connect(self._released)
        self.range.valueChanged.connect(self._range_changed)

    def _seeds_edited(self) -> None:
        rows, cols = self.rows.text().strip(), self.cols.text().strip()
        try:
            parse_seeds(rows, limit=64)
            parse_seeds(cols, limit=64)
        except ValueError as e:
            self.problem.setText(str(e))
            return
        self.problem.setText("")
        s = self.sub
        if (rows, cols) != (s.rows, s.cols):
            self.change_sub(f"mix rows {rows} × cols {cols}", None, rows=rows, cols=cols)

    def _preset(self, name: str) -> None:
        if name == "custom":
            lo, hi = self.range.value()
            span = (int(lo), int(hi) + 1)
        else:
            span = self._ranges.get(name)
        if span is not None:
            self.change_sub(f"mix {name} layers", None, layers=span)

    def _released(self) -> None:
        g, self._gesture = self._gesture, None
        if g is not None:
            g.done = True
            self._range_changed(self.range.value(), g)

    def _range_changed(self, value, gesture=None) -> None:
        lo, hi = (int(v) for v in value)
        self.change_sub(f"mix layers {lo}–{hi}", gesture or self._gesture, layers=(lo, hi + 1))

    def span(self, state: SessionState) -> tuple[int, int] | None:
        layers = state.sub(self.view).layers
        if layers is not None:
            return layers
        return self._ranges.get("coarse")

    def sync(self, s: SessionState) -> None:
        self.rows.setText(s.sub(self.view).rows)
        self.cols.setText(s.sub(self.view).cols)
        span = self.span(s)
        if span is None:
            return
        self.range.setValue((span[0], span[1] - 1))
        name = next((n for n, r in self._ranges.items() if r == tuple(span)), "custom")
        self.presets[name].setChecked(True)
        if self._rates:   # StyleGAN3: no resolution blocks; say the layers' sampling rates
            rates = [int(self._rates[i]) for i in range(span[0], span[1])]
            where = f"sampling rates {min(rates)}–{max(rates)}"
        else:
            res = [layer_resolution(i, self._res, self._per_res) for i in range(span[0], span[1])]
            where = f"{min(res)}²–{max(res)}²"
        self.span_label.setText(f"Layers {span[0]}–{span[1] - 1} ({where}) come from the column sources.")

    def on_model(self, model) -> None:
        styles = model is not None and model.G.has_styles
        self.setEnabled(styles)
        if model is None:
            return
        self._num_ws, self._res = model.G.num_ws, model.G.img_resolution
        self._per_res = model.G.ws_per_resolution
        self._rates = model.G.ws_sampling_rates()
        self._ranges = layer_ranges(self._num_ws, self._res, self._per_res, self._rates) if self._num_ws > 1 else {}
        self.range.blockSignals(True)
        self.range.setRange(0, max(self._num_ws - 1, 0))
        self.range.blockSignals(False)
        for name, b in self.presets.items():
            b.setEnabled(name == "custom" or name in self._ranges)
