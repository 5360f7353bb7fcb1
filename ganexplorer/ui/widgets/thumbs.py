"""A strip or grid of thumbnails from a rendered Figure; pins can be dragged between them."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QListWidget, QListWidgetItem, QWidget

from .common import to_qimage

PIN_MIME = "application/x-ganexplorer-pin"
DATA = Qt.ItemDataRole.UserRole


class ThumbList(QListWidget):
    """Icons in a wrapping grid (or one row). Each item carries a Python value (`data`).

    Signals: `clickedData(value)`, `doubleClickedData(value)`, `pinDropped(pin_id)` when a
    pin is dropped here (only with accept_pins), `removeRequested(value)` on Delete.
    """

    clickedData = Signal(object)
    doubleClickedData = Signal(object)
    pinDropped = Signal(int)
    removeRequested = Signal(object)

    def __init__(self, icon: int = 64, drag_pins: bool = False, accept_pins: bool = False,
                 one_row: bool = False, tooltip: str = "", distinct_double_click: bool = False,
                 parent: QWidget | None = None):
        """distinct_double_click: a click reports only once the double-click interval has
        passed without a second click (so a double-click is not also a click)."""
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(icon, icon))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setWrapping(not one_row)
        if one_row:
            self.setFlow(QListView.Flow.LeftToRight)
            self.setFixedHeight(icon + 50)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip(tooltip)
        self._accept = accept_pins
        if drag_pins:
            self.setDragEnabled(True)
            self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        if accept_pins:
            self.setAcceptDrops(True)
            self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
            self.viewport().setAcceptDrops(True)
        self._click_timer = None
        if distinct_double_click:
            self._click_timer = QTimer(self)
            self._click_timer.setSingleShot(True)
            self._click_timer.setInterval(QApplication.doubleClickInterval())
            self._click_timer.timeout.connect(lambda: self.clickedData.emit(self._clicked))
        self.itemClicked.connect(self._item_clicked)
        self.itemDoubleClicked.connect(self._item_double_clicked)

    def _item_clicked(self, it: QListWidgetItem) -> None:
        if self._click_timer is None:
            self.clickedData.emit(it.data(DATA))
        else:
            self._clicked = it.data(DATA)
            self._click_timer.start()

    def _item_double_clicked(self, it: QListWidgetItem) -> None:
        if self._click_timer is not None:
            self._click_timer.stop()
        self.doubleClickedData.emit(it.data(DATA))

    def set_tiles(self, tiles, labels: list[str], data: list, tips: list[str] | None = None) -> None:
        """Replace the items: tiles [N, H, W, 3] uint8, one label and value per tile."""
        self.clear()
        for i, (tile, lab, d) in enumerate(zip(tiles, labels, data)):
            it = QListWidgetItem(QIcon(QPixmap.fromImage(to_qimage(tile))), lab)
            it.setData(DATA, d)
            it.setToolTip(tips[i] if tips else lab)
            it.setSizeHint(QSize(self.iconSize().width() + 10, self.iconSize().height() + 22))
            self.addItem(it)

    def set_placeholders(self, labels: list[str], data: list) -> None:
        """Items without pictures yet (their thumbnails are still rendering)."""
        self.clear()
        for lab, d in zip(labels, data):
            it = QListWidgetItem(lab)
            it.setData(DATA, d)
            it.setToolTip(lab)
            it.setSizeHint(QSize(self.iconSize().width() + 10, self.iconSize().height() + 22))
            self.addItem(it)

    def selected_data(self):
        it = self.currentItem()
        return None if it is None else it.data(DATA)

    def values(self) -> list:
        return [self.item(i).data(DATA) for i in range(self.count())]

    # ------------------------------------------------------------------ drag and drop
    def mimeData(self, items):
        md = QMimeData()
        if items:
            md.setData(PIN_MIME, QByteArray(str(items[0].data(DATA)).encode()))
        return md

    def mimeTypes(self):
        return [PIN_MIME]

    def dragEnterEvent(self, e):
        if self._accept and e.mimeData().hasFormat(PIN_MIME):
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e):
        if self._accept and e.mimeData().hasFormat(PIN_MIME):
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e):
        if self._accept and e.mimeData().hasFormat(PIN_MIME):
            try:
                pin_id = int(bytes(e.mimeData().data(PIN_MIME)).decode())
            except ValueError:
                return
            e.acceptProposedAction()
            self.pinDropped.emit(pin_id)
        else:
            super().dropEvent(e)

    def keyPressEvent(self, e):
        if e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.currentItem() is not None:
            self.removeRequested.emit(self.currentItem().data(DATA))
            return
        super().keyPressEvent(e)
