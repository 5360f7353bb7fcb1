"""Arithmetic: concept groups of pins, each with a sign; the figure of the DCGAN paper
(members and mean per group, the result and its noisy neighbours). A sum of seed groups is
exactly `ganexplorer arithmetic`. The result latents go to the front end as data
(RESULT [1, L, D], MEANS [G, L, D]) for pinning and saving directions."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..latent import arithmetic as arith
from ..render.figures import Figure, arithmetic_figure
from ..render.recipes import ArithmeticResult, arithmetic_ws
from ..render.requests import Source
from .base import BuildContext, SubState, View, ViewSpec

RESULT, MEANS = "arith_result", "arith_means"     # the names of its RenderResult.data


@dataclass(frozen=True)
class Group:
    """One concept of the arithmetic panel: the mean of its pins, with a sign."""
    sign: float = 1.0                # +1 or -1
    pin_ids: tuple[int, ...] = ()    # members, in the order they were dropped
    name: str = ""                   # the concept, captioned in the figure ('smiling woman'); '': A, B, C...


@dataclass(frozen=True, eq=False)
class ArithmeticState(SubState):
    view: ClassVar[View] = View.ARITHMETIC
    groups: tuple[Group, ...] = (Group(1.0), Group(-1.0), Group(1.0))
    space: str = "z"                       # 'z' (the DCGAN paper) or 'w'
    sigma: float = arith.DEFAULT_SIGMA     # neighbour noise (the default chosen by looking: latent.arithmetic)
    neighbours: int = 8
    noise_seed: int = 0

    def without_pins(self, pin_ids: frozenset[int] | None) -> "ArithmeticState":
        groups = tuple(dataclasses.replace(g, pin_ids=() if pin_ids is None else
                                           tuple(i for i in g.pin_ids if i not in pin_ids))
                       for g in self.groups)
        return dataclasses.replace(self, groups=groups)


@dataclass(frozen=True, eq=False)
class ArithmeticPart:
    view: ClassVar[View] = View.ARITHMETIC
    groups: tuple[tuple[float, tuple[Source, ...]], ...] = ()    # (sign, members) per group
    space: str = "z"
    sigma: float = arith.DEFAULT_SIGMA
    neighbours: int = 8
    noise_seed: int = 0
    names: tuple[str, ...] = ()            # per group, '' for unnamed (captioned A, B, C...)

    def render(self, rc) -> Figure:
        G, req, groups = rc.G, rc.req, self.groups
        if len(groups) < 2:
            raise ValueError("vector arithmetic needs at least two groups")
        for n, (_, members) in enumerate(groups):
            if not members:
                raise ValueError(f"group {n + 1} is empty: drop one or more pins into it")
        signs = [float(s) for s, _ in groups]
        labels = [[f"seed {m.seed}" if m.ws is None else m.label for m in members] for _, members in groups]
        all_seeds = all(m.ws is None for _, ms in groups for m in ms)
        space = self.space if all_seeds else "w"
        if all_seeds:   # exactly `ganexplorer arithmetic`
            r = arithmetic_ws(G, [[int(m.seed) for m in ms] for _, ms in groups], signs, space,
                              req.psi, self.neighbours, self.sigma, self.noise_seed)
        else:
            members = [rc.sources_ws(ms) for _, ms in groups]
            means = np.stack([arith.group_mean(m) for m in members])
            result = arith.combine(list(means), signs)[None]
            neigh = arith.neighbours(result[0], self.neighbours, self.sigma, self.noise_seed)
            r = ArithmeticResult(members, means, result.astype(np.float32), neigh.astype(np.float32))
        names = [(self.names[i] if i < len(self.names) else "") or chr(ord("A") + i % 26)
                 for i in range(len(groups))]
        fig = arithmetic_figure(G, r, signs, labels, req.noise_mode, names=names, sigma=self.sigma)
        fig.meta = {"groups": [[m.seed for m in ms] for _, ms in groups], "signs": signs, "psi": req.psi,
                    "space": space, "neighbours": self.neighbours, "sigma": self.sigma,
                    "noise_seed": self.noise_seed}
        rc.data[RESULT] = r.result      # [1, L, D]
        rc.data[MEANS] = r.means        # [G, L, D]
        return fig


def request(sub: ArithmeticState, ctx: BuildContext) -> ArithmeticPart:
    groups = tuple((g.sign, tuple(ctx.pin_source(i) for i in g.pin_ids)) for g in sub.groups)
    return ArithmeticPart(groups, sub.space, sub.sigma, sub.neighbours, sub.noise_seed,
                          tuple(g.name for g in sub.groups))


SPEC = ViewSpec(View.ARITHMETIC, "Arithmetic", ArithmeticState, request)
