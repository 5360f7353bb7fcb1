"""The user's edit constraints (iGAN, Zhu et al. 2016): colour strokes, sketch strokes, warps.

A `StrokeDocument` is what the edit panel draws and saves and what `ganexplorer edit
--strokes` reads: plain data, JSON on disk, no Qt. Coordinates are pixels in a canvas of
`canvas = [W, H]` (normally the model's resolution; the window converts from screen
pixels), x to the right and y down; widths are in the same pixels. `rasterize` turns the
document into masks and targets at any resolution (the model's, for the optimisation).

JSON (version 1):

    {"format": "ganexplorer-strokes", "version": 1, "canvas": [64, 64],
     "strokes": [
       {"type": "color",  "color": [255, 0, 0], "width": 6, "points": [[10, 12], [20, 14]]},
       {"type": "sketch", "width": 2, "points": [[5, 40], [50, 40]]},
       {"type": "warp",   "rect": [x, y, w, h], "offset": [dx, dy]},
       {"type": "eraser", "width": 8, "points": [[12, 12]]}]}

Strokes apply in order: an eraser removes the colour and sketch constraints drawn before
it under its path (later strokes may paint there again); a warp asks the region `rect` of
the start image to appear moved by `offset`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
from PIL import Image, ImageDraw

FORMAT = "ganexplorer-strokes"
VERSION = 1
SUPERSAMPLE = 4   # strokes are drawn at 4x and box-filtered down: soft, antialiased masks


class StrokesError(ValueError):
    """A strokes file that cannot be used; the message says what is wrong."""


Point = tuple[float, float]


@dataclass
class ColorStroke:
    color: tuple[int, int, int]      # RGB 0..255 the region should take
    width: float                     # brush diameter in canvas pixels
    points: list[Point]              # polyline in canvas pixels
    type: str = field(default="color", init=False)


@dataclass
class SketchStroke:
    width: float                     # line width in canvas pixels
    points: list[Point]              # where an edge should run
    type: str = field(default="sketch", init=False)


@dataclass
class WarpStroke:
    rect: tuple[float, float, float, float]   # source region x, y, w, h in canvas pixels
    offset: tuple[float, float]               # drag dx, dy in canvas pixels
    type: str = field(default="warp", init=False)


@dataclass
class EraserStroke:
    width: float                     # eraser diameter in canvas pixels
    points: list[Point]
    type: str = field(default="eraser", init=False)


Stroke = Union[ColorStroke, SketchStroke, WarpStroke, EraserStroke]


@dataclass
class StrokeDocument:
    canvas: tuple[int, int]                         # [W, H] of the coordinate frame
    strokes: list[Stroke] = field(default_factory=list)

    # ------------------------------------------------------------ editing
    def add(self, stroke: Stroke) -> None:
        self.strokes.append(stroke)

    def clear(self) -> None:
        self.strokes.clear()

    def undo(self) -> Stroke | None:
        return self.strokes.pop() if self.strokes else None

    def is_empty(self) -> bool:
        """True when nothing constrains the image (only erasers, or nothing)."""
        return not any(s.type != "eraser" for s in self.strokes)

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        out = []
        for s in self.strokes:
            if isinstance(s, ColorStroke):
                out.append({"type": "color", "color": [int(c) for c in s.color], "width": float(s.width),
                            "points": [[float(x), float(y)] for x, y in s.points]})
            elif isinstance(s, WarpStroke):
                out.append({"type": "warp", "rect": [float(v) for v in s.rect],
                            "offset": [float(v) for v in s.offset]})
            else:
                out.append({"type": s.type, "width": float(s.width),
                            "points": [[float(x), float(y)] for x, y in s.points]})
        return {"format": FORMAT, "version": VERSION, "canvas": [int(v) for v in self.canvas],
                "strokes": out}

    @classmethod
    def from_dict(cls, d: Any, name: str = "strokes") -> "StrokeDocument":
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise StrokesError(f"{name}: not a GAN Explorer strokes file (expected \"format\": \"{FORMAT}\")")
        if int(d.get("version", 0)) > VERSION:
            raise StrokesError(f"{name} was written by a newer GAN Explorer (version {d.get('version')})")
        canvas = d.get("canvas")
        if (not isinstance(canvas, (list, tuple)) or len(canvas) != 2
                or not all(isinstance(v, (int, float)) and v > 0 for v in canvas)):
            raise StrokesError(f"{name}: \"canvas\" must be [width, height] in pixels")
        strokes: list[Stroke] = []
        for i, s in enumerate(d.get("strokes") or []):
            where = f"{name}: stroke {i}"
            if not isinstance(s, dict):
                raise StrokesError(f"{where} is not an object")
            kind = s.get("type")
            try:
                if kind == "color":
                    color = tuple(int(c) for c in s["color"])
                    if len(color) != 3 or not all(0 <= c <= 255 for c in color):
                        raise StrokesError(f"{where}: \"color\" must be [r, g, b] with values 0-255")
                    strokes.append(ColorStroke(color, _width(s, where), _points(s, where)))
                elif kind == "sketch":
                    strokes.append(SketchStroke(_width(s, where), _points(s, where)))
                elif kind == "eraser":
                    strokes.append(EraserStroke(_width(s, where), _points(s, where)))
                elif kind == "warp":
                    rect = tuple(float(v) for v in s["rect"])
                    offset = tuple(float(v) for v in s["offset"])
                    if len(rect) != 4 or rect[2] <= 0 or rect[3] <= 0 or len(offset) != 2:
                        raise StrokesError(f"{where}: a warp needs \"rect\" [x, y, w, h] with w, h > 0 "
                                           "and \"offset\" [dx, dy]")
                    strokes.append(WarpStroke(rect, offset))  # type: ignore[arg-type]
                else:
                    raise StrokesError(f"{where}: unknown type {kind!r} (color, sketch, warp or eraser)")
            except (KeyError, TypeError, ValueError) as e:
                if isinstance(e, StrokesError):
                    raise
                raise StrokesError(f"{where} ({kind}) is incomplete or malformed: {e}") from None
        return cls((int(canvas[0]), int(canvas[1])), strokes)

    def save(self, path: str | os.PathLike) -> Path:
        from ..atomic import atomic_write_text
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "StrokeDocument":
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise StrokesError(f"{path}: cannot be read ({e.strerror or e})") from None
        except json.JSONDecodeError as e:
            raise StrokesError(f"{path.name}: not valid JSON ({e})") from None
        return cls.from_dict(d, path.name)


def _width(s: dict, where: str) -> float:
    w = float(s["width"])
    if not np.isfinite(w) or w <= 0:
        raise StrokesError(f"{where}: \"width\" must be a positive number of pixels")
    return w


def _points(s: dict, where: str) -> list[Point]:
    pts = [(float(p[0]), float(p[1])) for p in s["points"]]
    if not pts:
        raise StrokesError(f"{where}: a stroke needs at least one point")
    if not all(np.isfinite(v) for p in pts for v in p):
        raise StrokesError(f"{where}: points must be finite numbers")
    return pts


# ---------------------------------------------------------------- rasterisation

@dataclass
class Warp:
    src: tuple[int, int, int, int]   # x0, y0, x1, y1 (half-open) at the raster resolution
    dx: int                          # integer shift at the raster resolution
    dy: int


@dataclass
class Constraints:
    """Masks and targets at one resolution, ready for the loss (all float32, [H, W] planes)."""
    resolution: int
    color_mask: np.ndarray      # [H, W] 0..1 where a colour is asked for
    color_target: np.ndarray    # [3, H, W] RGB in [-1, 1] (generator range)
    sketch_mask: np.ndarray     # [H, W] 0..1 the sketched lines themselves
    warps: list[Warp]

    def is_empty(self) -> bool:
        return (self.color_mask.max(initial=0) <= 0 and self.sketch_mask.max(initial=0) <= 0
                and not self.warps)


def _draw_path(draw: ImageDraw.ImageDraw, pts: list[Point], width: float, fill) -> None:
    """A round-capped polyline (PIL joins are not round at every width)."""
    r = width / 2
    for x, y in pts:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    if len(pts) > 1:
        draw.line(pts, fill=fill, width=max(int(round(width)), 1))


def rasterize(doc: StrokeDocument, resolution: int) -> Constraints:
    """Masks and targets at `resolution` x `resolution` (the model's), antialiased."""
    R = int(resolution)
    S = R * SUPERSAMPLE
    sx, sy = S / doc.canvas[0], S / doc.canvas[1]
    scale_w = (sx + sy) / 2
    cmask = Image.new("L", (S, S), 0)
    ctarget = Image.new("RGB", (S, S), (0, 0, 0))
    smask = Image.new("L", (S, S), 0)
    dm, dt, ds = ImageDraw.Draw(cmask), ImageDraw.Draw(ctarget), ImageDraw.Draw(smask)
    warps: list[Warp] = []
    for s in doc.strokes:
        if isinstance(s, WarpStroke):
            x, y, w, h = s.rect
            x0 = int(np.clip(round(x * R / doc.canvas[0]), 0, R))
            y0 = int(np.clip(round(y * R / doc.canvas[1]), 0, R))
            x1 = int(np.clip(round((x + w) * R / doc.canvas[0]), 0, R))
            y1 = int(np.clip(round((y + h) * R / doc.canvas[1]), 0, R))
            dx = int(round(s.offset[0] * R / doc.canvas[0]))
            dy = int(round(s.offset[1] * R / doc.canvas[1]))
            if x1 > x0 and y1 > y0 and (dx or dy):
                warps.append(Warp((x0, y0, x1, y1), dx, dy))
            continue
        pts = [(px * sx, py * sy) for px, py in s.points]
        width = max(s.width * scale_w, 1.0)
        if isinstance(s, ColorStroke):
            _draw_path(dm, pts, width, 255)
            _draw_path(dt, pts, width, tuple(int(c) for c in s.color))
        elif isinstance(s, SketchStroke):
            _draw_path(ds, pts, width, 255)
        elif isinstance(s, EraserStroke):
            _draw_path(dm, pts, width, 0)
            _draw_path(ds, pts, width, 0)
    # Box-filter down: masks become coverage fractions; the colour target is the mean
    # colour over the covered supersamples (so edges keep the stroke's colour).
    def down(a: np.ndarray) -> np.ndarray:
        return a.reshape(R, SUPERSAMPLE, R, SUPERSAMPLE, *a.shape[2:]).mean(axis=(1, 3))
    m = np.asarray(cmask, np.float32) / 255
    t = np.asarray(ctarget, np.float32) / 255 * m[..., None]
    m_low = down(m)
    t_low = down(t) / np.maximum(m_low, 1e-6)[..., None]
    color_target = (t_low * 2 - 1).transpose(2, 0, 1).astype(np.float32)
    color_target[:, m_low <= 0] = 0
    return Constraints(R, m_low.astype(np.float32), color_target,
                       down(np.asarray(smask, np.float32) / 255).astype(np.float32), warps)
