"""Seeds to latents, exactly as NVIDIA's gen_images.py does, and truncation."""
from __future__ import annotations

import re

import numpy as np

from ..models.protocol import truncate  # noqa: F401  (re-exported: truncation is latent math)

SEED_MAX = 2**32 - 1   # RandomState accepts 0 .. 2**32 - 1


def seed_to_z(seed: int, z_dim: int) -> np.ndarray:
    """[z_dim] float32: np.random.RandomState(seed).randn(z_dim), NVIDIA's convention."""
    if not 0 <= int(seed) <= SEED_MAX:
        raise ValueError(f"seed must be between 0 and {SEED_MAX}, got {seed}")
    return np.random.RandomState(int(seed)).randn(z_dim).astype(np.float32)


def seeds_to_z(seeds: list[int], z_dim: int) -> np.ndarray:
    """[N, z_dim] float32, one row per seed."""
    return np.stack([seed_to_z(s, z_dim) for s in seeds]).reshape(len(seeds), z_dim)


def class_labels(seeds: list[int], c_dim: int) -> np.ndarray:
    """[N, c_dim] one-hot labels, class = seed % c_dim (empty when unconditional)."""
    c = np.zeros((len(seeds), c_dim), np.float32)
    if c_dim:
        c[np.arange(len(seeds)), np.asarray(seeds) % c_dim] = 1
    return c


_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_seeds(text: str, limit: int = 100_000) -> list[int]:
    """'0-3,7,10-11' -> [0, 1, 2, 3, 7, 10, 11]. Raises ValueError with the bad part named."""
    seeds: list[int] = []
    parts = [p for p in str(text).split(",")]
    if not str(text).strip():
        raise ValueError("no seeds given; write them like 0-15 or 1,5,9")
    for part in parts:
        m = _RANGE.match(part)
        if not m:
            raise ValueError(f"{part.strip()!r} is not a seed or a range like 0-15")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise ValueError(f"seed range {lo}-{hi} runs backwards; write {hi}-{lo}")
        if hi > SEED_MAX:
            raise ValueError(f"seed {hi} is larger than {SEED_MAX}")
        if len(seeds) + hi - lo + 1 > limit:
            raise ValueError(f"more than {limit} seeds requested")
        seeds.extend(range(lo, hi + 1))
    return seeds
