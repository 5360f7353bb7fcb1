"""Side docks: the model's facts, the undo history, and the pins bar."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QListWidget, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from ...models.loaded import LoadedModel
from ...models.registry import format_label
from ..widgets.thumbs import ThumbList

FIELDS = (("name", "Name"), ("format", "Format"), ("kind", "Kind"), ("variant", "Variant"),
          ("resolution", "Resolution"),
          ("dims", "z / w dims"), ("num_ws", "num_ws"), ("c_dim", "Classes"), ("parameters", "Parameters"),
          ("credit", "Credit"), ("licence", "Licence"), ("sha256", "sha256"), ("path", "File"))


class InfoPanel(QWidget):
    """Format, kind, resolution, z/w dims, num_ws, credit, licence of the open model."""

    declareLabels = Signal(int)   # a DCGAN's label size the user declared (0: none)

    def __init__(self):
        super().__init__()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for key, text in FIELDS:
            lab = QLabel("—")
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setToolTip(f"{text} of the open model")
            self.values[key] = lab
            form.addRow(text, lab)
        # A DCGAN file cannot say whether its last inputs are a one-hot label: the user can.
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.label_size = QSpinBox()
        self.label_size.setToolTip("How many of the generator's last inputs are a one-hot class label "
                                   "(0: none); remembered for this file")
        self.declare = QPushButton("Declare")
        self.declare.setToolTip("Read the model as conditional with this many classes (remembered by the "
                                "file's sha256)")
        self.declare.clicked.connect(lambda: self.declareLabels.emit(int(self.label_size.value())))
        row.addWidget(self.label_size, 1)
        row.addWidget(self.declare)
        self.label_row = QWidget()
        self.label_row.setLayout(row)
        form.addRow("Label inputs", self.label_row)
        self._form = form
        self._form.setRowVisible(self.label_row, False)

    def show_model(self, m: LoadedModel | None) -> None:
        if m is None:
            for lab in self.values.values():
                lab.setText("—")
            return
        G, info = m.G, m.info
        vals = {"name": m.name, "format": format_label(m.format), "kind": G.kind,
                "resolution": f"{G.img_resolution}×{G.img_resolution}, {G.img_channels} channel(s)",
                "dims": f"{G.z_dim} / {G.w_dim}", "num_ws": str(G.num_ws),
                "c_dim": f"{G.c_dim} (default: class follows seed, seed % {G.c_dim})" if G.c_dim else "unconditional",
                "variant": str(info.get("variant") or info.get("repository") or "—"),
                "parameters": f"{sum(p.numel() for p in G.parameters()):,}",
                "credit": str(info.get("credit") or "—"), "licence": str(info.get("licence") or
                                                                           info.get("license") or "—"),
                "sha256": m.sha256[:16] + "…", "path": str(m.path)}
        for key, lab in self.values.items():
            lab.setText(vals[key])
        dcgan = G.kind == "dcgan"
        self._form.setRowVisible(self.label_row, dcgan)
        if dcgan:
            self.label_size.setRange(0, G.z_dim + G.c_dim - 1)
            self.label_size.setValue(G.c_dim)
        self.values["sha256"].setToolTip(m.sha256)


class HistoryPanel(QListWidget):
    """Every undo step by name; click one to go back (or forward) to it."""

    jumpRequested = Signal(int)

    def __init__(self):
        super().__init__()
        self.setToolTip("Undo history: click a step to return to it (Ctrl+Z / Ctrl+Shift+Z step by step)")
        self.itemClicked.connect(lambda it: self.jumpRequested.emit(self.row(it)))

    def show_history(self, labels: list[str], index: int) -> None:
        """Update in place: during a drag only the newest label changes."""
        self.blockSignals(True)
        while self.count() > len(labels):
            self.takeItem(self.count() - 1)
        for i, text in enumerate(labels):
            if i >= self.count():
                self.addItem(text)
            elif self.item(i).text() != text:
                self.item(i).setText(text)
            it = self.item(i)
            f = it.font()
            if f.bold() != (i == index) or f.italic() != (i > index):
                f.setBold(i == index)
                f.setItalic(i > index)
                it.setFont(f)
        if self.currentRow() != index:
            self.setCurrentRow(index)
        self.blockSignals(False)


class PinsBar(QWidget):
    """The pinned latents: drag one into an arithmetic group or onto the interpolation path."""

    def __init__(self):
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.list = ThumbList(64, drag_pins=True, one_row=True,
                              tooltip="Pinned latents. Drag one into an arithmetic group or the "
                                      "interpolation endpoints; double-click to show it; Delete removes it.")
        lay.addWidget(self.list, 1)
        col = QVBoxLayout()
        self.show_btn = QPushButton("Show")
        self.show_btn.setToolTip("Make the selected pin the current latent")
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Remove the selected pin (Delete)")
        self.clear = QPushButton("Clear all")
        self.clear.setToolTip("Remove every pin")
        for b in (self.show_btn, self.remove, self.clear):
            col.addWidget(b)
        col.addStretch(1)
        lay.addLayout(col)
