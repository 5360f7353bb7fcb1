"""The large image view: pyqtgraph, row-major, zoom and pan, smooth or nearest sampling.

Overlays (the Edit panel's strokes, for instance) are ordinary pyqtgraph items added to
`view_box`; image pixel (x, y) is scene coordinate (x, y) with y pointing down.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QWidget

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


class ImageView(pg.GraphicsView):
    """Shows one [H, W, 3] uint8 array; an error text can be laid over it."""

    imageShown = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background=pg.mkColor(40, 40, 44))
        self.view_box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view_box.setMouseMode(pg.ViewBox.PanMode)
        self.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self._array: np.ndarray | None = None
        self._smooth = False
        self.setToolTip("The rendered image. Wheel: zoom, drag: pan, double-click or F: fit.")
        self.overlay = QLabel(self)
        self.overlay.setWordWrap(True)
        self.overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.overlay.setStyleSheet("QLabel { background: rgba(150, 20, 20, 215); color: white;"
                                   " padding: 10px; border-radius: 6px; font-weight: bold; }")
        self.overlay.hide()
        self.prompt = QLabel(self)
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt.setStyleSheet("QLabel { color: #ddd; font-size: 16px; }")
        self.prompt.hide()
        self.set_smooth(False)

    # ------------------------------------------------------------------ content
    def set_image(self, arr: np.ndarray) -> None:
        arr = np.asarray(arr, np.uint8)
        fit = self._array is None or self._array.shape != arr.shape
        self._array = arr
        self.image_item.setImage(arr, autoLevels=False, levels=(0, 255))
        if fit:
            self.fit()
        self.prompt.hide()
        self.imageShown.emit()

    def image(self) -> np.ndarray | None:
        """The array on screen ([H, W, 3] uint8), or None."""
        return self._array

    def clear(self) -> None:
        self._array = None
        self.image_item.clear()

    def show_error(self, text: str) -> None:
        self.overlay.setText(text)
        self.overlay.show()
        self._place_overlays()

    def clear_error(self) -> None:
        self.overlay.hide()

    def error_text(self) -> str:
        return "" if self.overlay.isHidden() else self.overlay.text()

    def show_prompt(self, text: str) -> None:
        self.prompt.setText(text)
        self.prompt.show()
        self._place_overlays()

    # ------------------------------------------------------------------ zoom
    def set_smooth(self, smooth: bool) -> None:
        """Bilinear (smooth) or nearest-neighbour magnification."""
        self._smooth = bool(smooth)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
        self.viewport().update()

    def smooth(self) -> bool:
        return self._smooth

    def zoom(self, factor: float) -> None:
        self.view_box.scaleBy((1 / factor, 1 / factor))

    def fit(self) -> None:
        if self._array is not None:
            h, w = self._array.shape[:2]
            self.view_box.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def mouseDoubleClickEvent(self, ev) -> None:
        self.fit()
        super().mouseDoubleClickEvent(ev)

    # ------------------------------------------------------------------ overlays
    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._place_overlays()

    def _place_overlays(self) -> None:
        if not hasattr(self, "prompt"):      # pyqtgraph resizes once inside __init__
            return
        w, h = self.width(), self.height()
        self.overlay.setFixedWidth(max(120, int(w * 0.8)))
        self.overlay.adjustSize()
        self.overlay.move((w - self.overlay.width()) // 2, max(10, h // 2 - self.overlay.height() // 2))
        self.prompt.setFixedWidth(w)
        self.prompt.adjustSize()
        self.prompt.move(0, max(10, h // 2 - self.prompt.height() // 2))
