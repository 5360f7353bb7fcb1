"""Generator output (float, [-1, 1], NCHW) to 8-bit pictures, and grids of them."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def to_uint8(img: np.ndarray) -> np.ndarray:
    """[N, C, H, W] float in [-1, 1] -> [N, H, W, 3] uint8 (grey is repeated to RGB)."""
    img = np.asarray(img, np.float32)
    if img.ndim == 3:
        img = img[None]
    x = np.clip(np.rint((img + 1) * 127.5), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x


def make_grid(tiles: np.ndarray, cols: int | None = None, padding: int = 2,
              labels: list[str] | None = None, tile_size: int | None = None,
              background: tuple[int, int, int] = (255, 255, 255),
              nearest: bool = True) -> Image.Image:
    """Tiles [N, H, W, 3] uint8 -> one RGB image, row-major, with optional labels under each."""
    tiles = np.asarray(tiles)
    n = len(tiles)
    if n == 0:
        raise ValueError("a grid needs at least one image")
    cols = max(1, min(cols or int(np.ceil(np.sqrt(n))), n))
    rows = int(np.ceil(n / cols))
    h, w = tiles.shape[1:3]
    if tile_size:
        h = w = int(tile_size)
    label_h = 14 if labels else 0
    W = cols * w + (cols + 1) * padding
    H = rows * (h + label_h) + (rows + 1) * padding
    canvas = Image.new("RGB", (W, H), background)
    draw = ImageDraw.Draw(canvas) if labels else None
    font = ImageFont.load_default() if labels else None
    resample = Image.NEAREST if nearest else Image.LANCZOS
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        x = padding + c * (w + padding)
        y = padding + r * (h + label_h + padding)
        im = Image.fromarray(tile)
        if im.size != (w, h):
            im = im.resize((w, h), resample)
        canvas.paste(im, (x, y))
        if labels and i < len(labels) and draw is not None:
            draw.text((x + 1, y + h + 1), str(labels[i]), fill=(0, 0, 0), font=font)
    return canvas
