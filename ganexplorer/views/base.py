"""What every view shares: its name (`View`), its sub-state, how the sub-state becomes the
request's part, and the registry entry (`ViewSpec`) that ties them together.

A view is one module in this package (see views/__init__.py for the list). It defines
  - a frozen dataclass deriving from `SubState`: the fields the user sets in its panel,
    with their defaults (held by the session state, saved in the session file);
  - a frozen request part (a render.requests.ViewPart): everything that decides its pixels,
    with a `render(rc)` method the renderer calls (rc: render.renderer.RenderContext);
  - `request(sub, ctx) -> part`: the sub-state plus the shared state as a part (pin ids
    resolved to Sources, seed texts parsed; no generator call here);
  - `SPEC = ViewSpec(View.X, "Title", TheState, request)`.
This layer sits between session (above) and render (below): it may use render, latent and
export, never session or ui.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, ClassVar, Protocol

import numpy as np

from ..render.requests import Source, ViewPart


class View(str, Enum):
    """The views the image area can show (one module each in this package)."""
    SAMPLE = "sample"
    INTERPOLATE = "interpolate"
    ARITHMETIC = "arithmetic"
    MIXING = "mixing"
    DIRECTIONS = "directions"
    LABELS = "labels"
    DRAG = "drag"
    LAYERS = "layers"

    def __str__(self) -> str:
        return self.value


def freeze(a: np.ndarray | None) -> np.ndarray | None:
    """A read-only float32 copy (None stays None): states share arrays safely."""
    if a is None:
        return None
    out = np.array(a, dtype=np.float32, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class SubState:
    """One view's part of the session state. Subclasses are frozen dataclasses whose every
    field has a default (the fresh state); arrays inside are frozen (`freeze`). They are
    compared by value (session.state.same) and saved field by field (views.codec)."""
    view: ClassVar[View]

    def without_pins(self, pin_ids: frozenset[int] | None) -> "SubState":
        """This sub-state once the pins `pin_ids` (None: every pin) are gone."""
        return self

    def for_new_model(self) -> "SubState":
        """What survives opening another model (browsing settings); default: a fresh state."""
        return type(self)()


class SharedState(Protocol):
    """The part of session.state.SessionState a view's `request` may read."""
    seed: int
    psi: float
    cutoff: int | None
    class_index: int | None
    base_ws: np.ndarray | None
    pins: tuple[Any, ...]                        # session.state.Pin
    saved_directions: tuple[Any, ...]            # session.state.SavedDirection

    def pin(self, pin_id: int) -> Any: ...       # a Pin or None


@dataclass(frozen=True)
class BuildContext:
    """What `request(sub, ctx)` gets besides its sub-state."""
    shared: SharedState            # the session state (seed, psi, pins, ...)
    G: Any                         # the open model's generator: read its sizes, never call it here
    dragging: bool = False         # a slider drag is under way: leave out slow extras (browse grid)

    def pin_source(self, pin_id: int) -> Source:
        """A pin as a render Source: its seed when it re-maps to the same latent (made under
        today's class), else its stored ws."""
        p = self.shared.pin(pin_id)
        if p is None:
            return Source(seed=0, label="missing pin")
        by_seed = p.seed is not None and p.class_index == self.shared.class_index
        return Source(seed=p.seed, label=str(p.seed)) if by_seed else Source(ws=p.ws, label=p.label)

    def valid_class(self, k: int | None) -> bool:
        """`k` is a class of the open model (a session from another model may hold others)."""
        return k is not None and 0 <= k < self.G.c_dim


@dataclass(frozen=True)
class ViewSpec:
    """One view's registry entry."""
    view: View
    title: str                                            # the panel's tab, the history, exports
    state: type[SubState]                                 # its sub-state class
    request: Callable[[Any, BuildContext], ViewPart]      # (sub-state, ctx) -> request part
    extras: dict[str, str] = field(default_factory=dict)  # its extra figures: name -> export title
