"""R3GAN's training schedules (Huang et al. 2024, "The GAN is dead; long live the GAN!").

The paper's recipe moves four quantities over training along a cosine ramp from a start
to an end value, then holds the end value:

  γ            the R1/R2 weight: --r1-gamma -> --r1-gamma x --gamma-end (the paper: 1/10)
  lr           both learning rates: --lr-G/--lr-D -> x --lr-end (the paper: 2e-4 -> 5e-5)
  Adam beta2   --beta2-start -> --beta2 (the paper: 0.9 -> 0.99, with beta1 = 0)
  EMA          the generator average's half-life: 0 -> --ema-kimg (replaces --ema-rampup)

over --schedule-kimg (0 = the whole run). A strong γ early keeps D smooth while G is far
from the data; a lower one at the end lets D resolve detail. `--schedule constant` (the
default) keeps every value as given. Each value is a pure function of the images seen,
so a resumed run continues the same curves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import losses
from .config import TrainConfig


def cosine_ramp(nimg: float, length: float, start: float, end: float) -> float:
    """start at nimg 0, end at nimg >= length, half-way at length / 2 (a half cosine)."""
    t = min(max(nimg / length, 0.0), 1.0) if length > 0 else 1.0
    return start + (end - start) * (1 - math.cos(math.pi * t)) / 2


@dataclass(frozen=True)
class Schedule:
    """The values of one run's cosine schedules at any image count."""
    length: float           # images over which the ramps run
    r1_gamma: float         # γ at the start
    gamma_end: float        # γ at the end, as a fraction of r1_gamma
    lr_G: float
    lr_D: float
    lr_end: float           # learning rates at the end, as a fraction
    beta1: float
    beta2_start: float
    beta2: float            # beta2 at the end
    ema_kimg: float         # EMA half-life at the end (kimg)
    d_ratio: float          # lazy regularisation's correction of D's lr and betas (StyleGAN2's mb_ratio)

    def gamma(self, nimg: float) -> float:
        return cosine_ramp(nimg, self.length, self.r1_gamma, self.r1_gamma * self.gamma_end)

    def lr_factor(self, nimg: float) -> float:
        return cosine_ramp(nimg, self.length, 1.0, self.lr_end)

    def beta2_at(self, nimg: float) -> float:
        return cosine_ramp(nimg, self.length, self.beta2_start, self.beta2)

    def ema_half_life_kimg(self, nimg: float) -> float:
        return cosine_ramp(nimg, self.length, 0.0, self.ema_kimg)

    def apply(self, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer, nimg: float) -> float:
        """Set both optimisers' lr and betas for the step after `nimg` images. -> γ for that step."""
        f, b2 = self.lr_factor(nimg), self.beta2_at(nimg)
        r = self.d_ratio
        for g in opt_G.param_groups:
            g["lr"], g["betas"] = self.lr_G * f, (self.beta1, b2)
        for g in opt_D.param_groups:
            g["lr"], g["betas"] = self.lr_D * f * r, (self.beta1 ** r, b2 ** r)
        return self.gamma(nimg)


def for_config(cfg: TrainConfig) -> Schedule | None:
    """The run's schedule, or None for --schedule constant (nothing changes during training)."""
    if cfg.schedule == "constant":
        return None
    if cfg.schedule != "cosine":
        raise ValueError(f"--schedule must be constant or cosine, got {cfg.schedule!r}")
    # the same correction networks.make_networks gives D's Adam for lazy R1
    ratio = cfg.r1_interval / (cfg.r1_interval + 1) if losses.uses_r1(cfg.loss, cfg.r1_gamma) else 1.0
    length = (cfg.schedule_kimg or cfg.kimg) * 1000
    return Schedule(length=length, r1_gamma=cfg.r1_gamma, gamma_end=cfg.gamma_end, lr_G=cfg.lr_G,
                    lr_D=cfg.lr_D, lr_end=cfg.lr_end, beta1=cfg.beta1, beta2_start=cfg.beta2_start,
                    beta2=cfg.beta2, ema_kimg=cfg.ema_kimg, d_ratio=ratio)
