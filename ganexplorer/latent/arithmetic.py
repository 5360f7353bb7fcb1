"""Vector arithmetic on averaged latents (Radford et al. 2016, fig. 7).

Each concept ("smiling woman") is the mean of a few latents; concepts combine with signs
(A - B + C); noisy neighbours around the result show how robust it is (the paper adds
uniform noise of scale 0.25 in Z; we use Gaussian noise of a chosen sigma, reproducibly).
"""
from __future__ import annotations

import numpy as np

# The neighbours' default noise, chosen by looking at the figure on the bundled MNIST DCGAN
# and the sample faces DCGAN: at 0.25 the neighbours are nearly copies of the result (mean
# pixel change about 4 % of the range), at 1.0 they are other faces; at 0.5 they visibly
# vary (hair, hat, pose) and still read as the result.
DEFAULT_SIGMA = 0.5


def group_mean(latents: np.ndarray) -> np.ndarray:
    """[K, ...] -> [...]: the average of one concept's latents."""
    latents = np.asarray(latents)
    if latents.ndim < 2 or latents.shape[0] == 0:
        raise ValueError("a group needs at least one latent")
    return latents.mean(axis=0)


def combine(means: list[np.ndarray], signs: list[float]) -> np.ndarray:
    """sum_i signs[i] * means[i], e.g. signs (+1, -1, +1) for A - B + C."""
    if len(means) != len(signs) or not means:
        raise ValueError("give one sign per group, and at least one group")
    out = np.zeros_like(np.asarray(means[0], dtype=np.float64))
    for m, s in zip(means, signs):
        out = out + float(s) * np.asarray(m, dtype=np.float64)
    return out.astype(np.asarray(means[0]).dtype)


def arithmetic(groups: list[np.ndarray], signs: list[float]) -> np.ndarray:
    """Average each group of latents [K_i, ...], then combine with signs."""
    return combine([group_mean(g) for g in groups], signs)


def neighbours(center: np.ndarray, n: int, sigma: float, seed: int = 0) -> np.ndarray:
    """[n, ...]: center + sigma * N(0, I), reproducible for a given seed."""
    if n < 0 or sigma < 0:
        raise ValueError("n and sigma must not be negative")
    center = np.asarray(center)
    noise = np.random.RandomState(seed).randn(n, *center.shape)
    return (center[None] + sigma * noise).astype(center.dtype)
