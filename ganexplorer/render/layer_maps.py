"""Pictures of one synthesis layer: its strongest channels, one channel, the per-pixel feature
norm, and the centred 2-D spectrum of a map or of the image. Plain numpy, no torch, no Qt.

Feature maps are [C, H, W] float arrays (one sample of `G.synthesis_features`). A channel's
strength is its mean activation magnitude, mean(|f_c|) over the pixels (the ranking the layer
viewer's grid shows). Pictures come out as [H, W, 3] uint8:

- signed maps (a channel) on a diverging scale: blue < 0, grey = 0, red > 0, each channel
  scaled by its own largest |value| so weak channels stay readable;
- magnitudes (the norm, a spectrum) on a sequential scale (dark to light) from min to max.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

MODES = ("grid", "channel", "norm")      # strongest channels | one channel enlarged | ||f|| per pixel
SPECTRA = ("off", "layer", "image")      # no spectrum | of the map shown | of the output image
GAP_RGB = (40, 40, 40)                   # between the tiles of a grid
FFT_CHUNK = 1 << 22                      # map pixels transformed at once (32 MiB of complex64)

# Anchor colours, interpolated linearly: a cool-warm diverging scale (signed values) and a
# magma-like sequential one (magnitudes). Values in [0, 255].
_DIVERGING = np.array([[59, 76, 192], [141, 176, 254], [221, 221, 221], [244, 154, 123], [180, 4, 38]],
                      np.float32)
_SEQUENTIAL = np.array([[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]],
                       np.float32)


def check_maps(feat: np.ndarray) -> np.ndarray:
    """feat as float32 [C, H, W], or ValueError naming the shape it has."""
    feat = np.asarray(feat, np.float32)
    if feat.ndim != 3 or min(feat.shape) < 1:
        raise ValueError(f"feature maps must be [C, H, W], got {list(feat.shape)}")
    return feat


def channel_strength(feat: np.ndarray) -> np.ndarray:
    """[C]: mean |activation| of each channel over its pixels."""
    return np.abs(check_maps(feat)).mean(axis=(1, 2))


def strongest_channels(feat: np.ndarray, k: int) -> np.ndarray:
    """The indices of the k channels of largest mean |activation|, strongest first (equal
    strengths: lower index first). k is capped at the channel count."""
    strength = channel_strength(feat)
    k = max(1, min(int(k), len(strength)))
    return np.argsort(-strength, kind="stable")[:k]


def feature_norm(feat: np.ndarray) -> np.ndarray:
    """[H, W]: the L2 norm of each pixel's feature vector, sqrt(sum_c f_c²)."""
    return np.sqrt(np.square(check_maps(feat)).sum(axis=0))


def spectrum(maps: np.ndarray) -> np.ndarray:
    """[H, W] log(1 + |FFT|) of a map [H, W], or averaged over the maps of [K, H, W] (the
    magnitudes are averaged, so channels with opposite phases do not cancel). Each map's mean
    is removed first (the DC term would swamp the scale), and the spectrum is centred: zero
    frequency at (H // 2, W // 2), a sinusoid of k cycles across the width shows at W // 2 ± k."""
    maps = np.asarray(maps, np.float32)   # numpy >= 2 transforms float32 in complex64: half the work
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3 or min(maps.shape) < 1:
        raise ValueError(f"a spectrum needs a map [H, W] or maps [K, H, W], got {list(maps.shape)}")
    K, H, W = maps.shape
    mag = np.zeros((H, W), np.float64)
    step = max(1, FFT_CHUNK // (H * W))     # a few maps at a time: a 1024² layer's complex
    for start in range(0, K, step):         # spectra would take gigabytes all at once
        chunk = maps[start:start + step]
        chunk = chunk - chunk.mean(axis=(1, 2), keepdims=True)
        mag += np.abs(np.fft.fft2(chunk, axes=(1, 2))).sum(axis=0)
    return np.log1p(np.fft.fftshift(mag / K)).astype(np.float32)


def image_luma(img: np.ndarray) -> np.ndarray:
    """[C, H, W] generator output -> [H, W] its brightness (Rec. 601 weights; grey as is)."""
    img = np.asarray(img, np.float32)
    if img.ndim != 3 or img.shape[0] not in (1, 3):
        raise ValueError(f"an image must be [1 or 3, H, W], got {list(img.shape)}")
    if img.shape[0] == 1:
        return img[0]
    return 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]


def _ramp(t: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """t in [0, 1] (NaN: the gap colour) -> [..., 3] uint8 along the anchor colours."""
    nan = np.isnan(t)
    x = np.clip(np.nan_to_num(t), 0, 1) * (len(anchors) - 1)
    i = np.minimum(x.astype(np.int64), len(anchors) - 2)
    f = (x - i)[..., None]
    rgb = anchors[i] * (1 - f) + anchors[i + 1] * f
    rgb[nan] = GAP_RGB
    return np.rint(rgb).astype(np.uint8)


def colour_signed(a: np.ndarray, scale: float | None = None) -> np.ndarray:
    """[H, W] -> [H, W, 3] uint8 on the diverging scale: -scale blue, 0 grey, +scale red
    (scale None: the largest |value|). NaN pixels get the gap colour."""
    a = np.asarray(a, np.float32)
    if scale is None:
        finite = np.abs(a[np.isfinite(a)])
        scale = float(finite.max()) if finite.size else 1.0
    scale = scale if scale > 0 else 1.0
    return _ramp(0.5 + 0.5 * a / scale, _DIVERGING)


def colour_magnitude(a: np.ndarray) -> np.ndarray:
    """[H, W] -> [H, W, 3] uint8 on the sequential scale, its minimum dark, its maximum light
    (a constant map is all dark). NaN pixels get the gap colour."""
    a = np.asarray(a, np.float32)
    finite = a[np.isfinite(a)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return _ramp((a - lo) / (hi - lo) if hi > lo else np.where(np.isnan(a), np.nan, 0.0), _SEQUENTIAL)


def grid_shape(k: int) -> tuple[int, int]:
    """(rows, cols) of a near-square grid for k tiles, wider than tall."""
    cols = int(np.ceil(np.sqrt(k)))
    return int(np.ceil(k / cols)), cols


def tile(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """[K, H, W] -> one [rows*H + (rows-1)*gap, cols*W + (cols-1)*gap] map, row-major, with
    NaN in the gaps and the unused cells (they take the gap colour)."""
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3 or len(maps) == 0:
        raise ValueError(f"tiling needs maps [K, H, W], got {list(maps.shape)}")
    K, H, W = maps.shape
    rows, cols = grid_shape(K)
    out = np.full((rows * H + (rows - 1) * gap, cols * W + (cols - 1) * gap), np.nan, np.float32)
    for n in range(K):
        r, c = divmod(n, cols)
        out[r * (H + gap):r * (H + gap) + H, c * (W + gap):c * (W + gap) + W] = maps[n]
    return out


def shrink(maps: np.ndarray, factor: int) -> np.ndarray:
    """[K, H, W] -> [K, H // factor, W // factor]: the mean of each factor x factor block (the
    remainder rows and columns are dropped)."""
    if factor <= 1:
        return maps
    K, H, W = maps.shape
    h, w = max(1, H // factor), max(1, W // factor)
    f = min(factor, H, W)
    return maps[:, :h * f, :w * f].reshape(K, h, f, w, f).mean(axis=(2, 4))


def channel_grid(feat: np.ndarray, channels: np.ndarray, max_side: int | None = None) -> np.ndarray:
    """[H', W', 3] uint8: the chosen channels of feat [C, H, W] tiled, each on its own signed
    scale (divided by its own largest |value|). max_side: block-average big maps first so the
    grid is not much wider than that (64 maps of a 1024² layer would be 8k x 8k pixels)."""
    feat = check_maps(feat)
    chosen = feat[np.asarray(channels, np.int64)]
    if max_side:
        cols = grid_shape(len(chosen))[1]
        chosen = shrink(chosen, (cols * chosen.shape[2]) // max_side)
    peak = np.abs(chosen).max(axis=(1, 2), keepdims=True)
    scaled = chosen / np.where(peak > 0, peak, 1.0)
    return colour_signed(tile(scaled), scale=1.0)


def fit(rgb: np.ndarray, size: int) -> np.ndarray:
    """[h, w, 3] uint8 -> [size, size, 3]: scaled up with nearest neighbour (so each pixel of a
    feature map stays a sharp square) to fit, then centred on the gap colour."""
    rgb = np.asarray(rgb, np.uint8)
    h, w = rgb.shape[:2]
    f = size / max(h, w)
    nh, nw = max(1, min(size, round(h * f))), max(1, min(size, round(w * f)))
    scaled = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.NEAREST))
    out = np.empty((size, size, 3), np.uint8)
    out[:] = GAP_RGB
    y, x = (size - nh) // 2, (size - nw) // 2
    out[y:y + nh, x:x + nw] = scaled
    return out
