"""The Generator protocol every model satisfies, and the base class that implements it.

Names follow the StyleGAN papers and NVIDIA's code: `z` is the input latent, `w` the
intermediate latent, `ws` one `w` per synthesis layer ([N, num_ws, w_dim]), `c` the class
label (one-hot, [N, c_dim]), `psi` the truncation strength. A DCGAN has no mapping network:
its `w` *is* `z` and `num_ws` is 1.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

NOISE_MODES = ("const", "random", "none")


@runtime_checkable
class Generator(Protocol):
    kind: str              # 'dcgan' | 'stylegan2' | ...
    z_dim: int             # input latent size
    c_dim: int             # conditioning label size, 0 = unconditional
    w_dim: int             # intermediate latent size (= z_dim for a DCGAN)
    num_ws: int            # number of w vectors the synthesis consumes (1 for a DCGAN)
    img_resolution: int    # output height = width
    img_channels: int      # 1 (grey) or 3 (RGB)
    w_avg: torch.Tensor    # [w_dim] centre of truncation

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor: ...

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor: ...


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float,
             truncation_cutoff: int | None = None) -> torch.Tensor:
    """The truncation trick: w = w_avg + psi * (w - w_avg) on layers [0, cutoff).

    ws: [N, num_ws, w_dim]; w_avg: [w_dim]. cutoff None means every layer.
    """
    if psi == 1:
        return ws
    center = w_avg.to(ws.dtype).reshape(1, 1, -1)
    out = center + psi * (ws - center)
    if truncation_cutoff is None or truncation_cutoff >= ws.shape[1]:
        return out
    return torch.cat([out[:, :truncation_cutoff], ws[:, truncation_cutoff:]], dim=1)


class GeneratorBase(nn.Module):
    """Shared behaviour: argument checks, forward = synthesis(mapping(...)), config().

    Subclasses set the dimension attributes, implement `_map(z, c) -> ws` (untruncated)
    and `synthesis`, and list their constructor arguments in `config()` so that
    `type(G)(**G.config())` rebuilds the same architecture.
    """

    kind = "generator"
    has_styles = False   # True when ws rows can be mixed (StyleGAN family)
    ws_per_resolution = 2  # styles per resolution block (paper pairing; lucidrains' has 1)

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """z [N, z_dim], c [N, c_dim] or None -> ws [N, num_ws, w_dim]."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        if self.c_dim:
            if c is None or c.shape != (z.shape[0], self.c_dim):
                raise ValueError(f"this model is conditional: c must be [N, {self.c_dim}]")
        else:
            c = None
        ws = self._map(z, c)
        return truncate(ws, self.w_avg, psi, truncation_cutoff)

    def check_ws(self, ws: torch.Tensor) -> None:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def estimate_w_avg(self, n: int = 10_000, seed: int = 123) -> torch.Tensor:
        """[w_dim] mean untruncated w over n seeded z ~ N(0, I), for files that store no
        truncation centre (NVIDIA's projector estimates w_avg from 10,000 samples too)."""
        was_training = self.training
        self.eval()   # eval: the StyleGAN2 mapping must not update its own w_avg here
        z = torch.from_numpy(np.random.RandomState(seed).randn(n, self.z_dim).astype(np.float32))
        w = self._map(z.to(self.w_avg.device), None)[:, 0].mean(dim=0)
        self.train(was_training)
        return w

    def sefa_weights(self) -> torch.Tensor:
        """[out, w_dim]: the linear map that first acts on w, for SeFa's closed form."""
        raise NotImplementedError

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, c, psi, truncation_cutoff), noise_mode=noise_mode)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
