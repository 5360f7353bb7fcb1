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
    composition: dict[str, Any] | None = None   # a layout other than the grid (see `compose`); JSON

    def image(self, padding: int = 2, labels: bool = False, tile_size: int | None = None,
              nearest: bool = True) -> Image.Image:
        """The grid as one picture; a single tile is returned as it is when unscaled. A composed
        figure (the arithmetic one) always draws its captions, whatever `labels` says."""
        if self.composition is not None:
            return compose(self.tiles, self.composition, padding, tile_size, nearest)
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
                      member_labels: list[list[str]], noise_mode: str = "const",
                      names: list[str] | None = None, sigma: float | None = None) -> Figure:
    """The DCGAN paper's fig. 7: per group its members in a column over its mean, the signs
    between the means, "=", the result and its noisy neighbours, every part captioned
    (`names`: one per group, default A, B, C...; `sigma`: the neighbours' noise, for their caption).
    Tiles (and ws rows): each group's members then its mean, then the result, then the neighbours."""
    sizes = [len(m) for m in r.members]
    ws = np.concatenate([np.concatenate([m, r.means[gi:gi + 1]]) for gi, m in enumerate(r.members)]
                        + [r.result, r.neighbours]).astype(np.float32)
    tiles = to_uint8(synthesize(G, ws, noise_mode))
    labels: list[str] = []
    for gi in range(len(sizes)):
        labels += [str(x) for x in member_labels[gi]] + ["mean"]
    labels += ["result"] + [f"n{i + 1}" for i in range(len(r.neighbours))]
    names = list(names) if names else None
    composition = {"kind": "arithmetic", "sizes": sizes, "signs": [float(x) for x in signs],
                   "neighbours": len(r.neighbours), "names": names,
                   "member_labels": [[str(x) for x in m] for m in member_labels],
                   "sigma": None if sigma is None else float(sigma)}
    return Figure(tiles, ws, list(range(len(ws))), len(sizes) + 1, labels, composition=composition)


def sections_figure(G: GeneratorBase, sections: list[tuple[str, np.ndarray, list[str]]], cols: int = 8,
                    noise_mode: str = "const") -> Figure:
    """Captioned rows of tiles: per section (title, ws [n, num_ws, w_dim], one caption per tile);
    a section with no latents shows its title alone."""
    ws_list = [np.asarray(w, np.float32).reshape(-1, G.num_ws, G.w_dim) for _, w, _ in sections]
    ws = np.concatenate(ws_list) if ws_list else np.zeros((0, G.num_ws, G.w_dim), np.float32)
    res = G.img_resolution
    tiles = to_uint8(synthesize(G, ws, noise_mode)) if len(ws) else np.zeros((0, res, res, 3), np.uint8)
    labels = [str(x) for _, w, caps in sections for x in (list(caps) + [""] * len(w))[:len(w)]]
    composition = {"kind": "sections", "cols": int(cols),
                   "sections": [{"title": t, "n": len(w), "captions": [str(x) for x in caps]}
                                for (t, _, caps), w in zip(sections, ws_list)]}
    return Figure(tiles, ws, list(range(len(ws))), int(cols), labels, composition=composition)


def compose(tiles: np.ndarray, c: dict[str, Any], padding: int, tile_size: int | None,
            nearest: bool) -> Image.Image:
    """Draw a figure whose parts are laid out other than as a grid (its `composition`)."""
    from .layouts import MIN_TILE, arithmetic_layout, draw_layout, has_greek_font, sections_layout
    t = int(tile_size) if tile_size else max(int(tiles.shape[1]), MIN_TILE)
    if c.get("kind") == "arithmetic":
        lay = arithmetic_layout(list(c["sizes"]), list(c["signs"]), int(c["neighbours"]), t, padding,
                                c.get("names"), c.get("member_labels"), c.get("sigma"), has_greek_font())
    elif c.get("kind") == "sections":
        lay = sections_layout([(s["title"], int(s["n"]), list(s["captions"])) for s in c["sections"]],
                              t, padding, int(c["cols"]))
    else:
        raise ValueError(f"unknown figure composition {c.get('kind')!r}")
    return draw_layout(tiles, lay, nearest)


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
            "labels": fig.labels if labels else None, "tile_size": tile_size,
            "composition": fig.composition}


def reproduce(G: GeneratorBase, meta: dict[str, Any], ws: np.ndarray,
              noise_mode: str = "const") -> Image.Image:
    """Render an exported figure again from its metadata and latents ([M, num_ws, w_dim])."""
    transform = None
    if "rotate" in meta or "translate" in meta:   # a StyleGAN3 figure drawn with a moved input
        from .synth import input_transform
        transform = input_transform(tuple(meta.get("translate") or (0.0, 0.0)), float(meta.get("rotate") or 0.0))
    ws = np.asarray(ws, np.float32)
    res = G.img_resolution
    imgs = (to_uint8(synthesize(G, ws, noise_mode, transform=transform)) if len(ws)
            else np.zeros((0, res, res, 3), np.uint8))          # a figure of captions only
    blank = np.full((res, res, 3), 255, np.uint8)
    layout = meta.get("layout") or list(range(len(imgs)))
    tiles = np.stack([imgs[i] if i >= 0 else blank for i in layout]) if layout else imgs
    fig = Figure(tiles, ws, layout, int(meta.get("cols") or 1), list(meta.get("labels") or []),
                 composition=meta.get("composition"))
    return fig.image(int(meta.get("padding", 2)), bool(meta.get("labels")), meta.get("tile_size"))
