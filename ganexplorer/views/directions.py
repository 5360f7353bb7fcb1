"""Directions: sliders along semantic directions (SeFa, GANSpace PCA, saved ones) that move
the current latent. The sliders are the shared `edits`; this view keeps which set is shown
and renders the edited current latent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..render.figures import Figure
from .base import BuildContext, SubState, View, ViewSpec
from .sample import render_current


@dataclass(frozen=True, eq=False)
class DirectionsState(SubState):
    view: ClassVar[View] = View.DIRECTIONS
    method: str = "sefa"                   # 'pca' | 'sefa' | 'saved'

    def for_new_model(self) -> "DirectionsState":
        return self


@dataclass(frozen=True, eq=False)
class DirectionsPart:
    view: ClassVar[View] = View.DIRECTIONS

    def render(self, rc) -> Figure:
        return render_current(rc)


def request(sub: DirectionsState, ctx: BuildContext) -> DirectionsPart:
    return DirectionsPart()


SPEC = ViewSpec(View.DIRECTIONS, "Directions", DirectionsState, request)
