"""The reference back end: the generator's own PyTorch forward pass, float32 on a CPU."""
from __future__ import annotations

import torch

from ...models.protocol import GeneratorBase

NAME = "eager"


@torch.no_grad()
def run(G: GeneratorBase, ws: torch.Tensor, noise_mode: str = "const", **kwargs) -> torch.Tensor:
    """ws [N, num_ws, w_dim] -> image [N, C, R, R] float32."""
    return G.synthesis(ws, noise_mode=noise_mode, **kwargs).float()
