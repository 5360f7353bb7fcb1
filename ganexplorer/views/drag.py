"""Drag: DragGAN point editing (Pan et al. 2023) of the current latent, StyleGAN2/3 only.

The image view shows the current latent, as Sample does; the drag itself runs as a job
(ui/panels/drag.py drives latent.drag.drag_steps on the model's private copy) and its final
latent becomes the current one as one undo step. What this view keeps in the session are
the drag's settings, so a saved session reopens with them; the points and the mask are
gestures on the image, like the Edit panel's strokes, and are not part of the state.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..latent.drag import PAPER_LR, PAPER_N_WS, SPACES, DragConfig
from ..render.figures import Figure
from .base import BuildContext, SubState, View, ViewSpec
from .sample import render_current


@dataclass(frozen=True, eq=False)
class DragState(SubState):
    view: ClassVar[View] = View.DRAG
    lr: float = PAPER_LR                   # Adam step size on the latent
    r1: float = DragConfig.r1              # motion-supervision radius, image pixels
    r2: int = 0                            # point-tracking half-size, pixels; 0: latent.drag's default
    steps: int = DragConfig.steps          # steps at most
    space: str = "w+"                      # 'w+' (first n_ws rows) | 'w' (one offset for every row)
    n_ws: int = PAPER_N_WS                 # w+: rows optimised
    lambda_mask: float = DragConfig.lambda_mask   # weight of keeping the unmasked region

    def for_new_model(self) -> "DragState":
        return self                        # how to drag outlives the model

    def config(self, noise_mode: str = "const") -> DragConfig:
        """The settings as latent.drag's config (ValueError naming what is out of range)."""
        if self.space not in SPACES:
            raise ValueError(f"the drag space is one of {', '.join(SPACES)}, not {self.space!r}")
        cfg = DragConfig(steps=self.steps, lr=self.lr, r1=self.r1, r2=self.r2 if self.r2 > 0 else None,
                         lambda_mask=self.lambda_mask, n_ws=self.n_ws, space=self.space,
                         # random noise changes the image every step: point tracking needs a fixed one
                         noise_mode="const" if noise_mode == "random" else noise_mode)
        problems = cfg.validate()
        if problems:
            raise ValueError("; ".join(problems))
        return cfg


@dataclass(frozen=True, eq=False)
class DragPart:
    view: ClassVar[View] = View.DRAG

    def render(self, rc) -> Figure:
        return render_current(rc)


def request(sub: DragState, ctx: BuildContext) -> DragPart:
    return DragPart()


SPEC = ViewSpec(View.DRAG, "Drag", DragState, request)
