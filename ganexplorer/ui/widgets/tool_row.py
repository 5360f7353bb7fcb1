"""A row of exclusive, checkable tool buttons (the brushes of the Edit and Drag panels)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget


def tool_row(parent: QWidget, tools: dict[str, tuple[str, str]], on_pick: Callable[[str], None]
             ) -> tuple[QButtonGroup, dict[str, QToolButton], QHBoxLayout]:
    """One button per `name: (text, tooltip)`, in order; checking one calls `on_pick(name)`."""
    group = QButtonGroup(parent)
    group.setExclusive(True)
    buttons: dict[str, QToolButton] = {}
    row = QHBoxLayout()
    for name, (text, tip) in tools.items():
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setToolTip(tip)
        group.addButton(b)
        buttons[name] = b
        b.toggled.connect(lambda on, n=name: on and on_pick(n))
        row.addWidget(b)
    return group, buttons, row
