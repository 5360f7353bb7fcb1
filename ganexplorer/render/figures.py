"""Figures: rendered tiles laid out in a grid, with the latents that made each tile.

The CLI and the window build their arithmetic and style-mixing grids with these same
functions, so the two show identical pixels for the same seeds. A `Figure` remembers the
latent of every tile (blank tiles have none), so an exported grid carries what it takes to
render it again (`reproduce`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..export.images import make_grid, to_uint8
from ..models.protocol import GeneratorBase
from .recipes import ArithmeticResult
from .synth import synthesize


@dataclass
class Figure:
    tiles: np.ndarray                 # [N, H, W, 3] uint8, row-major
    ws: np.ndarray                    # [M, num_ws, w_dim] latents of the non-blank tiles
    layout: list[int]                 # per tile: its row in ws, or -1 for a blank tile
    cols: int                         # tiles per row
    labels: list[str] = field(default_factory=list)   # one per tile ('' for none)
    meta: dict[str, Any] = field(default_factory=dict)  # seeds, psi, ... for exported files

    def image(self, padding: int = 2, labels: bool = False, tile_size: int | None = None,
              nearest: bool = True) -> Image.Image:
        """The grid as one picture; a single tile is returned as it is when unscaled."""
        if len(self.tiles) == 1 and not labels and not tile_size:
            return Image.fromarray(self.tiles[0])
        return make_grid(self.tiles, cols=self.cols, padding=padding,
                         labels=self.labels if labels else None, tile_size=tile_size, nearest=nearest)

    def array(self, padding: int = 2) -> np.ndarray:
        """[H, W, 3] uint8: what the image view shows."""
        return np.asarray(self.image(padding))


def single(G: GeneratorBase, ws: np.ndarray, noise_mode: str = "const", labels=None,
           cols: int | None = None, meta: dict | None = None) -> Figure:
    """Every row of ws [N, num_ws, w_dim] as one tile, row-major in `cols` columns."""
    ws = np.asarray(ws, np.float32)
    tiles = to_uint8(synthesize(G, ws, noise_mode))
    n = len(ws)
    return Figure(tiles, ws, list(range(n)), cols or max(1, int(np.ceil(np.sqrt(n)))),
                  list(labels) if labels else [""] * n, dict(meta or {}))


def arithmetic_figure(G: GeneratorBase, r: ArithmeticResult, signs: list[float],
                      member_labels: list[list[str]], noise_mode: str = "const") -> Figure:
    """The DCGAN paper's layout: one row per group (members, then the signed mean at the
    right), and a last row with the result followed by its noisy neighbours."""
    sizes = [len(m) for m in r.members]
    n_neigh = len(r.neighbours)
    cols = max(max(sizes) + 1, 1 + n_neigh)
    res = G.img_resolution
    blank = np.full((res, res, 3), 255, np.uint8)
    tiles, labels, layout, ws_rows = [], [], [], []
    for gi, sign in enumerate(signs):
        ws = np.concatenate([r.members[gi], r.means[gi:gi + 1]])
        imgs = to_uint8(synthesize(G, ws, noise_mode))
        base = len(ws_rows)
        ws_rows += list(ws)
        k = sizes[gi]
        pad = cols - k - 1
        tiles += list(imgs[:-1]) + [blank] * pad + [imgs[-1]]
        labels += list(member_labels[gi]) + [""] * pad + [f"{'+' if sign > 0 else '-'}mean"]
        layout += list(range(base, base + k)) + [-1] * pad + [base + k]
    ws = np.concatenate([r.result, r.neighbours])
    imgs = to_uint8(synthesize(G, ws, noise_mode))
    base = len(ws_rows)
    ws_rows += list(ws)
    pad = cols - len(imgs)
    tiles += list(imgs) + [blank] * pad
    labels += ["result"] + [f"n{i}" for i in range(n_neigh)] + [""] * pad
    layout += list(range(base, base + len(imgs))) + [-1] * pad
    return Figure(np.stack(tiles), np.stack(ws_rows).astype(np.float32), layout, cols, labels)


def mixing_figure(G: GeneratorBase, rows: np.ndarray, cols: np.ndarray, cells: np.ndarray,
                  noise_mode: str = "const", row_labels=None, col_labels=None) -> Figure:
    """StyleGAN fig. 3: a blank corner, the column sources along the top, then per row the
    row source followed by its mixes. rows [R, L, D], cols [C, L, D], cells [R, C, L, D]."""
    R, C = len(rows), len(cols)
    row_img = to_uint8(synthesize(G, rows, noise_mode))
    col_img = to_uint8(synthesize(G, cols, noise_mode))
    flat = np.ascontiguousarray(cells).reshape(R * C, *cells.shape[2:])
    cell_img = to_uint8(synthesize(G, flat, noise_mode))
    blank = np.full_like(row_img[0], 255)
    tiles = [blank] + list(col_img)
    layout = [-1] + list(range(R, R + C))        # ws rows: row sources, column sources, cells
    rl = list(row_labels or [""] * R)
    labels = [""] + list(col_labels or [""] * C)
    for i in range(R):
        tiles += [row_img[i]] + list(cell_img[i * C:(i + 1) * C])
        layout += [i] + list(range(R + C + i * C, R + C + (i + 1) * C))
        labels += [rl[i]] + [""] * C
    ws = np.concatenate([rows, cols, flat]).astype(np.float32)
    return Figure(np.stack(tiles), ws, layout, C + 1, labels)


def export_meta(fig: Figure, padding: int, labels: bool, tile_size: int | None) -> dict[str, Any]:
    """What `reproduce` needs besides the latents, merged with the figure's own meta."""
    return {**fig.meta, "layout": fig.layout, "cols": fig.cols, "padding": padding,
            "labels": fig.labels if labels else None, "tile_size": tile_size}


def reproduce(G: GeneratorBase, meta: dict[str, Any], ws: np.ndarray,
              noise_mode: str = "const") -> Image.Image:
    """Render an exported figure again from its metadata and latents ([M, num_ws, w_dim])."""
    transform = None
    if "rotate" in meta or "translate" in meta:   # a StyleGAN3 figure drawn with a moved input
        from .synth import input_transform
        transform = input_transform(tuple(meta.get("translate") or (0.0, 0.0)), float(meta.get("rotate") or 0.0))
    imgs = to_uint8(synthesize(G, np.asarray(ws, np.float32), noise_mode, transform=transform))
    res = imgs.shape[1]
    blank = np.full((res, res, 3), 255, np.uint8)
    layout = meta.get("layout") or list(range(len(imgs)))
    tiles = np.stack([imgs[i] if i >= 0 else blank for i in layout])
    fig = Figure(tiles, ws, layout, int(meta.get("cols") or 1), list(meta.get("labels") or []))
    return fig.image(int(meta.get("padding", 2)), bool(meta.get("labels")), meta.get("tile_size"))
