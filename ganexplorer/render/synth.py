"""The generator calls every front end shares: seeds -> ws, ws -> images, in batches.

Plain functions, no threads: the CLI calls them directly, the render thread calls them
off the GUI thread.
"""
from __future__ import annotations

import numpy as np
import torch

from ..latent.sampling import class_labels, seeds_to_z
from ..models.protocol import GeneratorBase


@torch.no_grad()
def z_to_ws(G: GeneratorBase, z: np.ndarray, c: np.ndarray | None = None, psi: float = 1.0,
            truncation_cutoff: int | None = None) -> np.ndarray:
    """z [N, z_dim] (+ c [N, c_dim]) -> ws [N, num_ws, w_dim] float32."""
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != G.z_dim:
        raise ValueError(f"z must have shape [N, {G.z_dim}] for this model, got {list(z.shape)}")
    if G.c_dim:
        if c is None:
            raise ValueError(f"this model is conditional: give class labels [N, {G.c_dim}]")
        c = np.asarray(c, np.float32)
        if c.shape != (z.shape[0], G.c_dim):
            raise ValueError(f"c must have shape [{z.shape[0]}, {G.c_dim}], got {list(c.shape)}")
    dev = G.w_avg.device
    ct = torch.from_numpy(c).to(dev) if G.c_dim else None
    ws = G.mapping(torch.from_numpy(z).to(dev), ct, psi=psi, truncation_cutoff=truncation_cutoff)
    return ws.float().cpu().numpy()


def seeds_to_ws(G: GeneratorBase, seeds: list[int], psi: float = 1.0,
                truncation_cutoff: int | None = None) -> np.ndarray:
    """NVIDIA's gen_images.py convention: z from RandomState(seed), class = seed % c_dim."""
    return z_to_ws(G, seeds_to_z(seeds, G.z_dim), class_labels(seeds, G.c_dim) if G.c_dim else None,
                   psi, truncation_cutoff)


@torch.no_grad()
def synthesize(G: GeneratorBase, ws: np.ndarray, noise_mode: str = "const",
               batch_size: int = 16) -> np.ndarray:
    """ws [N, num_ws, w_dim] -> raw float32 images [N, C, H, W] (unclamped)."""
    ws = np.asarray(ws, np.float32)
    G.check_ws(torch.from_numpy(ws[:1]) if len(ws) else torch.empty(0))
    dev = G.w_avg.device
    out = []
    for start in range(0, len(ws), batch_size):
        chunk = torch.from_numpy(ws[start:start + batch_size]).to(dev)
        out.append(G.synthesis(chunk, noise_mode=noise_mode).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, G.img_channels, G.img_resolution,
                                                      G.img_resolution), np.float32)
