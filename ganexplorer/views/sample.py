"""Sample: the current latent (a seed or an explicit ws, with the direction edits) and the
browse grid of seeds beside it. Directions and Edit show the same single image."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..render.figures import Figure, single
from ..render.synth import note_preview, previewing, seeds_to_ws
from .base import BuildContext, SubState, View, ViewSpec


@dataclass(frozen=True, eq=False)
class SampleState(SubState):
    view: ClassVar[View] = View.SAMPLE
    grid_start: int = 0                    # first seed of the browse grid
    grid_size: int = 12                    # how many seeds it shows

    def for_new_model(self) -> "SampleState":
        return self                        # browsing settings outlive the model


def render_current(rc) -> Figure:
    """The current latent as one image (with export metadata): the figure of Sample,
    Directions and every view that edits the current latent."""
    req = rc.req
    meta = {"seed": req.current.seed if req.current.ws is None else None,
            "psi": req.psi, "truncation_cutoff": req.cutoff, "noise_mode": req.noise_mode,
            "edits": [{"alpha": e.alpha, "layers": [e.start, e.stop]} for e in req.edits],
            **rc.steering_meta()}
    G = previewing(rc.G, req.preview_ms)   # a drag: maybe a cheaper stage (render.synth)
    return note_preview(single(G, rc.current_ws, req.noise_mode, [req.current.label], 1, meta), G)


@dataclass(frozen=True, eq=False)
class SamplePart:
    view: ClassVar[View] = View.SAMPLE
    grid_seeds: tuple[int, ...] = ()       # the browse grid (empty while a slider is dragged)

    def render(self, rc) -> Figure:
        if self.grid_seeds:
            G, req, seeds = rc.G, rc.req, list(self.grid_seeds)
            rc.extra("grid", rc.key(self.grid_seeds), lambda: single(
                G, seeds_to_ws(G, seeds, req.psi, req.cutoff), req.noise_mode, [str(s) for s in seeds],
                meta={"seeds": seeds, "psi": req.psi, **rc.steering_meta()}))
        return render_current(rc)


def request(sub: SampleState, ctx: BuildContext) -> SamplePart:
    grid = () if ctx.dragging else tuple(range(sub.grid_start, sub.grid_start + sub.grid_size))
    return SamplePart(grid_seeds=grid)


SPEC = ViewSpec(View.SAMPLE, "Sample", SampleState, request, extras={"grid": "Browse grid"})
