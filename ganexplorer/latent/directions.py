"""Semantic directions in W: GANSpace (PCA of sampled w) and SeFa (closed form).

GANSpace (Härkönen et al. 2020): sample many w = mapping(z), take the principal axes.
SeFa (Shen & Zhou 2021): the directions n that the first linear map A acting on w moves
most, i.e. the top eigenvectors of AᵀA. Both return unit rows [k, w_dim] and a scale per
row (the standard deviation of w along it for PCA, the singular value for SeFa).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models.protocol import GeneratorBase


@dataclass
class Directions:
    method: str            # 'pca' | 'sefa' | 'saved'
    vectors: np.ndarray    # [k, w_dim], unit rows
    scales: np.ndarray     # [k] natural step size per direction
    names: list[str]

    def save(self, path) -> None:
        from ..atomic import atomic_path
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, method=self.method, vectors=self.vectors.astype(np.float32),
                         scales=self.scales.astype(np.float32), names=np.array(self.names))

    @classmethod
    def load(cls, path) -> "Directions":
        with np.load(path, allow_pickle=False) as d:
            return cls(str(d["method"]), d["vectors"], d["scales"], [str(n) for n in d["names"]])


@torch.no_grad()
def pca_directions(G: GeneratorBase, k: int = 10, n_samples: int = 10_000, seed: int = 0,
                   batch: int = 1000) -> Directions:
    """Top-k principal axes of w over n_samples z ~ N(0, I) (GANSpace)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    gen = torch.Generator().manual_seed(seed)
    ws = []
    for start in range(0, n_samples, batch):
        n = min(batch, n_samples - start)
        z = torch.randn(n, G.z_dim, generator=gen).to(G.w_avg.device)
        c = _random_labels(G.c_dim, n, gen).to(z.device) if G.c_dim else None
        ws.append(G.mapping(z, c)[:, 0].double().cpu())       # [n, w_dim]
    w = torch.cat(ws).numpy()
    w = w - w.mean(axis=0, keepdims=True)
    # SVD of the centred samples: rows of vt are the principal axes.
    _, s, vt = np.linalg.svd(w, full_matrices=False)
    k = min(k, vt.shape[0])
    std = s[:k] / np.sqrt(max(len(w) - 1, 1))
    return Directions("pca", _sign_fix(vt[:k]).astype(np.float32), std.astype(np.float32),
                      [f"PCA {i}" for i in range(k)])


@torch.no_grad()
def sefa_directions(G: GeneratorBase, k: int = 10) -> Directions:
    """Top-k eigenvectors of AᵀA, A = the first linear map acting on w (SeFa)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    A = G.sefa_weights().double().cpu().numpy()                # [out, d]
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)  # SeFa normalises rows
    eigval, eigvec = np.linalg.eigh(A.T @ A)                    # ascending
    order = np.argsort(eigval)[::-1][:k]
    vecs = eigvec[:, order].T                                   # [k, d]
    if vecs.shape[1] < G.w_dim:  # conditional DCGAN: directions move z, never the label
        vecs = np.pad(vecs, ((0, 0), (0, G.w_dim - vecs.shape[1])))
    scales = np.sqrt(np.maximum(eigval[order], 0))
    return Directions("sefa", _sign_fix(vecs).astype(np.float32), scales.astype(np.float32),
                      [f"SeFa {i}" for i in range(len(order))])


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


def _random_labels(c_dim: int, n: int, gen: torch.Generator) -> torch.Tensor:
    idx = torch.randint(c_dim, (n,), generator=gen)
    return torch.nn.functional.one_hot(idx, c_dim).float()
