"""Interpolation between latents: lerp, slerp and piecewise paths through several points."""
from __future__ import annotations

import numpy as np


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) a + t b; exact at t = 0 and t = 1."""
    a, b = np.asarray(a), np.asarray(b)
    if t == 0:
        return a.copy()
    if t == 1:
        return b.copy()
    return a + (b - a) * t


def slerp(a: np.ndarray, b: np.ndarray, t: float, eps: float = 1e-7) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents), along the last axis.

    The direction follows the great circle from a's to b's; the norm goes linearly from
    |a| to |b|. Parallel vectors fall back to lerp; exactly opposite ones have no unique
    circle, so the one through a fixed perpendicular is taken.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if t == 0:
        return a.copy()
    if t == 1:
        return b.copy()
    na = np.linalg.norm(a, axis=-1, keepdims=True)
    nb = np.linalg.norm(b, axis=-1, keepdims=True)
    ua = a / np.maximum(na, eps)
    ub = b / np.maximum(nb, eps)
    dot = np.clip(np.sum(ua * ub, axis=-1, keepdims=True), -1.0, 1.0)
    omega = np.arccos(dot)
    so = np.sin(omega)
    general = so > 1e-6
    safe = np.where(general, so, 1.0)
    direction = np.where(general,
                         np.sin((1 - t) * omega) / safe * ua + np.sin(t * omega) / safe * ub,
                         (1 - t) * ua + t * ub)                       # parallel: lerp
    opposite = (~general) & (dot < 0)
    if np.any(opposite):
        half_turn = np.cos(np.pi * t) * ua + np.sin(np.pi * t) * _perpendicular(ua)
        direction = np.where(opposite, half_turn, direction)
    direction /= np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), eps)
    return direction * ((1 - t) * na + t * nb)


def _perpendicular(u: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to each unit row of u (Gram-Schmidt on a basis vector)."""
    flat = u.reshape(-1, u.shape[-1])
    out = np.empty_like(flat)
    for i, row in enumerate(flat):
        e = np.zeros_like(row)
        e[int(np.argmin(np.abs(row)))] = 1.0
        p = e - row * np.dot(e, row)
        out[i] = p / np.linalg.norm(p)
    return out.reshape(u.shape)


def interpolate(a: np.ndarray, b: np.ndarray, t: float, method: str = "lerp") -> np.ndarray:
    if method == "lerp":
        return lerp(a, b, t)
    if method == "slerp":
        return slerp(a, b, t)
    raise ValueError(f"unknown interpolation {method!r}; use 'lerp' or 'slerp'")


def path(points: list[np.ndarray], steps: int, method: str = "lerp", loop: bool = False) -> np.ndarray:
    """`steps` latents spaced evenly in t along the polyline through `points` (two or more).

    The first frame is points[0]; the last is points[-1] (or, with loop, the frame before
    returning to points[0]). Returns [steps, *point_shape].
    """
    if len(points) < 2:
        raise ValueError("an interpolation path needs at least two points")
    if steps < 2:
        raise ValueError("an interpolation needs at least two steps")
    pts = [np.asarray(p) for p in points] + ([np.asarray(points[0])] if loop else [])
    segments = len(pts) - 1
    ts = np.arange(steps) / steps * segments if loop else np.linspace(0, segments, steps)
    frames = []
    for u in ts:
        i = min(int(np.floor(u)), segments - 1)
        frames.append(interpolate(pts[i], pts[i + 1], float(u - i), method))
    return np.stack(frames).astype(np.asarray(points[0]).dtype)
