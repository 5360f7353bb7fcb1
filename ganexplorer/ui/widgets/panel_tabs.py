"""Tabs for the panels: each panel sits in a scroll area (so a small screen still reaches all
of it), while `widget`, `currentWidget`, `indexOf` and `setCurrentWidget` speak of the panels
themselves."""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class PanelTabs(QTabWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pages: dict[QWidget, QScrollArea] = {}

    def add_panel(self, panel: QWidget, title: str, tip: str) -> int:
        page = QScrollArea()
        page.setWidgetResizable(True)
        page.setFrameShape(QFrame.Shape.NoFrame)
        page.setWidget(panel)
        self._pages[panel] = page
        i = self.addTab(page, title)
        self.setTabToolTip(i, tip)
        return i

    def widget(self, index: int) -> QWidget | None:
        page = super().widget(index)
        return page.widget() if isinstance(page, QScrollArea) and page in self._pages.values() else page

    def currentWidget(self) -> QWidget | None:
        return self.widget(self.currentIndex())

    def indexOf(self, widget: QWidget) -> int:
        return super().indexOf(self._pages.get(widget, widget))

    def setCurrentWidget(self, widget: QWidget) -> None:
        i = self.indexOf(widget)
        if i >= 0:
            self.setCurrentIndex(i)
