"""What the latent optimisers (brush editing, projection) share: the cancel test, the latent
space to optimise, the spread of w, and whether a discriminator looks across the batch.

Public names so that `edit.py` and `project.py` import this module and never each other's
private helpers.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..models.protocol import GeneratorBase
from .sampling import sample_ws

# A cancel test: a callable returning True to stop (a threading.Event is accepted too).
CancelFn = Callable[[], bool]


def is_cancelled(cancel) -> bool:
    """True when `cancel` (None, a callable, or an object with is_set()) asks to stop."""
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def resolve_space(G: GeneratorBase, ws_start: torch.Tensor, space: str) -> str:
    """'auto' -> 'z' for a DCGAN; for StyleGAN 'w' when all layers share one w, else 'w+'."""
    styles = G.has_styles
    if space == "auto":
        if not styles:
            return "z"
        same = bool(torch.allclose(ws_start, ws_start[:, :1].expand_as(ws_start), atol=1e-6))
        return "w" if same else "w+"
    if not styles and space in ("w", "w+"):
        return "w"   # a DCGAN's w is z: optimise it without the prior constraint
    if styles and space == "z":
        raise ValueError("editing in Z is for DCGANs; a StyleGAN model edits w or w+")
    return space


def w_std(G: GeneratorBase, seed: int, n: int = 1000) -> torch.Tensor:
    """[w_dim] per-dimension std of n seeded samples of w (scales StyleGAN perturbations)."""
    return sample_ws(G, n, seed).std(0)


def has_batch_statistics(D: nn.Module) -> bool:
    """True when D looks across the batch (StyleGAN's minibatch standard deviation): such a D
    must score images one by one, or the candidates of one run judge each other."""
    return any(type(m).__name__ == "MinibatchStdLayer" for m in D.modules())
