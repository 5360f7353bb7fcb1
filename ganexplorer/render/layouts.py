"""Figures laid out other than as a plain grid: pixel boxes for tiles, captions and signs.

`arithmetic_layout`: the DCGAN paper's vector-arithmetic figure (Radford et al. 2016,
fig. 7), which reads left to right: each concept is a column of its samples with their
average below, the averages are joined by − and + signs, then "=" and the result, with its
noisy neighbours beside it. `sections_layout`: captioned rows of tiles (the Labels view's
"has it" / "lacks it" / "along the direction" rows). Layouts are plain numbers, so their
geometry is testable on its own; `draw_layout` paints tiles and captions into the boxes.
The window and the CLI draw through here, so their pixels agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MIN_TILE = 64          # smaller tiles are enlarged (nearest) so the captions fit beside them
RULE = (170, 170, 170)  # the line that sets the means apart from the members
INK = (0, 0, 0)
SOFT = (90, 90, 90)    # captions under tiles


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def bottom(self) -> int:
        return self.y + self.h


class Caption(NamedTuple):
    box: Box
    text: str
    strong: bool = False      # black (titles, "mean", "result") rather than grey (tile captions)
    left: bool = False        # aligned left in its box, not centred


@dataclass
class Layout:
    width: int
    height: int
    tile: int                                  # side of every tile, pixels
    font_size: int
    tiles: list[Box] = field(default_factory=list)      # one per tile, in the figure's tile order
    captions: list[Caption] = field(default_factory=list)
    signs: list[tuple[Box, str]] = field(default_factory=list)      # '-', '+' or '=' drawn in its box
    rules: list[Box] = field(default_factory=list)       # thin lines (h = line width)
    member_boxes: list[list[Box]] = field(default_factory=list)     # per group
    mean_boxes: list[Box] = field(default_factory=list)
    result_box: Box | None = None
    neighbour_boxes: list[Box] = field(default_factory=list)


def sigma_text(sigma: float, greek: bool = True) -> str:
    return f"{'σ' if greek else 'sigma'}={sigma:.2f}"


def arithmetic_layout(sizes: list[int], signs: list[float], n_neighbours: int, tile: int,
                      padding: int = 2, names: list[str] | None = None,
                      member_labels: list[list[str]] | None = None,
                      sigma: float | None = None, greek: bool = True) -> Layout:
    """Pixel boxes of the figure. Tile order (as in `Figure.tiles`): each group's members
    then its mean, group after group, then the result, then the neighbours."""
    if not sizes or any(k < 1 for k in sizes) or len(signs) != len(sizes):
        raise ValueError("the arithmetic figure needs one sign per group and at least one member in each")
    t, pad = int(tile), int(padding)
    fs = min(16, max(10, t // 5))
    lh = fs + 6                               # a caption line under every tile (and the headers)
    gap = max(8, t // 5)                      # between the members and their mean, with a rule in it
    sw = max(20, t // 2)                      # the sign columns
    K = max(sizes)
    names = list(names) if names else [chr(ord("A") + i) if i < 26 else f"G{i + 1}" for i in range(len(sizes))]
    labels = member_labels or [[""] * k for k in sizes]
    slot_h = t + lh + pad
    top = pad + lh                            # below the header line
    row_y = [top + k * slot_h for k in range(K)] + [top + K * slot_h + gap]   # member rows, means row
    y_mean = row_y[-1]
    L = Layout(0, 0, t, fs)
    x = pad + (sw // 2 if signs[0] > 0 else 0)   # room for the first header to spill left
    x0 = x
    for gi, (k, sign) in enumerate(zip(sizes, signs)):
        if gi > 0 or sign < 0:               # a leading "−" when the first group is subtracted
            L.signs.append((Box(x, y_mean, sw, t), "+" if sign > 0 else "-"))
            x += sw
        col = [Box(x, row_y[j], t, t) for j in range(k)]
        mean = Box(x, y_mean, t, t)
        L.member_boxes.append(col)
        L.mean_boxes.append(mean)
        L.tiles += col + [mean]
        # the header may spill over half a sign column on each side
        L.captions.append(Caption(Box(x - sw // 2, pad, t + sw, lh), names[gi], True))
        for b, text in zip(col, labels[gi]):
            L.captions.append(Caption(Box(x - sw // 2, b.bottom, t + sw, lh), str(text), False))
        L.captions.append(Caption(Box(x - sw // 2, mean.bottom, t + sw, lh), "mean", True))
        x += t + pad
    rule_y = row_y[K - 1] + slot_h + (gap - pad) // 2 - 1
    L.rules.append(Box(x0, rule_y, x - x0 - pad, max(1, t // 64)))
    L.signs.append((Box(x, y_mean, sw, t), "="))
    x += sw
    L.result_box = Box(x, y_mean, t, t)
    L.tiles.append(L.result_box)
    L.captions.append(Caption(Box(x - sw // 2, L.result_box.bottom, t + sw, lh), "result", True))
    x += t + pad
    right = x
    if n_neighbours:
        x += max(pad, gap)                    # the neighbours are a block of their own
        rows = min(n_neighbours, K + 1)
        cols = math.ceil(n_neighbours / rows)
        first = K + 1 - rows                  # bottom-aligned: the block ends on the result's row
        for j in range(n_neighbours):
            c, r = divmod(j, rows)
            L.neighbour_boxes.append(Box(x + c * (t + pad), row_y[first + r], t, t))
        L.tiles += L.neighbour_boxes
        block_w = cols * (t + pad) - pad
        head = "neighbours" + (f" {sigma_text(sigma, greek)}" if sigma is not None else "")
        L.captions.append(Caption(Box(x - pad, row_y[first] - lh, block_w + 2 * pad, lh), head, True))
        right = x + block_w + pad
    L.width = right + pad
    L.height = y_mean + t + lh + pad
    return L


def _font(size: int) -> tuple[Any, bool]:
    """A scalable font and whether it has Greek letters: DejaVu Sans where the system has it,
    else Pillow's own (which lacks σ, so the caption spells 'sigma')."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:
        return ImageFont.load_default(size), False


def has_greek_font() -> bool:
    return _font(12)[1]


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """The text, cut with an ellipsis to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


def _sign(draw: ImageDraw.ImageDraw, box: Box, kind: str) -> None:
    """Signs are drawn as bars, not glyphs: crisp at every size and in every font."""
    half = max(4, int(min(box.w, box.h) * 0.3))
    th = max(2, box.h // 18)
    cx, cy = int(box.cx), int(box.cy)
    if kind == "=":
        for dy in (-2 * th, 2 * th):
            draw.rectangle([cx - half, cy + dy - th // 2, cx + half, cy + dy + (th - 1) // 2], fill=INK)
        return
    draw.rectangle([cx - half, cy - th // 2, cx + half, cy + (th - 1) // 2], fill=INK)
    if kind == "+":
        draw.rectangle([cx - th // 2, cy - half, cx + (th - 1) // 2, cy + half], fill=INK)


def draw_layout(tiles: np.ndarray, layout: Layout, nearest: bool = True,
                    background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Tiles [N, H, W, 3] uint8 pasted into the layout's boxes, with its captions and signs."""
    if len(tiles) != len(layout.tiles):
        raise ValueError(f"the layout has {len(layout.tiles)} tiles, got {len(tiles)}")
    canvas = Image.new("RGB", (layout.width, layout.height), background)
    draw = ImageDraw.Draw(canvas)
    resample = Image.NEAREST if nearest else Image.LANCZOS
    for tile, b in zip(tiles, layout.tiles):
        im = Image.fromarray(np.ascontiguousarray(tile))
        if im.size != (b.w, b.h):
            im = im.resize((b.w, b.h), resample)
        canvas.paste(im, (b.x, b.y))
    for b in layout.rules:
        draw.rectangle([b.x, b.y, b.x + b.w - 1, b.y + b.h - 1], fill=RULE)
    for b, kind in layout.signs:
        _sign(draw, b, kind)
    font, _ = _font(layout.font_size)
    for c in layout.captions:
        text = _fit(draw, c.text, font, c.box.w)
        if text:
            at, anchor = ((c.box.x, c.box.cy), "lm") if c.left else ((c.box.cx, c.box.cy), "mm")
            draw.text(at, text, fill=INK if c.strong else SOFT, font=font, anchor=anchor)
    return canvas


def sections_layout(sections: list[tuple[str, int, list[str]]], tile: int, padding: int = 2,
                    cols: int = 8) -> Layout:
    """Rows of tiles under a caption each: `sections` is (title, tile count, tile captions);
    a section wraps after `cols` tiles; one with no tiles is its title alone."""
    t, pad = int(tile), int(padding)
    fs = min(16, max(10, t // 5))
    lh = fs + 6
    cols = max(1, int(cols))
    width = max(pad + cols * (t + pad), 320)
    L = Layout(width, 0, t, fs)
    y = pad
    for title, n, captions in sections:
        L.captions.append(Caption(Box(pad, y, width - 2 * pad, lh), title, True, True))
        y += lh
        for j in range(n):
            r, c = divmod(j, cols)
            b = Box(pad + c * (t + pad), y + r * (t + lh + pad), t, t)
            L.tiles.append(b)
            if j < len(captions) and captions[j]:
                L.captions.append(Caption(Box(b.x, b.bottom, t, lh), str(captions[j]), False))
        y += math.ceil(n / cols) * (t + lh + pad) + pad
    L.height = y + pad
    return L
