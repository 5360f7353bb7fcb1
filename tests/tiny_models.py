"""Tiny models made in the tests (real networks, small enough for a 2-core CI)."""
from __future__ import annotations

from pathlib import Path

import torch

from ganexplorer.models.checkpoint import save_checkpoint
from ganexplorer.models.dcgan import DCGANGenerator


def tiny_dcgan(seed: int = 0, **kw) -> DCGANGenerator:
    torch.manual_seed(seed)
    args = dict(z_dim=16, img_resolution=16, img_channels=3, ngf=8)
    args.update(kw)
    G = DCGANGenerator(**args)
    # Random BatchNorm statistics so that eval-mode outputs are not near zero.
    for m in G.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.01, 0.05)
    return G.eval()


def save_tiny_dcgan(path: Path, seed: int = 0, **kw) -> Path:
    save_checkpoint(path, {"G": tiny_dcgan(seed, **kw)}, {"name": "tiny test DCGAN", "licence": "test"})
    return path
