"""Semantic directions in W: GANSpace (PCA of sampled w) and SeFa (closed form).

GANSpace (Härkönen et al. 2020): sample many w = mapping(z), take the principal axes.
SeFa (Shen & Zhou 2021): the directions n that the first linear map A acting on w moves
most, i.e. the top eigenvectors of AᵀA. Both return unit rows [k, w_dim] and a scale per
row in one unit for every method: the standard deviation of sampled w along that row
(`sample_ws(G, n_samples, seed)`), so alpha = 1 on a slider or `--alpha` means "one sigma"
whichever method found the direction. (SeFa's eigenvalues rank the rows but are not in
w units: the CLI and the window both show the sigma.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models.protocol import Generator
from .sampling import sample_ws

METHODS = ("pca", "sefa")


@dataclass
class Directions:
    method: str            # 'pca' | 'sefa' | 'labelled' | 'saved'
    vectors: np.ndarray    # [k, w_dim], unit rows
    scales: np.ndarray     # [k] std of sampled w along each row: slider 1 = one sigma
    names: list[str]
    accuracy: np.ndarray | None = None  # [k] held-out accuracy of labelled directions (latent.labelled)

    def save(self, path) -> None:
        from ..atomic import atomic_path
        extra = {} if self.accuracy is None else {"accuracy": np.asarray(self.accuracy, np.float32)}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, method=self.method, vectors=self.vectors.astype(np.float32),
                         scales=self.scales.astype(np.float32), names=np.array(self.names), **extra)

    @classmethod
    def load(cls, path) -> "Directions":
        with np.load(path, allow_pickle=False) as d:
            return cls(str(d["method"]), d["vectors"], d["scales"], [str(n) for n in d["names"]],
                       d["accuracy"] if "accuracy" in d.files else None)


@torch.no_grad()
def pca_directions(G: Generator, k: int = 10, n_samples: int = 10_000, seed: int = 0) -> Directions:
    """Top-k principal axes of w over n_samples z ~ N(0, I) (GANSpace)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    w = sample_ws(G, n_samples, seed).double().cpu().numpy()     # [n, w_dim]
    w = w - w.mean(axis=0, keepdims=True)
    # SVD of the centred samples: rows of vt are the principal axes.
    _, s, vt = np.linalg.svd(w, full_matrices=False)
    k = min(k, vt.shape[0])
    std = s[:k] / np.sqrt(max(len(w) - 1, 1))
    return Directions("pca", _sign_fix(vt[:k]).astype(np.float32), std.astype(np.float32),
                      [f"PCA {i}" for i in range(k)])


@torch.no_grad()
def sefa_directions(G: Generator, k: int = 10, n_samples: int = 10_000, seed: int = 0) -> Directions:
    """Top-k eigenvectors of AᵀA, A = the first linear map acting on w (SeFa); scales: the
    std of n_samples seeded w along each (the unit PCA's scales have)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    A = G.sefa_weights().double().cpu().numpy()                # [out, d]
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)  # SeFa normalises rows
    eigval, eigvec = np.linalg.eigh(A.T @ A)                    # ascending
    order = np.argsort(eigval)[::-1][:k]
    vecs = eigvec[:, order].T                                   # [k, d]
    if vecs.shape[1] < G.w_dim:  # conditional DCGAN: directions move z, never the label
        vecs = np.pad(vecs, ((0, 0), (0, G.w_dim - vecs.shape[1])))
    vecs = _sign_fix(vecs)
    w = sample_ws(G, n_samples, seed).double().cpu().numpy()     # [n, w_dim]
    scales = np.maximum(((w - w.mean(axis=0)) @ vecs.T).std(axis=0), 1e-6)
    return Directions("sefa", vecs.astype(np.float32), scales.astype(np.float32),
                      [f"SeFa {i}" for i in range(len(order))])


def find_directions(G: Generator, method: str, k: int = 10, n_samples: int = 10_000,
                    seed: int = 0) -> Directions:
    """`method` 'pca' or 'sefa' (what `ganexplorer directions --method` and the Directions
    panel both call); deterministic for a given model, seed and n_samples."""
    if method == "pca":
        return pca_directions(G, k, n_samples, seed)
    if method == "sefa":
        return sefa_directions(G, k, n_samples, seed)
    raise ValueError(f"unknown direction method {method!r}; use one of {', '.join(METHODS)}")


def apply_direction(ws: np.ndarray, direction: np.ndarray, alpha: float,
                    layers: tuple[int, int] | None = None) -> np.ndarray:
    """ws [..., num_ws, w_dim] + alpha * direction on layers [start, stop) (all by default)."""
    out = np.array(ws, copy=True, dtype=np.float32)
    start, stop = layers if layers is not None else (0, out.shape[-2])
    out[..., start:stop, :] += np.float32(alpha) * np.asarray(direction, np.float32)
    return out


def _sign_fix(vecs: np.ndarray) -> np.ndarray:
    """Make each row's largest component positive, so results do not flip between runs."""
    idx = np.argmax(np.abs(vecs), axis=1)
    signs = np.sign(vecs[np.arange(len(vecs)), idx])
    return vecs * np.where(signs == 0, 1, signs)[:, None]
