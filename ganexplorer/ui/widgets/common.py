"""Small shared widgets: numpy -> QImage, a float slider that reports drags as one gesture."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox,
                               QDoubleSpinBox, QHBoxLayout, QScrollBar, QSlider, QWidget)


def to_qimage(arr: np.ndarray) -> QImage:
    """[H, W, 3] uint8 -> a QImage that owns its pixels."""
    a = np.ascontiguousarray(arr, np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class WheelGuard(QObject):
    """An application event filter: the mouse wheel changes a spin box, slider or combo box
    only when it has keyboard focus; otherwise the wheel scrolls the panel under it (scrolling
    a panel once turned "Keep the rest" 1.00 into 1.40 on its way past)."""

    CONTROLS = (QAbstractSpinBox, QAbstractSlider, QComboBox)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(obj, self.CONTROLS) \
                or isinstance(obj, QScrollBar) or obj.hasFocus():
            return False
        w = obj.parentWidget()
        while w is not None and not isinstance(w, QAbstractScrollArea):
            w = w.parentWidget()
        if w is not None:            # hand the turn to the panel's scroll bar
            bar = w.verticalScrollBar() if w.verticalScrollBar().isVisible() else w.horizontalScrollBar()
            QCoreApplication.sendEvent(bar, event)
        return True


class Gesture:
    """A unique token for one continuous gesture (press ... release); merges undo steps.
    `done` turns True on release; the window renders the costly extras (the browse grid)
    only when no gesture is under way."""
    _n = 0

    def __init__(self, name: str):
        Gesture._n += 1
        self.name, self.n = name, Gesture._n
        self.done = False

    def __repr__(self) -> str:
        return f"Gesture({self.name}#{self.n})"


class FloatSlider(QWidget):
    """A horizontal slider with a spin box for a float value in [lo, hi].

    `edited(value, gesture)` fires on every user change: during a drag with the same
    `Gesture` token (so the drag is one undo step; once more on release, with the token
    marked done), otherwise with None. `setValue` never
    emits (model-to-view updates do not echo back).
    """

    edited = Signal(float, object)

    def __init__(self, lo: float, hi: float, decimals: int = 2, name: str = "value",
                 tooltip: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._scale = 10 ** decimals
        self._name = name
        self._gesture: Gesture | None = None
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)   # the wheel does not take focus
        self.slider.setRange(round(lo * self._scale), round(hi * self._scale))
        self.slider.setPageStep(max(1, round((hi - lo) * self._scale / 20)))
        self.spin = QDoubleSpinBox()
        self.spin.setRange(lo, hi)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(1 / self._scale * max(1, self._scale // 100))
        self.spin.setKeyboardTracking(False)
        self.spin.setFixedWidth(72)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self.setToolTip(tooltip)
        self.slider.setToolTip(tooltip + ("\n" if tooltip else "") + "Drag: one undo step per drag.")
        self.spin.setToolTip(tooltip)
        self.slider.sliderPressed.connect(self._pressed)
        self.slider.sliderReleased.connect(self._released)
        self.slider.valueChanged.connect(self._slider_changed)
        self.spin.valueChanged.connect(self._spin_changed)

    def value(self) -> float:
        return self.spin.value()

    def setValue(self, v: float) -> None:
        with QSignalBlocker(self.slider), QSignalBlocker(self.spin):
            self.slider.setValue(round(v * self._scale))
            self.spin.setValue(v)

    def _pressed(self) -> None:
        self._gesture = Gesture(self._name)

    def _released(self) -> None:
        g, self._gesture = self._gesture, None
        if g is not None:            # the release: same undo step, now marked finished
            g.done = True
            self.edited.emit(self.value(), g)

    def _slider_changed(self, i: int) -> None:
        v = i / self._scale
        with QSignalBlocker(self.spin):
            self.spin.setValue(v)
        self.edited.emit(v, self._gesture)

    def _spin_changed(self, v: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(v * self._scale))
        self.edited.emit(v, None)
