"""The Edit panel's drawing layer over the image view: shows the strokes, turns drags into them.

`StrokeOverlay` is a pyqtgraph item covering the image (item coordinates = image pixels =
model pixels, y down). With a brush tool active it takes left-button drags (so the view
does not pan) and reports them as press / move / release in image pixels; with the pan
tool it ignores them. It draws a StrokeDocument: colour strokes in their colour, sketch
lines black with a white halo, erasers cut through what came before, warps as a dashed
source box, the moved box and an arrow.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from ...latent.strokes import ColorStroke, EraserStroke, SketchStroke, StrokeDocument, WarpStroke

SCALE = 8   # overlay pixels per image pixel (strokes stay smooth when zoomed)


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _polyline(p: QPainter, pts: list[tuple[float, float]], s: float) -> None:
    if len(pts) == 1:
        x, y = pts[0]
        p.drawPoint(QPointF(x * s, y * s))
        return
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        p.drawLine(QPointF(x0 * s, y0 * s), QPointF(x1 * s, y1 * s))


def render_strokes(doc: StrokeDocument, size: int, extra=None) -> QImage:
    """The document (plus an unfinished stroke `extra`) as a transparent ARGB image size*SCALE."""
    S = size * SCALE
    s = S / doc.canvas[0]
    img = QImage(S, S, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    strokes = list(doc.strokes) + ([extra] if extra is not None else [])
    for st in strokes:
        if isinstance(st, ColorStroke):
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            p.setPen(_pen(QColor(*st.color), st.width * s))
            _polyline(p, st.points, s)
        elif isinstance(st, SketchStroke):
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            p.setPen(_pen(QColor(255, 255, 255, 200), st.width * s + 2))
            _polyline(p, st.points, s)
            p.setPen(_pen(QColor(0, 0, 0), st.width * s))
            _polyline(p, st.points, s)
        elif isinstance(st, EraserStroke):
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
            p.setPen(_pen(QColor(0, 0, 0, 0), st.width * s))
            _polyline(p, st.points, s)
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
    for st in strokes:
        if isinstance(st, WarpStroke):
            x, y, w, h = (v * s for v in st.rect)
            dx, dy = st.offset[0] * s, st.offset[1] * s
            dash = QPen(QColor(255, 220, 0), 2, Qt.PenStyle.DashLine)
            p.setPen(dash)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x, y, w, h))
            p.setPen(QPen(QColor(0, 220, 255), 2))
            p.drawRect(QRectF(x + dx, y + dy, w, h))
            c0, c1 = QPointF(x + w / 2, y + h / 2), QPointF(x + w / 2 + dx, y + h / 2 + dy)
            p.drawLine(c0, c1)
            p.drawEllipse(c1, 4, 4)
    p.end()
    return img


class StrokeOverlay(pg.GraphicsObject):
    """Covers [0, size]² in image pixels. Emits pressed/moved/released(x, y) for brush drags."""

    pressed = Signal(float, float)
    moved = Signal(float, float)
    released = Signal(float, float)

    def __init__(self, size: int = 64):
        super().__init__()
        self._size = int(size)
        self._image = QImage()
        self._active = False
        self.setZValue(20)

    def set_size(self, size: int) -> None:
        self.prepareGeometryChange()
        self._size = int(size)

    def set_active(self, active: bool) -> None:
        """True: left drags draw (the view does not pan); False: drags pan the view."""
        self._active = bool(active)
        self.setCursor(Qt.CursorShape.CrossCursor if active else Qt.CursorShape.ArrowCursor)

    def show_document(self, doc: StrokeDocument, extra=None) -> None:
        self._image = render_strokes(doc, self._size, extra)
        self.update()

    def image(self) -> QImage:
        return self._image

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._size, self._size)

    def paint(self, p: QPainter, *args) -> None:
        if self._image.isNull():
            return
        p.setOpacity(0.75)
        p.drawImage(QRectF(0, 0, self._size, self._size), self._image)

    # ------------------------------------------------------------------ pyqtgraph mouse
    def mouseDragEvent(self, ev) -> None:
        if not self._active or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        pos = ev.pos()
        if ev.isStart():
            start = ev.buttonDownPos()
            self.pressed.emit(start.x(), start.y())
        self.moved.emit(pos.x(), pos.y())
        if ev.isFinish():
            self.released.emit(pos.x(), pos.y())

    def mouseClickEvent(self, ev) -> None:
        if not self._active or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        pos = ev.pos()
        self.pressed.emit(pos.x(), pos.y())
        self.released.emit(pos.x(), pos.y())
