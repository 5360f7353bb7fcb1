"""Seeds to latents, exactly as NVIDIA's gen_images.py does; random w for statistics;
truncation.

Two ways to draw z, each with one home:
  * a *seed per image* (`seed_to_z`): what the user types, NVIDIA's convention;
  * *n samples from one seed* (`sample_ws`): the w population behind GANSpace's PCA, the
    slider unit of every direction, the perturbation scale of editing and projection.
"""
from __future__ import annotations

import re

import numpy as np
import torch

from ..models.protocol import Generator, standard_normal_z
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


@torch.no_grad()
def sample_ws(G: Generator, n: int, seed: int, batch: int = 1000) -> torch.Tensor:
    """[n, w_dim] float32 on G's device: w = mapping(z, c) of n seeded random z, untruncated.

    z = RandomState(seed).randn(n, z_dim) (the z of `G.estimate_w_avg(n, seed)`); a
    conditional model gets class labels from the same RandomState, uniform over c_dim.
    Untruncated ws repeat one w on every layer, so one row per sample is all of it.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= int(seed) <= SEED_MAX:
        raise ValueError(f"seed must be between 0 and {SEED_MAX}, got {seed}")
    z = standard_normal_z(n, G.z_dim, seed)                      # [n, z_dim]
    c = None
    if G.c_dim:
        rng = np.random.RandomState(int(seed))
        rng.randn(n, G.z_dim)                                    # the same stream, past z
        c = np.eye(G.c_dim, dtype=np.float32)[rng.randint(G.c_dim, size=n)]
    dev = G.w_avg.device
    out = []
    for start in range(0, n, batch):
        zt = torch.from_numpy(z[start:start + batch]).to(dev)
        ct = torch.from_numpy(c[start:start + batch]).to(dev) if c is not None else None
        out.append(G.mapping(zt, ct)[:, 0].float())
    return torch.cat(out)


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
