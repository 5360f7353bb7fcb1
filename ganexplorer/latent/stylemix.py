"""Style mixing (Karras et al. 2019, fig. 3): copy some layers' w from one latent to another.

Layers pair up by resolution as in the paper: layers 2k and 2k+1 belong to 4 * 2**k, so an
18-layer 1024² model has coarse 0–3 (4²–8²), middle 4–7 (16²–32²) and fine 8–17 (64² and up).
(StyleGAN2 shares each toRGB style with the next block's first convolution; the paper's
pairing is what people name and what NVIDIA's figure scripts use.) Generators with one
style per resolution (lucidrains') pass per_res=1: see `GeneratorBase.ws_per_resolution`.

StyleGAN3 has no resolution blocks; each of its layers works at a sampling rate that grows
from the input's (16 in NVIDIA's configurations) to the output resolution. There the
presets split that span into thirds on a log scale (`rates`, from
`G.ws_sampling_rates()`): coarse the lowest third of log2(rate), middle the next, fine the
top third (a 1024² model: coarse 16–32, middle 64–128, fine 256–1024).
"""
from __future__ import annotations

import math
import re

import numpy as np

PRESETS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 1 << 30)}


def layer_resolution(i: int, img_resolution: int, per_res: int = 2) -> int:
    return min(4 * 2 ** (i // per_res), img_resolution)


def rate_tier(rate: float, rates: list[float]) -> str:
    """'coarse' | 'middle' | 'fine' for a layer at `rate` among a model's `rates`."""
    lo, hi = math.log2(min(rates)), math.log2(max(rates))
    pos = (math.log2(rate) - lo) / (hi - lo) if hi > lo else 0.0
    return "coarse" if pos < 1 / 3 else ("middle" if pos < 2 / 3 else "fine")


def layer_ranges(num_ws: int, img_resolution: int, per_res: int = 2,
                 rates: list[float] | None = None) -> dict[str, tuple[int, int]]:
    """{'coarse': (start, stop), ...} as half-open index ranges; empty ranges are left out.
    `rates` [num_ws]: per-layer sampling rates (StyleGAN3) instead of resolution blocks."""
    out = {}
    for name, (lo, hi) in PRESETS.items():
        if rates is not None:
            idx = [i for i in range(num_ws) if rate_tier(rates[i], rates) == name]
        else:
            idx = [i for i in range(num_ws) if lo <= layer_resolution(i, img_resolution, per_res) <= hi]
        if idx:
            out[name] = (idx[0], idx[-1] + 1)
    return out


def resolve_layers(spec: str | tuple[int, int], num_ws: int, img_resolution: int,
                   per_res: int = 2, rates: list[float] | None = None) -> tuple[int, int]:
    """'coarse' | 'middle' | 'fine' | 'I-J' (inclusive) | (start, stop) -> half-open (start, stop)."""
    if num_ws < 2:
        raise ValueError("this model has a single latent (no styles per layer), so it cannot mix styles")
    if isinstance(spec, tuple):
        start, stop = spec
    else:
        text = spec.strip().lower()
        ranges = layer_ranges(num_ws, img_resolution, per_res, rates)
        if text in PRESETS:
            if text not in ranges:
                raise ValueError(f"a {img_resolution}x{img_resolution} model has no {text} layers")
            return ranges[text]
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text) or re.fullmatch(r"(\d+)", text)
        if not m:
            raise ValueError(f"layers {spec!r}: use coarse, middle, fine or a range like 0-3")
        start = int(m.group(1))
        stop = int(m.group(m.lastindex)) + 1
    if not 0 <= start < stop <= num_ws:
        raise ValueError(f"layers {start}-{stop - 1} are outside 0-{num_ws - 1}")
    return start, stop


def mix(ws_dst: np.ndarray, ws_src: np.ndarray, layers: tuple[int, int]) -> np.ndarray:
    """Copy layers [start, stop) of ws_src into ws_dst. Both [..., num_ws, w_dim]."""
    start, stop = layers
    out = np.array(ws_dst, copy=True)
    out[..., start:stop, :] = np.asarray(ws_src)[..., start:stop, :]
    return out
