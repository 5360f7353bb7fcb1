"""Differentiable augmentation applied to every image D sees, real and fake alike.

DiffAugment (Zhao et al. 2020): colour (brightness, saturation, contrast), translation
(1/8 of the side, zero padded) and cutout (a square of half the side). Because G's
outputs pass through the same differentiable ops, D cannot simply memorise a small
training set and G is not taught to produce augmented images.

`augment='diffaug'` applies each op to every image. `augment='ada'` is ADA-like
(Karras et al. 2020): each op is applied to each image with probability p, and p is
steered so that r_t = E[sign(D(real))] stays near `ada_target` — the overfitting
heuristic of the ADA paper. The op set is DiffAugment's, not ADA's 18-op pipeline, and
p lives on the device so adjusting it needs no host synchronisation.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def _brightness(x, g):
    return x + (torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=g, dtype=x.dtype) - 0.5)


def _saturation(x, g):
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=g, dtype=x.dtype) * 2) + mean


def _contrast(x, g):
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=g, dtype=x.dtype) + 0.5) + mean


def _translation(x, g, ratio: float = 0.125):
    N, C, H, W = x.shape
    sh, sw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (N, 1, 1), device=x.device, generator=g)
    ty = torch.randint(-sw, sw + 1, (N, 1, 1), device=x.device, generator=g)
    gb, gx, gy = torch.meshgrid(torch.arange(N, device=x.device), torch.arange(H, device=x.device),
                                torch.arange(W, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, H + 1)
    gy = torch.clamp(gy + ty + 1, 0, W + 1)
    xp = F.pad(x, [1, 1, 1, 1])
    return xp.permute(0, 2, 3, 1)[gb, gx, gy].permute(0, 3, 1, 2)


def _cutout(x, g, ratio: float = 0.5):
    N, C, H, W = x.shape
    ch, cw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    ox = torch.randint(0, H + (1 - ch % 2), (N, 1, 1), device=x.device, generator=g)
    oy = torch.randint(0, W + (1 - cw % 2), (N, 1, 1), device=x.device, generator=g)
    gb, gx, gy = torch.meshgrid(torch.arange(N, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, 0, H - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, W - 1)
    mask = torch.ones(N, H, W, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


OPS = {"color": (_brightness, _saturation, _contrast), "translation": (_translation,),
       "cutout": (_cutout,)}


class Augment:
    """Callable x -> augmented x; `p` is a 0-dim device tensor (1.0 for plain DiffAugment)."""

    def __init__(self, mode: str, ops: str, device: torch.device, generator: torch.Generator,
                 target: float = 0.6, speed: float = 0.0,
                 reduce: Callable[[torch.Tensor], torch.Tensor] = lambda t: t, p: float = 0.0):
        self.mode = mode                 # 'none' | 'diffaug' | 'ada'
        self.ops = [o for o in ops.split(",") if o]
        self.gen = generator
        # ada starts at `p` (--ada-p; a resumed run's saved p replaces it in load_state)
        self.p = torch.tensor(1.0 if mode == "diffaug" else p if mode == "ada" else 0.0, device=device)
        self.target = target
        self.speed = speed               # p change per adjustment, = batch*interval/(ada_kimg*1000)
        self._rt_sum = torch.zeros((), device=device)
        self._rt_n = torch.zeros((), device=device)
        self.reduce = reduce             # sums over ranks under DDP, so every rank moves p alike

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "none":
            return x
        for op in self.ops:
            for fn in OPS[op]:
                if self.mode == "diffaug":
                    x = fn(x, self.gen)
                else:   # each image gets this op with probability p
                    keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=self.gen) >= self.p
                    x = torch.where(keep, x, fn(x, self.gen))
        return x

    def accumulate(self, real_logits: torch.Tensor) -> None:
        if self.mode == "ada":
            self._rt_sum += real_logits.detach().float().sign().sum()
            self._rt_n += real_logits.shape[0]

    def adjust(self) -> None:
        """Move p toward keeping r_t = E[sign(D(real))] at the target; stays on the device."""
        if self.mode != "ada":
            return
        total, n = self.reduce(torch.stack([self._rt_sum, self._rt_n]))
        rt = total / n.clamp(min=1)
        self.p.copy_((self.p + torch.sign(rt - self.target) * self.speed).clamp(0, 1))
        self._rt_sum.zero_()
        self._rt_n.zero_()

    def state(self) -> dict[str, torch.Tensor]:
        return {"p": self.p.detach().cpu()}

    def load_state(self, s: dict[str, torch.Tensor]) -> None:
        self.p.copy_(s["p"].to(self.p.device))
