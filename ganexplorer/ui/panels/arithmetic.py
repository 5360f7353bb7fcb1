"""Arithmetic: concept groups built by dropping pins into them, each with its sign; the
image view shows the DCGAN paper's figure live (members and mean per group, the result and
its noisy neighbours). The result can be pinned or saved as a named direction."""
from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton,
                               QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from ...session.state import SessionState
from ...views import View
from ...views.arithmetic import Group
from ..widgets.common import FloatSlider
from ..widgets.thumbs import ThumbList
from ..context import PanelContext
from .base import Panel


class GroupBox(QGroupBox):
    def __init__(self, panel: "ArithmeticPanel", index: int):
        super().__init__(f"Group {index + 1}")
        self.panel, self.index = panel, index
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.sign = QComboBox()
        self.sign.addItems(["+", "−"])
        self.sign.setToolTip("Add (+) or subtract (−) this group's mean")
        self.add = QPushButton("Add selected pin")
        self.add.setToolTip("Put the pin selected in the pins bar into this group")
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Empty this group")
        self.concept = QLineEdit()
        self.concept.setPlaceholderText(f"name, e.g. smiling woman (blank: {chr(ord('A') + index % 26)})")
        self.concept.setToolTip("What this group shows: its caption in the figure")
        row.addWidget(self.sign)
        row.addWidget(self.add, 1)
        row.addWidget(self.clear)
        lay.addLayout(row)
        lay.addWidget(self.concept)
        self.members = ThumbList(44, accept_pins=True, one_row=True,
                                 tooltip="Drop pins here. Delete removes the selected member.")
        lay.addWidget(self.members)
        self.sign.currentIndexChanged.connect(lambda i: panel.set_sign(index, -1.0 if i else 1.0))
        self.add.clicked.connect(lambda: panel.add_selected(index))
        self.concept.editingFinished.connect(lambda: panel.set_name(index, self.concept.text()))
        self.clear.clicked.connect(lambda: panel.set_members(index, ()))
        self.members.pinDropped.connect(lambda pid: panel.add_member(index, pid))
        self.members.removeRequested.connect(lambda pid: panel.remove_member(index, pid))


class ArithmeticPanel(Panel):
    view = View.ARITHMETIC
    shortcut = "Ctrl+3"

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        lay = QVBoxLayout(self)
        self.groups_host = QWidget()
        self.groups_layout = QVBoxLayout(self.groups_host)
        self.groups_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.groups_host)
        lay.addWidget(scroll, 1)
        self.boxes: list[GroupBox] = []
        row = QHBoxLayout()
        self.add_group = QPushButton("Add group")
        self.add_group.setToolTip("Another concept to add or subtract")
        self.del_group = QPushButton("Remove last group")
        self.del_group.setToolTip("Drop the last group (at least two stay)")
        row.addWidget(self.add_group)
        row.addWidget(self.del_group)
        lay.addLayout(row)
        form = QFormLayout()
        self.space = QComboBox()
        self.space.addItems(["z", "w"])
        self.space.setToolTip("Average in Z (the DCGAN paper; seeds only) or in W")
        self.sigma = FloatSlider(0.0, 2.0, 2, "sigma", "Noise added around the result for its neighbours")
        self.neigh = QSpinBox()
        self.neigh.setRange(0, 16)
        self.neigh.setToolTip("How many noisy neighbours to show beside the result")
        self.noise_seed = QSpinBox()
        self.noise_seed.setRange(0, 2**31 - 1)
        self.noise_seed.setToolTip("Seed of the neighbours' noise")
        form.addRow("Space", self.space)
        form.addRow("Neighbour σ", self.sigma)
        form.addRow("Neighbours", self.neigh)
        form.addRow("Noise seed", self.noise_seed)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.pin_result = QPushButton("Pin result")
        self.pin_result.setToolTip("Keep the result as a pin")
        self.name = QLineEdit()
        self.name.setPlaceholderText("direction name")
        self.name.setToolTip("Name for the saved direction (result − last group's mean)")
        self.save_dir = QPushButton("Save as direction")
        self.save_dir.setToolTip("Save result − last group's mean as a direction slider (Directions panel)")
        row.addWidget(self.pin_result)
        row.addWidget(self.name, 1)
        row.addWidget(self.save_dir)
        lay.addLayout(row)

        self.add_group.clicked.connect(
            lambda: self.change_sub("add group", None, groups=self.sub.groups + (Group(1.0),)))
        self.del_group.clicked.connect(self._remove_group)
        self.space.currentTextChanged.connect(lambda t: self.change_sub(f"arithmetic in {t.upper()}", None,
                                                                        space=t))
        self.sigma.edited.connect(lambda v, g: self.change_sub(f"σ {v:.2f}", g, sigma=v))
        self.neigh.valueChanged.connect(lambda n: self.change_sub(f"{n} neighbours", None, neighbours=n))
        self.noise_seed.valueChanged.connect(lambda n: self.change_sub(f"noise seed {n}", None, noise_seed=n))
        self.pin_result.clicked.connect(ctx.pin_arithmetic_result)
        self.save_dir.clicked.connect(lambda: ctx.save_arithmetic_direction(self.name.text()))

    # ------------------------------------------------------------------ edits
    def _set_group(self, i: int, g: Group, label: str) -> None:
        groups = list(self.sub.groups)
        groups[i] = g
        self.change_sub(label, None, groups=tuple(groups))

    def set_sign(self, i: int, sign: float) -> None:
        self._set_group(i, dataclasses.replace(self.sub.groups[i], sign=sign), f"group {i + 1} sign")

    def set_name(self, i: int, name: str) -> None:
        if name.strip() != self.sub.groups[i].name:
            self._set_group(i, dataclasses.replace(self.sub.groups[i], name=name.strip()),
                            f"group {i + 1} named {name.strip() or 'nothing'}")

    def set_members(self, i: int, ids: tuple[int, ...]) -> None:
        self._set_group(i, dataclasses.replace(self.sub.groups[i], pin_ids=ids), f"group {i + 1} members")

    def add_member(self, i: int, pin_id: int) -> None:
        if self.ctx.state.pin(pin_id) is None:
            return
        g = self.sub.groups[i]
        self._set_group(i, dataclasses.replace(g, pin_ids=g.pin_ids + (pin_id,)), f"pin #{pin_id} into group {i + 1}")

    def add_selected(self, i: int) -> None:
        pid = self.ctx.selected_pin()
        if pid is not None:
            self.add_member(i, pid)

    def remove_member(self, i: int, pin_id: int) -> None:
        g = self.sub.groups[i]
        ids = list(g.pin_ids)
        if pin_id in ids:
            ids.remove(pin_id)
            self._set_group(i, dataclasses.replace(g, pin_ids=tuple(ids)), f"remove pin #{pin_id} from group {i + 1}")

    def _remove_group(self) -> None:
        groups = self.sub.groups
        if len(groups) > 2:
            self.change_sub("remove group", None, groups=groups[:-1])

    # ------------------------------------------------------------------ sync
    def sync(self, state: SessionState) -> None:
        s = state.sub(self.view)
        while len(self.boxes) < len(s.groups):
            box = GroupBox(self, len(self.boxes))
            self.boxes.append(box)
            self.groups_layout.addWidget(box)
        while len(self.boxes) > len(s.groups):
            box = self.boxes.pop()
            box.setParent(None)
            box.deleteLater()
        self.del_group.setEnabled(len(s.groups) > 2)
        self.space.setCurrentText(s.space)
        members = [state.pin(i) for g in s.groups for i in g.pin_ids]
        seeds_only = all(p is not None and p.seed is not None for p in members)
        self.space.setEnabled(seeds_only)
        self.space.setToolTip("Average in Z (the DCGAN paper; seeds only) or in W" +
                              ("" if seeds_only else " — some pins are edited latents, so this is done in W"))
        self.sigma.setValue(s.sigma)
        self.neigh.setValue(s.neighbours)
        self.noise_seed.setValue(s.noise_seed)
        self._show_members(state)

    def _show_members(self, s: SessionState) -> None:
        fig = self.ctx.figure("pins")
        ids = [p.id for p in s.pins]
        for box, g in zip(self.boxes, s.sub(self.view).groups):
            box.sign.blockSignals(True)
            box.sign.setCurrentIndex(0 if g.sign > 0 else 1)
            box.sign.blockSignals(False)
            if box.concept.text() != g.name and not box.concept.hasFocus():
                box.concept.setText(g.name)
            labels = [getattr(s.pin(i), "label", f"#{i}") for i in g.pin_ids]
            if fig is not None and len(fig.tiles) == len(ids) and all(i in ids for i in g.pin_ids):
                box.members.set_tiles([fig.tiles[ids.index(i)] for i in g.pin_ids], labels, list(g.pin_ids))
            else:
                box.members.set_placeholders(labels, list(g.pin_ids))

    def on_result(self, result) -> None:
        if "pins" in result.extra_keys and result.extra_keys["pins"] != getattr(self, "_pins_key", None):
            self._pins_key = result.extra_keys["pins"]
            self._show_members(self.ctx.state)
