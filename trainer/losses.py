"""GAN losses on raw D logits, the gradient penalties, and the EMA generator update.

All losses are means over the batch. `d_loss(kind, real, fake)` is what D minimises and
`g_loss(kind, fake)` what G minimises:

  ns       non-saturating logistic (Goodfellow et al. 2014; the StyleGAN default):
           D: softplus(-D(x)) + softplus(D(G(z)))   G: softplus(-D(G(z)))
           With BCE-with-logits this is exactly DCGAN's BCE loss with labels 1/0.
  lsgan    least squares (Mao et al. 2017):  D: (D(x)-1)^2/2 + D(G(z))^2/2   G: (D(G(z))-1)^2/2
  wgan-gp  Wasserstein with gradient penalty (Gulrajani et al. 2017): D: D(G(z)) - D(x)  G: -D(G(z))
  hinge    (Lim & Ye 2017; Miyato et al. 2018): D: relu(1-D(x)) + relu(1+D(G(z)))  G: -D(G(z))
  rpgan    relativistic pairing (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024), each real
           x_i paired with the fake G(z_i):  D: softplus(D(G(z)) - D(x))   G: softplus(D(x) - D(G(z)))
           R3GAN regularises it with R1 on reals and R2 (the same penalty) on fakes, both γ/2.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn


PAIRED = ("rpgan",)     # losses of D(x) - D(G(z)) pairs: D sees reals and fakes together


def uses_r1(kind: str, r1_gamma: float) -> bool:
    """Whether a D step applies R1 (and, for rpgan, R2)."""
    return r1_gamma > 0


def d_loss_paired(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """real, fake [N] or [N, 1] logits of paired images (pair i = real i, fake i)."""
    if kind == "rpgan":
        return F.softplus(fake - real).mean()
    raise ValueError(f"unknown paired loss {kind!r}")


def g_loss_paired(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    if kind == "rpgan":
        return F.softplus(real - fake).mean()
    raise ValueError(f"unknown paired loss {kind!r}")


def d_loss_real(kind: str, real: torch.Tensor) -> torch.Tensor:
    if kind == "ns":
        return F.softplus(-real).mean()
    if kind == "lsgan":
        return 0.5 * (real - 1).square().mean()
    if kind == "wgan-gp":
        return -real.mean()
    if kind == "hinge":
        return F.relu(1 - real).mean()
    raise ValueError(f"unknown loss {kind!r}")


def d_loss_fake(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "ns":
        return F.softplus(fake).mean()
    if kind == "lsgan":
        return 0.5 * fake.square().mean()
    if kind in ("wgan-gp", "hinge"):
        return fake.mean() if kind == "wgan-gp" else F.relu(1 + fake).mean()
    raise ValueError(f"unknown loss {kind!r}")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return d_loss_real(kind, real) + d_loss_fake(kind, fake)


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "ns":
        return F.softplus(-fake).mean()
    if kind == "lsgan":
        return 0.5 * (fake - 1).square().mean()
    if kind in ("wgan-gp", "hinge"):
        return -fake.mean()
    raise ValueError(f"unknown loss {kind!r}")


def r1_penalty(D: nn.Module, real_img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """R1 (Mescheder et al. 2018): E ||grad_x D(x)||^2 on reals. -> (penalty, logits).

    The caller multiplies by gamma/2 and, for lazy regularisation, by the interval.
    """
    x = real_img.detach().requires_grad_(True)
    logits = D(x)
    (grad,) = torch.autograd.grad(logits.float().sum(), x, create_graph=True)
    return grad.float().square().sum(dim=[1, 2, 3]).mean(), logits


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP: E (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype, generator=generator)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).float().sum(), x_hat, create_graph=True)
    return (grad.float().flatten(1).norm(dim=1) - 1).square().mean()


def make_ema(G: nn.Module) -> nn.Module:
    return copy.deepcopy(G).eval().requires_grad_(False)


@torch.no_grad()
def ema_beta(batch: int, nimg: int, ema_kimg: float, rampup: float) -> float:
    """Per-step decay for a half-life of ema_kimg (NVIDIA's formula, with its ramp-up)."""
    ema_nimg = ema_kimg * 1000
    if rampup:
        ema_nimg = min(ema_nimg, nimg * rampup)
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(G_ema: nn.Module, G: nn.Module, beta: float) -> None:
    """G_ema <- lerp(G, G_ema, beta) for parameters; buffers (BN stats, w_avg) are copied."""
    ema_p = [p for p in G_ema.parameters()]
    src_p = [p.detach() for p in G.parameters()]
    torch._foreach_lerp_(ema_p, src_p, 1.0 - beta)
    for b_ema, b in zip(G_ema.buffers(), G.buffers()):
        b_ema.copy_(b)
