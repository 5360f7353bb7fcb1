"""The Drag panel's layer over the image view: handle/target points, arrows, the mask.

`DragOverlay` is a pyqtgraph item covering the image (item coordinates = image pixels,
y down, pixel centres at integer + 0.5 in item coordinates, as the image item draws them).
It describes gestures and draws what it is given; the panel decides:

  mode 'points'  left click -> clicked(x, y); right click -> removeRequested(x, y);
                 drags still pan the view
  mode 'mask'    left drags paint -> painted(x0, y0, x1, y1) per segment (a click paints a dot)
  mode 'off'     every gesture goes to the view

The points it reports and draws are (x, y) image pixels with pixel centres at integers
(latent.drag's convention): item position minus 0.5. Dots and arrows keep their size on
screen whatever the zoom (cosmetic pens, sizes divided by the view's scale).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen

HANDLE = QColor(230, 40, 40)
TARGET = QColor(40, 110, 255)
ARROW = QColor(255, 255, 255)
MASK_RGBA = (80, 230, 120, 70)     # the region that may move: translucent green
DOT_PX = 7.0                        # dot radius on screen


class DragOverlay(pg.GraphicsObject):
    clicked = Signal(float, float)
    removeRequested = Signal(float, float)
    painted = Signal(float, float, float, float)

    def __init__(self, size: int = 64):
        super().__init__()
        self._size = int(size)
        self._mode = "off"
        self._handles: list[tuple[float, float]] = []
        self._targets: list[tuple[float, float]] = []
        self._starts: list[tuple[float, float]] = []
        self._pending: tuple[float, float] | None = None
        self._mask = QImage()
        self._last: tuple[float, float] | None = None
        self.setZValue(25)

    # ------------------------------------------------------------------ what it shows
    def set_size(self, size: int) -> None:
        self.prepareGeometryChange()
        self._size = int(size)
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode not in ("off", "points", "mask"):
            raise ValueError(f"unknown overlay mode {mode!r}")
        self._mode = mode
        self.setCursor(Qt.CursorShape.ArrowCursor if mode == "off" else Qt.CursorShape.CrossCursor)

    def mode(self) -> str:
        return self._mode

    def set_points(self, handles, targets, pending=None, starts=None) -> None:
        """Pairs handle -> target (the i-th of each); `pending` a handle still waiting for
        its target; `starts` where the handles began (drawn hollow while they move)."""
        self._handles = [tuple(map(float, p)) for p in handles]
        self._targets = [tuple(map(float, p)) for p in targets]
        self._pending = None if pending is None else tuple(map(float, pending))
        self._starts = [tuple(map(float, p)) for p in (starts or [])]
        self.update()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """mask [R, R] in [0, 1] (1: may move) as a translucent overlay; None: none."""
        if mask is None:
            self._mask = QImage()
        else:
            m = np.clip(np.asarray(mask, np.float32), 0, 1)
            rgba = np.zeros((*m.shape, 4), np.uint8)
            rgba[..., :3] = MASK_RGBA[:3]
            rgba[..., 3] = np.rint(m * MASK_RGBA[3]).astype(np.uint8)
            rgba = np.ascontiguousarray(rgba)
            self._mask = QImage(rgba.data, m.shape[1], m.shape[0], 4 * m.shape[1],
                                QImage.Format.Format_RGBA8888).copy()
        self.update()

    def has_mask(self) -> bool:
        return not self._mask.isNull()

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._size, self._size)

    def paint(self, p: QPainter, *args) -> None:
        if not self._mask.isNull():
            p.drawImage(QRectF(0, 0, self._size, self._size), self._mask)
        t = p.deviceTransform()
        scale = math.hypot(t.m11(), t.m12()) or 1.0        # screen pixels per image pixel
        r = DOT_PX / scale
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)

        def pt(xy) -> QPointF:
            return QPointF(xy[0] + 0.5, xy[1] + 0.5)

        def pen(color: QColor, width: float, style=Qt.PenStyle.SolidLine) -> QPen:
            q = QPen(color, width, style)
            q.setCosmetic(True)
            return q

        for i, (h, t_) in enumerate(zip(self._handles, self._targets)):
            if i < len(self._starts) and self._starts[i] != h:
                p.setPen(pen(HANDLE, 1.5, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawLine(pt(self._starts[i]), pt(h))
                p.drawEllipse(pt(self._starts[i]), r * 0.8, r * 0.8)
            self._arrow(p, pt(h), pt(t_), r, pen)
        p.setPen(pen(QColor(0, 0, 0), 1.0))
        for t_ in self._targets:
            p.setBrush(TARGET)
            p.drawEllipse(pt(t_), r, r)
        for h in self._handles + ([self._pending] if self._pending is not None else []):
            p.setBrush(HANDLE)    # a little smaller: an arrived handle leaves its target's ring visible
            p.drawEllipse(pt(h), 0.7 * r, 0.7 * r)

    @staticmethod
    def _arrow(p: QPainter, a: QPointF, b: QPointF, r: float, pen) -> None:
        d = b - a
        n = math.hypot(d.x(), d.y())
        if n < 1e-6:
            return
        ux, uy = d.x() / n, d.y() / n
        tip = QPointF(b.x() - ux * r, b.y() - uy * r)      # stop at the target dot's rim
        head = 2.2 * r
        left = QPointF(tip.x() - head * (ux - 0.5 * uy), tip.y() - head * (uy + 0.5 * ux))
        right = QPointF(tip.x() - head * (ux + 0.5 * uy), tip.y() - head * (uy - 0.5 * ux))
        for color, width in ((QColor(0, 0, 0, 160), 4.0), (ARROW, 2.0)):   # a dark halo, then white
            p.setPen(pen(color, width))
            p.drawLine(a, tip)
            p.drawLine(tip, left)
            p.drawLine(tip, right)

    # ------------------------------------------------------------------ pyqtgraph mouse
    @staticmethod
    def _px(pos) -> tuple[float, float]:
        return pos.x() - 0.5, pos.y() - 0.5

    def mouseClickEvent(self, ev) -> None:
        b = ev.button()
        if self._mode == "points" and b in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            ev.accept()
            x, y = self._px(ev.pos())
            (self.clicked if b == Qt.MouseButton.LeftButton else self.removeRequested).emit(x, y)
        elif self._mode == "mask" and b == Qt.MouseButton.LeftButton:
            ev.accept()
            x, y = self._px(ev.pos())
            self.painted.emit(x, y, x, y)
        else:
            ev.ignore()

    def mouseDragEvent(self, ev) -> None:
        if self._mode != "mask" or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self._last = self._px(ev.buttonDownPos())
        x, y = self._px(ev.pos())
        x0, y0 = self._last if self._last is not None else (x, y)
        self.painted.emit(x0, y0, x, y)
        self._last = None if ev.isFinish() else (x, y)
