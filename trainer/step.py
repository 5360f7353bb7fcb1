"""Phase 4 of a run: one training step — one D update, then one G update on the same fakes.

pytorch/examples' DCGAN order; StyleGAN2 uses the same schedule with lazy R1 and style
mixing. The step takes its reals and latents as arguments (the loop draws them), returns
the losses as device tensors, and never waits on the device.

Under DDP, D's passes before the last run inside `no_sync`: their gradients (R1's double
backward included) accumulate locally and are averaged with the last pass's, so a
multi-process step computes what one process would with the combined batch.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import torch

from . import distributed as dist_glue
from . import losses
from .augment import Augment
from .config import TrainConfig
from .data import BatchSource
from .networks import Networks


@dataclass
class StepLosses:
    """Device tensors (0-dim): read them at ticks only."""
    G: torch.Tensor
    D: torch.Tensor
    r1: torch.Tensor | None      # the R1 penalty when it was applied this step
    r2: torch.Tensor | None      # the R2 penalty (rpgan) when it was applied this step


def draw_inputs(src: BatchSource, gen: torch.Generator, memory_format: torch.memory_format, batch: int,
                z_dim: int, mix: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """A step's random inputs, all on the device from this rank's generator:
    reals [N, C, R, R], z [N, z_dim], and for style mixing z2 [N, z_dim] and mix_u [2]."""
    real = src.next(memory_format)
    z = torch.randn(batch, z_dim, device=gen.device, generator=gen)
    z2 = torch.randn(batch, z_dim, device=gen.device, generator=gen) if mix else None
    mix_u = torch.rand(2, device=gen.device, generator=gen) if mix else None
    return real, z, z2, mix_u


class TrainStep:
    def __init__(self, cfg: TrainConfig, nets: Networks, aug: Augment, autocast: Callable,
                 gen: torch.Generator, dist: dist_glue.DistInfo):
        self.cfg, self.nets, self.aug, self.autocast, self.gen, self.dist = cfg, nets, aug, autocast, gen, dist
        self.r1_on = losses.uses_r1(cfg.loss, cfg.r1_gamma)
        self.r1_gamma = cfg.r1_gamma     # this step's γ: the loop lowers it under --schedule cosine
        self.paired = cfg.loss in losses.PAIRED
        # One D call for reals and fakes needs BatchNorm groups (DCGAN's D) and no per-pass
        # penalty that needs its own forward; StyleGAN2's mbstd must not mix reals and fakes.
        self.batched_D = cfg.arch == "dcgan" and not self.r1_on and cfg.loss not in ("wgan-gp", *losses.PAIRED)

    def _nosync(self):
        return self.nets.D_ddp.no_sync() if self.dist.enabled else contextlib.nullcontext()

    def __call__(self, step: int, real: torch.Tensor, z: torch.Tensor, z2: torch.Tensor | None = None,
                 mix_u: torch.Tensor | None = None) -> StepLosses:
        """real [N, C, R, R] in [-1, 1]; z, z2 [N, z_dim]; mix_u [2] (style mixing) or None."""
        cfg, n, aug, autocast = self.cfg, self.nets, self.aug, self.autocast
        # ---------------- D step (reals and fakes in separate passes: BatchNorm, as DCGAN)
        n.D.requires_grad_(True)
        with autocast():
            fake = n.G_fwd(z, z2, mix_u)
        r1 = r2 = None
        if self.batched_D:
            # DCGAN: reals and fakes through D in one call, BatchNorm per half — the same
            # math as two calls, with every convolution run once on the doubled batch.
            with autocast():
                logits = n.D_fwd(torch.cat([aug(real), aug(fake.detach())]), bn_groups=2)
            logits_real, logits_fake = logits.float().chunk(2)
            loss_D = losses.d_loss_real(cfg.loss, logits_real) + losses.d_loss_fake(cfg.loss, logits_fake)
            aug.accumulate(logits_real)
            loss_D.backward()
        else:
            lazy = step % cfg.r1_interval == 0
            with self._nosync():
                with autocast():
                    logits_real = n.D_fwd(aug(real))
                aug.accumulate(logits_real)
                if self.paired:
                    # The pairing couples both passes: the real one's graph waits for the fakes'.
                    with autocast():
                        logits_fake = n.D_fwd(aug(fake.detach()))
                    loss_D = losses.d_loss_paired(cfg.loss, logits_real.float(), logits_fake.float())
                    loss_D.backward()
                else:
                    loss_Dr = losses.d_loss_real(cfg.loss, logits_real.float())
                    loss_Dr.backward()
                if self.r1_on and lazy:
                    pen, lr_ = losses.r1_penalty(n.D_ddp, aug(real))
                    # 0 * logits keeps every D output in the graph (NVIDIA's trick for DDP).
                    (pen * (self.r1_gamma / 2 * cfg.r1_interval) + 0 * lr_.float().mean()).backward()
                    r1 = pen.detach()
                if cfg.loss == "wgan-gp" and cfg.gp_lambda > 0:
                    gp = losses.gradient_penalty(n.D_ddp, aug(real), aug(fake.detach()), self.gen)
                    (gp * cfg.gp_lambda).backward()
            if self.paired:
                # R2 (the same penalty on fakes) is the last pass: its backward syncs under DDP.
                if lazy:
                    # float32, as R1's reals: the penalty's double backward runs outside autocast
                    pen, lf_ = losses.r1_penalty(n.D_ddp, aug(fake.detach().float()))
                    (pen * (self.r1_gamma / 2 * cfg.r1_interval) + 0 * lf_.float().mean()).backward()
                    r2 = pen.detach()
                elif self.dist.enabled:
                    with autocast():
                        lf_ = n.D_fwd(aug(fake.detach()))
                    (0 * lf_.float().mean()).backward()   # the synced pass of a step without R2
            else:
                with autocast():
                    logits_fake = n.D_fwd(aug(fake.detach()))
                loss_Df = losses.d_loss_fake(cfg.loss, logits_fake.float())
                loss_Df.backward()
                loss_D = loss_Dr + loss_Df
        n.opt_D.step()
        n.opt_D.zero_grad(set_to_none=True)
        if aug.mode == "ada" and step % cfg.ada_interval == cfg.ada_interval - 1:
            aug.adjust()

        # ---------------- G step on the same fakes; D frozen so no D weight grads are made
        n.D.requires_grad_(False)
        with autocast():
            logits_gen = n.D(aug(fake))          # the raw D: its grads must not sync via DDP
        if self.paired:
            with torch.no_grad(), autocast():
                logits_ref = n.D(aug(real))
            loss_G = losses.g_loss_paired(cfg.loss, logits_ref.float(), logits_gen.float())
        else:
            loss_G = losses.g_loss(cfg.loss, logits_gen.float())
        loss_G.backward()
        n.opt_G.step()
        n.opt_G.zero_grad(set_to_none=True)
        return StepLosses(G=loss_G.detach(), D=loss_D.detach(), r1=r1, r2=r2)
