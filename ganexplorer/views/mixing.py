"""Style mixing (StyleGAN only): row seeds x column seeds, as in the StyleGAN paper's
figure 3; each cell takes the chosen layers from its column seed. Exactly `ganexplorer mix`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..latent.sampling import parse_seeds
from ..latent.stylemix import resolve_layers
from ..render.figures import Figure, mixing_figure
from ..render.recipes import mixing_ws
from .base import BuildContext, SubState, View, ViewSpec


@dataclass(frozen=True, eq=False)
class MixingState(SubState):
    view: ClassVar[View] = View.MIXING
    rows: str = "0-3"                      # seeds, parse_seeds syntax
    cols: str = "4-7"
    layers: tuple[int, int] | None = None  # (start, stop) half-open; None: the coarse preset

    def for_new_model(self) -> "MixingState":
        return MixingState(rows=self.rows, cols=self.cols)


@dataclass(frozen=True, eq=False)
class MixingPart:
    view: ClassVar[View] = View.MIXING
    rows: tuple[int, ...] = ()
    cols: tuple[int, ...] = ()
    layers: tuple[int, int] | None = None  # half-open; None: the coarse preset

    def render(self, rc) -> Figure:
        G, req = rc.G, rc.req
        if not G.has_styles:
            raise ValueError("style mixing needs a model with per-layer styles (StyleGAN); "
                             "this one has a single latent")
        if not self.rows or not self.cols:
            raise ValueError("give row and column seeds, like 0-3 and 4-7")
        layers = self.layers if self.layers is not None else "coarse"
        rows, cols, cells = mixing_ws(G, list(self.rows), list(self.cols), layers, req.psi)
        fig = mixing_figure(G, rows, cols, cells, req.noise_mode,
                            [str(s) for s in self.rows], [str(s) for s in self.cols])
        span = resolve_layers(layers, G.num_ws, G.img_resolution, G.ws_per_resolution,
                              G.ws_sampling_rates())
        fig.meta = {"rows": list(self.rows), "cols": list(self.cols), "layers": list(span),
                    "psi": req.psi, "noise_mode": req.noise_mode}
        return fig


def request(sub: MixingState, ctx: BuildContext) -> MixingPart:
    try:
        rows, cols = tuple(parse_seeds(sub.rows, 64)), tuple(parse_seeds(sub.cols, 64))
    except ValueError:        # the panel says what is wrong; the figure asks for seeds
        rows, cols = (), ()
    return MixingPart(rows, cols, sub.layers)


SPEC = ViewSpec(View.MIXING, "Style mixing", MixingState, request)
