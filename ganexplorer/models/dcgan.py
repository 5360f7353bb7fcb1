"""DCGAN generator (Radford et al. 2016) for any power-of-two resolution 16..256.

The layer layout is pytorch/examples' `dcgan/main.py` exactly (an `nn.Sequential` named
`main`: ConvTranspose, BatchNorm, ReLU triplets, then ConvTranspose + Tanh), so its state
dicts load into this class unchanged. Channels halve at every up-sampling and end at `ngf`.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .protocol import GeneratorBase


def dcgan_channels(img_resolution: int, ngf: int, channel_max: int) -> list[int]:
    """Channels after each transposed convolution but the last: [C at 4x4, C at 8x8, ...]."""
    n_up = int(math.log2(img_resolution)) - 2   # 4x4 -> img_resolution
    return [min(ngf * 2 ** (n_up - 1 - i), channel_max) for i in range(n_up)]


class DCGANGenerator(GeneratorBase):
    kind = "dcgan"

    def __init__(self,
                 z_dim: int = 100,                 # nz in the DCGAN code
                 img_resolution: int = 64,         # power of two, 16..256
                 img_channels: int = 3,            # nc: 1 or 3
                 ngf: int = 64,                    # channels of the last hidden layer
                 channel_max: int = 512,           # cap on channels near 4x4
                 c_dim: int = 0,                   # one-hot label size fed beside z (conditional)
                 channels: list[int] | None = None,  # explicit widths (from a foreign file)
                 bias: bool = False):              # pytorch/examples uses bias-free convs
        super().__init__()
        if img_resolution not in (16, 32, 64, 128, 256):
            raise ValueError(f"img_resolution must be a power of two from 16 to 256, got {img_resolution}")
        if img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, got {img_channels}")
        self.z_dim, self.c_dim = int(z_dim), int(c_dim)
        self.w_dim = self.z_dim + self.c_dim
        self.num_ws = 1
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        self.ngf, self.channel_max, self.bias = int(ngf), int(channel_max), bool(bias)
        chans = list(channels) if channels else dcgan_channels(img_resolution, ngf, channel_max)
        if len(chans) != int(math.log2(img_resolution)) - 2:
            raise ValueError(f"{len(chans)} hidden layers cannot make {img_resolution}x{img_resolution}")
        self.channels = [int(ch) for ch in chans]
        layers: list[nn.Module] = []
        in_ch = self.w_dim
        for i, ch in enumerate(self.channels):
            stride, pad = (1, 0) if i == 0 else (2, 1)
            layers += [nn.ConvTranspose2d(in_ch, ch, 4, stride, pad, bias=self.bias),
                       nn.BatchNorm2d(ch), nn.ReLU(True)]
            in_ch = ch
        layers += [nn.ConvTranspose2d(in_ch, self.img_channels, 4, 2, 1, bias=self.bias), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        # No mapping network: the prior's mean (0) is the truncation centre.
        self.register_buffer("w_avg", torch.zeros(self.w_dim), persistent=False)

    def config(self) -> dict[str, Any]:
        return dict(z_dim=self.z_dim, img_resolution=self.img_resolution,
                    img_channels=self.img_channels, ngf=self.ngf, channel_max=self.channel_max,
                    c_dim=self.c_dim, channels=self.channels, bias=self.bias)

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        w = z if c is None else torch.cat([z, c.to(z.dtype)], dim=1)
        return w[:, None, :]   # [N, 1, w_dim]

    def mapping(self, z, c=None, psi=1.0, truncation_cutoff=None):
        # Truncate only z toward the prior mean; a label is never scaled.
        ws = super().mapping(z, c, 1.0)
        if psi != 1:
            ws = torch.cat([ws[..., :self.z_dim] * psi, ws[..., self.z_dim:]], dim=2)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        self.check_ws(ws)
        return self.main(ws[:, 0, :, None, None])   # [N, C, H, W] in [-1, 1]

    def sefa_weights(self) -> torch.Tensor:
        # The first ConvTranspose is linear in z: weight [w_dim, C, 4, 4] -> [C*16, z_dim]
        # (the label's columns are left out: a direction never moves the class).
        weight = self.main[0].weight
        return weight.reshape(weight.shape[0], -1).t()[:, :self.z_dim]

    def _feature_modules(self) -> dict[str, nn.Module]:
        # After each ConvTranspose-BatchNorm-ReLU triplet: b4 (4x4), b8, ... b{R/2}.
        return {f"b{4 * 2 ** i}": self.main[3 * i + 2] for i in range(len(self.channels))}
