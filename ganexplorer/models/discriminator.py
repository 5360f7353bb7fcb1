"""Discriminators: DCGAN's and StyleGAN2's residual D with minibatch standard deviation.

They live beside the generators (not in the trainer) because the app uses D too: the
editing tools add a realism term `D(G(w))`. Every D maps images [N, C, H, W] in [-1, 1]
to one raw logit per image [N, 1] (no sigmoid: the losses apply it), and has `config()`
so a native checkpoint can rebuild it.

Parameter names follow the reference code so foreign state dicts map onto ours:
`DCGANDiscriminator.main` is pytorch/examples' `netD.main` (its final Sigmoid moved into
the loss), and `StyleGAN2Discriminator` uses NVIDIA's `b{res}.fromrgb/conv0/conv1/skip`,
`b4.conv/fc/out` names and its equalized-learning-rate weight scaling.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .layers import Conv2dLayer, FullyConnectedLayer


# ------------------------------------------------------------------------------ DCGAN

class DCGANDiscriminator(nn.Module):
    kind = "dcgan"

    def __init__(self,
                 img_resolution: int = 64,   # power of two, 16..256
                 img_channels: int = 3,      # nc: 1 or 3
                 ndf: int = 64,              # channels of the first layer; doubles per halving
                 channel_max: int = 512,     # cap on channels near 4x4
                 c_dim: int = 0):            # unconditional only for now; kept for the spec
        super().__init__()
        if img_resolution not in (16, 32, 64, 128, 256):
            raise ValueError(f"img_resolution must be a power of two from 16 to 256, got {img_resolution}")
        if img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, got {img_channels}")
        if c_dim:
            raise ValueError("a conditional DCGAN discriminator is not supported")
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        self.ndf, self.channel_max, self.c_dim = int(ndf), int(channel_max), 0
        n_down = int(math.log2(img_resolution)) - 2          # img_resolution -> 4x4
        chans = [min(self.ndf * 2 ** i, self.channel_max) for i in range(n_down)]
        layers: list[nn.Module] = [nn.Conv2d(self.img_channels, chans[0], 4, 2, 1, bias=False),
                                   nn.LeakyReLU(0.2, inplace=True)]
        for a, b in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(chans[-1], 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)

    def config(self) -> dict[str, Any]:
        return dict(img_resolution=self.img_resolution, img_channels=self.img_channels,
                    ndf=self.ndf, channel_max=self.channel_max, c_dim=self.c_dim)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None,
                bn_groups: int = 1) -> torch.Tensor:
        """img [N, C, R, R] -> logits [N, 1].

        bn_groups=k treats the batch as k equal parts that BatchNorm normalises separately
        (in order, updating the running statistics once per part). D(cat([real, fake]),
        bn_groups=2) then equals D(real) and D(fake) as two calls — DCGAN's training
        math — while every convolution runs once on the doubled batch.
        """
        if bn_groups == 1:
            return self.main(img).reshape(img.shape[0], 1)
        if img.shape[0] % bn_groups:
            raise ValueError(f"batch {img.shape[0]} does not split into {bn_groups} BatchNorm groups")
        x = img
        for layer in self.main:
            if isinstance(layer, nn.BatchNorm2d):
                x = torch.cat([layer(part) for part in x.chunk(bn_groups)])
            else:
                x = layer(x)
        return x.reshape(img.shape[0], 1)                    # [N, 1] logits


# -------------------------------------------------------------------------- StyleGAN2

# The equalised-lr conv and dense layers are the generator's (layers.py). D keeps its FIR
# filter out of the state dict (persistent_filter=False), as its checkpoints always have.
_D_CONV = dict(persistent_filter=False)


class DiscriminatorBlock(nn.Module):
    """One resolution of the residual D: two 3x3 convs (the second downsamples) + a 1x1 skip."""

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int,
                 img_channels: int, first: bool):
        super().__init__()
        self.first = first
        if first:   # only the highest resolution reads the image
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu", **_D_CONV)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu", **_D_CONV)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2, **_D_CONV)
        self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2, **_D_CONV)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor) -> torch.Tensor:
        if self.first:
            x = self.fromrgb(img)
        # sqrt(0.5) keeps the residual sum at unit variance (NVIDIA's 'resnet' architecture).
        y = self.skip(x, gain=np.sqrt(0.5))
        x = self.conv0(x)
        x = self.conv1(x, gain=np.sqrt(0.5))
        return y + x


class MinibatchStdLayer(nn.Module):
    """Append the std-dev across groups of images as extra feature maps (Karras et al. 2018).

    D can then see a lack of variety in a batch, the symptom of mode collapse.
    """

    def __init__(self, group_size: int, num_channels: int = 1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        G = min(self.group_size, N)
        while N % G:   # the group must divide the batch (NVIDIA asserts; we shrink instead)
            G -= 1
        F_ = self.num_channels
        c = C // F_
        y = x.reshape(G, -1, F_, c, H, W)          # [G, n, F, c, H, W]
        y = y - y.mean(dim=0)
        y = y.square().mean(dim=0)
        y = (y + 1e-8).sqrt()
        y = y.mean(dim=[2, 3, 4])                  # [n, F]
        y = y.reshape(-1, F_, 1, 1).repeat(G, 1, H, W)   # [N, F, H, W]
        return torch.cat([x, y], dim=1)


class DiscriminatorEpilogue(nn.Module):
    def __init__(self, in_channels: int, resolution: int, mbstd_group_size: int,
                 mbstd_num_channels: int):
        super().__init__()
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, 3, activation="lrelu", **_D_CONV)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation="lrelu")
        self.out = FullyConnectedLayer(in_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        x = self.fc(x.flatten(1))
        return self.out(x)                          # [N, 1]


class StyleGAN2Discriminator(nn.Module):
    kind = "stylegan2"

    def __init__(self,
                 c_dim: int = 0,                  # conditioning is not supported yet: 0
                 img_resolution: int = 64,        # power of two, 8..1024
                 img_channels: int = 3,           # 1 or 3
                 channel_base: int = 32768,       # channels at resolution r = min(channel_base / r, channel_max)
                 channel_max: int = 512,          # cap near 4x4
                 mbstd_group_size: int = 4,       # images per minibatch-std group
                 mbstd_num_channels: int = 1,     # feature maps the mbstd layer appends (0 = off)
                 architecture: str = "resnet"):   # only NVIDIA's default, 'resnet'
        super().__init__()
        if c_dim:
            raise ValueError("a conditional StyleGAN2 discriminator is not supported")
        if architecture != "resnet":
            raise ValueError(f"only architecture='resnet' is implemented, got {architecture!r}")
        log2 = int(np.log2(img_resolution))
        if img_resolution != 2 ** log2 or not 8 <= img_resolution <= 1024:
            raise ValueError(f"img_resolution must be a power of two from 8 to 1024, got {img_resolution}")
        self.c_dim, self.img_resolution, self.img_channels = 0, int(img_resolution), int(img_channels)
        self.channel_base, self.channel_max = int(channel_base), int(channel_max)
        self.mbstd_group_size, self.mbstd_num_channels = int(mbstd_group_size), int(mbstd_num_channels)
        self.architecture = architecture
        self.block_resolutions = [2 ** i for i in range(log2, 2, -1)]
        ch = {r: min(self.channel_base // r, self.channel_max) for r in self.block_resolutions + [4]}
        for res in self.block_resolutions:
            block = DiscriminatorBlock(ch[res] if res < img_resolution else 0, ch[res], ch[res // 2],
                                       self.img_channels, first=res == img_resolution)
            setattr(self, f"b{res}", block)
        self.b4 = DiscriminatorEpilogue(ch[4], 4, self.mbstd_group_size, self.mbstd_num_channels)

    def config(self) -> dict[str, Any]:
        return dict(c_dim=self.c_dim, img_resolution=self.img_resolution,
                    img_channels=self.img_channels, channel_base=self.channel_base,
                    channel_max=self.channel_max, mbstd_group_size=self.mbstd_group_size,
                    mbstd_num_channels=self.mbstd_num_channels, architecture=self.architecture)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if img.ndim != 4 or img.shape[1:] != (self.img_channels, self.img_resolution, self.img_resolution):
            raise ValueError(f"D expects images [N, {self.img_channels}, {self.img_resolution}, "
                             f"{self.img_resolution}], got {list(img.shape)}")
        x = None
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x, img)
        return self.b4(x)                           # [N, 1] logits


CLASSES: dict[str, type[nn.Module]] = {
    "DCGANDiscriminator": DCGANDiscriminator,
    "StyleGAN2Discriminator": StyleGAN2Discriminator,
}
