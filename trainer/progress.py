"""Bookkeeping between steps: the per-tick loss means (kept on the device, read only at
ticks), the first non-finite step, and the divergence watch (D's loss stuck at ~0)."""
from __future__ import annotations

from typing import Any

import torch

from . import events as ev
from .step import StepLosses

# D's loss is "at zero" below this (ns, lsgan, hinge and rpgan losses are >= 0; at 0, D tells
# every real from every fake and G gets no useful gradient) ...
COLLAPSE_LOSS = 0.01
# ... and "for long" after this many ticks in a row (at least COLLAPSE_KIMG of training).
COLLAPSE_TICKS = 5
COLLAPSE_KIMG = 1.0
NONNEGATIVE_D_LOSSES = ("ns", "lsgan", "hinge", "rpgan")


class TickStats:
    def __init__(self, device: torch.device, loss: str, lr: float, r1_on: bool):
        self.acc = {k: torch.zeros((), device=device) for k in ("G", "D", "r1", "r2")}
        self.n = {k: 0 for k in self.acc}
        self.bad_step = torch.full((), -1, dtype=torch.long, device=device)   # first NaN/inf step
        self.loss, self.lr, self.r1_on = loss, lr, r1_on
        self._low_ticks, self._low_since = 0, None
        self.collapse_warned = False

    def add(self, out: StepLosses, step: int) -> None:
        """Accumulate step `step`'s losses (no host sync)."""
        for key, value in (("G", out.G), ("D", out.D), ("r1", out.r1), ("r2", out.r2)):
            if value is not None:
                self.acc[key] += value
                self.n[key] += 1
        bad = ~torch.isfinite(out.D + out.G)
        self.bad_step.copy_(torch.where(bad & (self.bad_step < 0), torch.full_like(self.bad_step, step),
                                        self.bad_step))

    def first_bad_step(self) -> int | None:
        b = int(self.bad_step.item())
        return b if b >= 0 else None

    def tick(self, step: int, nimg: int, img_per_s: float, total_nimg: int, aug_p: float | None) -> dict[str, Any]:
        vals = {k: (self.acc[k] / max(self.n[k], 1)).item() for k in self.acc}
        e = ev.make("tick", step=step, kimg=nimg / 1000, loss_G=vals["G"], loss_D=vals["D"],
                    loss_r1=vals["r1"] if self.r1_on and self.n["r1"] else None,
                    loss_r2=vals["r2"] if self.n["r2"] else None,
                    img_per_s=img_per_s, lr=self.lr,
                    eta_s=(total_nimg - nimg) / img_per_s if img_per_s > 0 else None, aug_p=aug_p)
        for k in self.acc:
            self.acc[k].zero_()
            self.n[k] = 0
        self._watch(vals["D"], nimg)
        return e

    def _watch(self, loss_D: float, nimg: int) -> None:
        if self.loss in NONNEGATIVE_D_LOSSES and loss_D == loss_D and abs(loss_D) < COLLAPSE_LOSS:
            self._low_ticks += 1
            self._low_since = nimg if self._low_since is None else self._low_since
        else:
            self._low_ticks, self._low_since = 0, None
            self.collapse_warned = False     # recovered: warn again if it happens again

    def collapse_warning(self, step: int, nimg: int) -> dict[str, Any] | None:
        """A "warning" event the first time D's loss has been ~0 for long; None otherwise."""
        if self.collapse_warned or self._low_ticks < COLLAPSE_TICKS or self._low_since is None \
                or nimg - self._low_since < COLLAPSE_KIMG * 1000:
            return None
        self.collapse_warned = True
        return ev.make("warning", step=step, kimg=nimg / 1000, kind="d_collapse",
                       message=(f"training is diverging: D's loss has stayed near 0 since kimg "
                                f"{self._low_since / 1000:g}, so D tells every real image from every fake "
                                "and G learns nothing. Try --augment ada, a larger --r1-gamma or a lower "
                                "--lr-D, and compare with the last sample grids."))
