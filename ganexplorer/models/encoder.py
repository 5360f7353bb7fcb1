"""Inversion encoder E: image -> latent (iGAN's hybrid projection starts from E's guess).

Zhu et al. 2016 train a network that predicts z from G(z) and refine its guess by
optimisation; `trainer/encoder.py` trains this one on generated samples and stores it in
the checkpoint as net "E". A plain strided-convolution encoder (the DCGAN discriminator's
layout: 4x4 stride-2 convolutions, LeakyReLU) ends in two linear layers that output one
w per synthesis layer: [N, num_ws, w_dim] — for a DCGAN that is [N, 1, z_dim + c_dim].
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class LatentEncoder(nn.Module):
    kind = "encoder"

    def __init__(self,
                 img_resolution: int = 64,    # input height = width, power of two 16..1024
                 img_channels: int = 3,       # 1 (grey) or 3 (RGB)
                 w_dim: int = 100,            # latent size predicted per layer (z_dim for a DCGAN)
                 num_ws: int = 1,             # latents predicted per image (1 for DCGAN / w; num_ws for w+)
                 nef: int = 32,               # channels of the first convolution; doubles per halving
                 channel_max: int = 256,      # cap on channels
                 hidden: int = 512):          # width of the hidden linear layer
        super().__init__()
        if img_resolution < 16 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two of at least 16, got {img_resolution}")
        if img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, got {img_channels}")
        if w_dim < 1 or num_ws < 1:
            raise ValueError("w_dim and num_ws must be positive")
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        self.w_dim, self.num_ws = int(w_dim), int(num_ws)
        self.nef, self.channel_max, self.hidden = int(nef), int(channel_max), int(hidden)
        n_down = int(math.log2(img_resolution)) - 2            # img_resolution -> 4x4
        chans = [min(self.nef * 2 ** i, self.channel_max) for i in range(n_down)]
        layers: list[nn.Module] = []
        in_ch = self.img_channels
        for ch in chans:
            layers += [nn.Conv2d(in_ch, ch, 4, 2, 1), nn.LeakyReLU(0.2)]
            in_ch = ch
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(in_ch * 16, self.hidden), nn.LeakyReLU(0.2),
                                nn.Linear(self.hidden, self.num_ws * self.w_dim))

    def config(self) -> dict[str, Any]:
        return dict(img_resolution=self.img_resolution, img_channels=self.img_channels,
                    w_dim=self.w_dim, num_ws=self.num_ws, nef=self.nef,
                    channel_max=self.channel_max, hidden=self.hidden)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """img [N, C, H, W] in [-1, 1] -> ws [N, num_ws, w_dim]."""
        if img.ndim != 4 or img.shape[1:] != (self.img_channels, self.img_resolution, self.img_resolution):
            raise ValueError(f"E expects images [N, {self.img_channels}, {self.img_resolution}, "
                             f"{self.img_resolution}], got {list(img.shape)}")
        return self.fc(self.convs(img)).reshape(len(img), self.num_ws, self.w_dim)


CLASSES = {"LatentEncoder": LatentEncoder}
