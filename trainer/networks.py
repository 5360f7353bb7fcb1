"""Phase 1 of a run: the device, the networks G, D and G_ema, and their optimisers.

Everything here is built identically on every rank (same seed); DDP also broadcasts rank
0's weights when it wraps them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ganexplorer.models.dcgan import DCGANGenerator
from ganexplorer.models.discriminator import DCGANDiscriminator, StyleGAN2Discriminator

from . import distributed as dist_glue
from . import losses
from .config import TrainConfig


class TrainError(Exception):
    """A run cannot start or continue; the message says why and what to do."""


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TrainError("--device cuda: no CUDA GPU is available to this PyTorch build; use --device cpu")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainError("--device mps: Apple's Metal backend is not available here; use --device cpu")
    return torch.device(name)


def bf16_native(device: torch.device) -> bool:
    """Whether bfloat16 matmuls/convolutions run natively (and so faster) on `device`.

    CUDA: Ampere or newer. CPU: oneDNN's bf16 kernels need AVX512-BF16 or AMX; elsewhere
    bf16 is emulated and slower than float32, so mixed precision stays off.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False


def amp_enabled(cfg: TrainConfig, device: torch.device) -> bool:
    """bfloat16 autocast for this run: --amp (the default) where the device runs bf16 natively.

    Weights, optimiser state and losses stay float32. Measured on an AVX512-BF16 CPU: DCGAN
    1.6x per step (bench/train_throughput.py), StyleGAN2 1.2x (bench/train_amp_stylegan2.py).
    """
    return cfg.amp and bf16_native(device)


def autocast_factory(device: torch.device, use_amp: bool):
    """A function returning a fresh autocast context (bfloat16) or a null one."""
    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16) if use_amp else contextlib.nullcontext()
    return autocast


def _dcgan_init(m: nn.Module) -> None:
    """pytorch/examples' weights_init: convs N(0, 0.02), BatchNorm N(1, 0.02) and bias 0."""
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def build_networks(cfg: TrainConfig, img_channels: int) -> tuple[nn.Module, nn.Module]:
    if cfg.arch == "dcgan":
        G = DCGANGenerator(z_dim=cfg.z_dim, img_resolution=cfg.resolution, img_channels=img_channels,
                           ngf=cfg.ngf)
        D = DCGANDiscriminator(img_resolution=cfg.resolution, img_channels=img_channels, ndf=cfg.ndf)
        G.apply(_dcgan_init)
        D.apply(_dcgan_init)
        return G, D
    from ganexplorer.models.stylegan2 import StyleGAN2Generator
    G = StyleGAN2Generator(z_dim=cfg.z_dim, c_dim=0, w_dim=cfg.w_dim, img_resolution=cfg.resolution,
                           img_channels=img_channels,
                           mapping_kwargs=dict(num_layers=cfg.map_layers),
                           # conv_clamp 256 as in StyleGAN2-ADA: keeps activations finite.
                           synthesis_kwargs=dict(channel_base=cfg.cbase, channel_max=cfg.cmax,
                                                 conv_clamp=256))
    D = StyleGAN2Discriminator(c_dim=0, img_resolution=cfg.resolution, img_channels=img_channels,
                               channel_base=cfg.cbase, channel_max=cfg.cmax,
                               mbstd_group_size=min(4, cfg.batch))
    return G, D


class GenerateStep(nn.Module):
    """z -> fake images for training: the one module DDP wraps around G.

    StyleGAN2: with probability `style_mixing` the ws after a random cutoff come from a
    second latent z2 (style-mixing regularisation, Karras et al. 2019), so that layers
    learn to work with styles that did not come from the same w.
    """

    def __init__(self, G: nn.Module, style_mixing: float):
        super().__init__()
        self.G = G
        self.style_mixing = style_mixing
        self.noise_mode = "random"      # StyleGAN2's per-pixel noise ("const" makes a step deterministic)

    def forward(self, z: torch.Tensor, z2: torch.Tensor | None = None,
                mix_u: torch.Tensor | None = None) -> torch.Tensor:
        G = self.G
        if G.kind == "dcgan":
            return G.synthesis(G.mapping(z))                  # [N, C, R, R]
        w = G.mapping_network(z, None)                        # [N, w_dim], updates w_avg
        ws = w.unsqueeze(1).repeat(1, G.num_ws, 1)            # [N, num_ws, w_dim]
        if self.style_mixing > 0 and z2 is not None and mix_u is not None:
            w2 = G.mapping_network(z2, None, update_w_avg=False)
            # mix_u [2] uniform: one cutoff per batch in [1, num_ws), used with prob style_mixing
            cutoff = 1 + (mix_u[0] * (G.num_ws - 1)).long().clamp(max=G.num_ws - 2)
            cutoff = torch.where(mix_u[1] < self.style_mixing, cutoff, torch.full_like(cutoff, G.num_ws))
            layer = torch.arange(G.num_ws, device=ws.device).reshape(1, -1, 1)
            ws = torch.where(layer < cutoff, ws, w2.unsqueeze(1))
        return G.synthesis_network(ws, noise_mode=self.noise_mode)


def grid_latents(z_dim: int, n: int) -> torch.Tensor:
    """Seeds 0..n-1 with NVIDIA's convention (RandomState(seed).randn), as the app draws them."""
    return torch.from_numpy(np.stack([np.random.RandomState(s).randn(z_dim) for s in range(n)])).float()


@torch.no_grad()
def sample_grid(G_ema: nn.Module, z_grid: torch.Tensor) -> torch.Tensor:
    """G_ema's images of the fixed grid latents, [N, C, R, R] float on the CPU."""
    G_ema.eval()
    return torch.cat([G_ema(z_grid[i:i + 32]).float().cpu() for i in range(0, len(z_grid), 32)])


@dataclass
class Networks:
    """The trained modules, their optimisers, and the wrapped forms the step calls."""
    G: nn.Module                # the generator being trained
    D: nn.Module                # the discriminator (raw: the G step calls it without DDP)
    G_ema: nn.Module            # exponential moving average of G: what snapshots save
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    D_ddp: nn.Module            # D inside DDP when distributed (D itself otherwise)
    D_fwd: nn.Module            # what the D step calls: D_ddp, compiled with --compile
    G_fwd: nn.Module            # z -> fakes (GenerateStep, in DDP / compiled as above)
    memory_format: torch.memory_format

    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D, "G_ema": self.G_ema}


def make_networks(cfg: TrainConfig, img_channels: int, device: torch.device,
                  dist: dist_glue.DistInfo) -> Networks:
    """G, D, G_ema on `device` with Adam for each. Call `wrap()` after loading a resume state."""
    mem = torch.channels_last if (cfg.channels_last and cfg.arch == "dcgan") else torch.contiguous_format
    torch.manual_seed(cfg.seed)
    G, D = build_networks(cfg, img_channels)
    G, D = G.to(device).train(), D.to(device).train()
    if mem is torch.channels_last:
        G, D = G.to(memory_format=mem), D.to(memory_format=mem)
    G_ema = losses.make_ema(G)
    torch.manual_seed(cfg.seed * 1000 + dist.rank + 1)   # per-rank noise from here on
    # Lazy R1 changes D's effective step; StyleGAN2 compensates lr and betas (mb_ratio).
    ratio = cfg.r1_interval / (cfg.r1_interval + 1) if losses.uses_r1(cfg.loss, cfg.r1_gamma) else 1.0
    fused = device.type in ("cuda", "cpu")
    opt_G = torch.optim.Adam(G.parameters(), lr=cfg.lr_G, betas=(cfg.beta1, cfg.beta2), fused=fused)
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.lr_D * ratio,
                             betas=(cfg.beta1 ** ratio, cfg.beta2 ** ratio), fused=fused)
    return Networks(G, D, G_ema, opt_G, opt_D, D, D, G, mem)


def wrap(nets: Networks, cfg: TrainConfig, device: torch.device, dist: dist_glue.DistInfo) -> None:
    """DDP (when distributed) and torch.compile (with --compile) around the step's modules."""
    G_step = dist_glue.wrap(GenerateStep(nets.G, cfg.style_mixing if cfg.arch == "stylegan2" else 0.0),
                            device, dist)
    nets.D_ddp = dist_glue.wrap(nets.D, device, dist)
    nets.D_fwd, nets.G_fwd = nets.D_ddp, G_step
    if cfg.compile:
        nets.D_fwd, nets.G_fwd = torch.compile(nets.D_ddp), torch.compile(G_step)


def nonfinite_tensors(*modules: nn.Module) -> list[str]:
    """Names of parameters and floating-point buffers (BatchNorm running_var, w_avg) that hold
    NaN or inf: a network with any of them renders garbage, whatever its parameters."""
    bad = []
    for m in modules:
        for name, t in [*m.named_parameters(), *m.named_buffers()]:
            if t.is_floating_point() and not torch.isfinite(t).all():
                bad.append(name)
    return bad
