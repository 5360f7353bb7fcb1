"""Direction sets for the Directions panel, with slider units a person can read.

latent.directions gives unit vectors; here each gets the standard deviation of sampled w
along it as its natural step, so slider value 1 means "one sigma" for every method (SeFa's
singular values are not in w units). Runs the mapping network: call it off the GUI thread.
"""
from __future__ import annotations

import numpy as np
import torch

from ..latent.directions import Directions, pca_directions, sefa_directions
from ..models.protocol import GeneratorBase
from .synth import seeds_to_ws


@torch.no_grad()
def compute_directions(G: GeneratorBase, method: str, k: int = 10, n_samples: int = 2000) -> Directions:
    """method 'pca' (GANSpace, the same samples as `ganexplorer directions --method pca`) or
    'sefa'; deterministic for a given model. n_samples: for SeFa's slider units."""
    if method == "pca":
        return pca_directions(G, k)
    if method != "sefa":
        raise ValueError(f"unknown direction method {method!r}; use 'pca' or 'sefa'")
    d = sefa_directions(G, k)
    w = seeds_to_ws(G, list(range(n_samples)))[:, 0].astype(np.float64)     # [n, w_dim]
    proj = (w - w.mean(axis=0)) @ d.vectors.T.astype(np.float64)           # [n, k]
    std = np.maximum(proj.std(axis=0), 1e-6).astype(np.float32)
    return Directions("sefa", d.vectors, std, d.names)
