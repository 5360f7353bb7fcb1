"""Drag: DragGAN point editing (Pan et al. 2023) of the current latent, StyleGAN2/3 only.

The image view shows the current latent, as Sample does; the drag itself runs as a job
(ui/panels/drag.py drives latent.drag.drag_steps on the model's private copy) and its final
latent becomes the current one as one undo step. What this view keeps in the session are
the drag's settings, so a saved session reopens with them; the points and the mask are
gestures on the image, like the Edit panel's strokes, and are not part of the state.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from ..atomic import atomic_write_text
from ..export.animation import save_animation
from ..export.images import to_uint8
from ..latent.drag import PAPER_LR, PAPER_N_WS, SPACES, DragConfig
from ..latent.drag_record import DragRecording, draw_markers
from ..render.figures import Figure
from ..render.synth import synthesize
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


def save_recording(G, rec: DragRecording, path: str, noise_mode: str, markers: bool, meta: dict,
                   fps: float = 12.0) -> str:
    """Render the recorded latents (a worker job or the CLI), draw the points, write GIF/MP4 and, beside it,
    NAME.json with the settings and the handle track (the CLI's --json layout)."""
    ws = rec.frames_ws()
    frames = to_uint8(synthesize(G, ws, noise_mode))
    if markers:
        frames = draw_markers(frames, rec.frame_handles(), rec.targets)
    out = save_animation(frames, path, fps=fps)
    side = out.with_suffix(".json")
    atomic_write_text(side, json.dumps({**meta, "animation": out.name, "frames": len(frames),
                                        "track": rec.track()}, indent=1))
    return f"{out.name} ({len(frames)} frames) and {side.name}"
