"""The document: an immutable snapshot of everything the user is looking at.

A `SessionState` is replaced, never mutated: every gesture builds a new one with
`dataclasses.replace`, the undo history keeps the old ones, and a render request is
built from one. Arrays inside are treated as read-only (`freeze` marks them so).

It holds what every view shares (the current latent, pins, saved directions, class and
transform), the current `view`, and one sub-state per view (`views`; read one with
`sub(View.X)`, replace it with `with_sub` / `change_sub`). Each sub-state is defined by its
view's module in ganexplorer.views.

Latents follow the house names: `ws` is [N, num_ws, w_dim] float32.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np

from ..views import SubState, View, default_states, freeze, spec
from ..views.arithmetic import Group
from ..views.interpolate import Endpoint

__all__ = ["Edit", "Endpoint", "Group", "ModelRef", "Pin", "SavedDirection", "SessionState", "View",
           "freeze", "same"]


def same(a: Any, b: Any) -> bool:
    """Value equality through states, pins, edits and arrays (their dataclasses use identity)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b))
    if is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@dataclass(frozen=True, eq=False)
class Pin:
    """A latent the user kept: from a seed (then `seed` is set) or an edited latent."""
    id: int                          # unique within the session
    label: str                       # shown under the thumbnail
    ws: np.ndarray                   # [1, num_ws, w_dim] as rendered when pinned
    seed: int | None = None          # the seed it came from, when it came from one
    psi: float = 1.0                 # truncation used for `ws`
    class_index: int | None = None   # the class chosen when pinned (None: class followed the seed)


@dataclass(frozen=True, eq=False)
class Edit:
    """One direction slider: ws[:, start:stop] += alpha * vector."""
    name: str                        # 'PCA 0', 'SeFa 3', or a saved direction's name
    vector: np.ndarray               # [w_dim] unit direction
    alpha: float                     # step, in w units
    start: int = 0                   # first layer it acts on
    stop: int | None = None          # one past the last layer (None: all layers)


@dataclass(frozen=True, eq=False)
class SavedDirection:
    """A direction the user saved from the arithmetic panel."""
    name: str
    vector: np.ndarray               # [w_dim] unit vector
    scale: float                     # its length: alpha = scale reproduces the saved step
    accuracy: float | None = None    # held-out accuracy of a labelled direction (None: not labelled)


@dataclass(frozen=True, eq=False)
class SessionState:
    # the current latent (Sample, Directions and every view that edits it)
    seed: int = 0                          # z = RandomState(seed).randn(z_dim)
    psi: float = 1.0                       # truncation, -1 .. 2
    cutoff: int | None = None              # truncate layers [0, cutoff) only (StyleGAN)
    noise_mode: str = "const"              # 'const' | 'random' | 'none' (StyleGAN)
    base_ws: np.ndarray | None = None      # [1, num_ws, w_dim] explicit latent replacing the seed
    base_label: str = ""                   # where base_ws came from ('edit', 'pin #3', ...)
    edits: tuple[Edit, ...] = ()           # direction sliders moved away from 0
    # pins (thumbnails, arithmetic groups, interpolation endpoints) and saved directions
    pins: tuple[Pin, ...] = ()
    next_pin_id: int = 1
    saved_directions: tuple[SavedDirection, ...] = ()
    # conditional models and StyleGAN3 (issue 17)
    class_index: int | None = None         # one class for every sample; None: class follows seed (seed % c_dim)
    translate: tuple[float, float] = (0.0, 0.0)    # StyleGAN3 input transform: move (fractions of the image)
    rotate: float = 0.0                    # ... and turn (degrees, counter-clockwise)
    # each view's own fields: one sub-state per registered view (ganexplorer.views), in registry order
    views: tuple[SubState, ...] = field(default_factory=default_states)
    # what the image view shows: the one place the current view is kept (the explorer reads it)
    view: View = View.SAMPLE

    def replace(self, **changes: Any) -> "SessionState":
        for key in ("base_ws",):
            if key in changes:
                changes[key] = freeze(changes[key])
        return replace(self, **changes)

    def same_as(self, other: "SessionState") -> bool:
        """True when `other` shows exactly the same thing (arrays compared by value): an undo
        step from one to the other would change nothing."""
        return same(self, other)

    def sub(self, view: View | str) -> Any:
        """The sub-state of `view` (its module's dataclass, e.g. views.interpolate.InterpolateState)."""
        view = View(view)
        for v in self.views:
            if v.view == view:
                return v
        return spec(view).state()        # a view registered after this state was made

    def with_sub(self, sub: SubState) -> "SessionState":
        """This state with `sub` as its view's sub-state."""
        rest = tuple(v for v in self.views if v.view != sub.view)
        if len(rest) == len(self.views):
            return self.replace(views=self.views + (sub,))
        return self.replace(views=tuple(sub if v.view == sub.view else v for v in self.views))

    def change_sub(self, view: View | str, **fields: Any) -> "SessionState":
        """This state with `fields` of `view`'s sub-state replaced."""
        return self.with_sub(replace(self.sub(view), **fields))

    def pin(self, pin_id: int) -> Pin | None:
        for p in self.pins:
            if p.id == pin_id:
                return p
        return None

    def edit(self, name: str) -> Edit | None:
        for e in self.edits:
            if e.name == name:
                return e
        return None

    def with_edit(self, edit: Edit) -> "SessionState":
        """Set (or, with alpha 0 and full range, remove) one direction slider."""
        rest = tuple(e for e in self.edits if e.name != edit.name)
        keep = edit.alpha != 0 or edit.start != 0 or edit.stop is not None
        return self.replace(edits=rest + ((edit,) if keep else ()))

    def add_pin(self, ws: np.ndarray, label: str, seed: int | None = None,
                psi: float = 1.0, class_index: int | None = None) -> "SessionState":
        pin = Pin(self.next_pin_id, label, freeze(np.asarray(ws).reshape(1, *np.shape(ws)[-2:])),
                  seed, float(psi), class_index)
        return self.replace(pins=self.pins + (pin,), next_pin_id=self.next_pin_id + 1)

    def remove_pin(self, pin_id: int) -> "SessionState":
        return self.replace(pins=tuple(p for p in self.pins if p.id != pin_id),
                            views=tuple(v.without_pins(frozenset({pin_id})) for v in self.views))

    def without_pins(self) -> "SessionState":
        """No pins left, and no view refers to one."""
        return self.replace(pins=(), views=tuple(v.without_pins(None) for v in self.views))

    def for_new_model(self) -> "SessionState":
        """A fresh state for another model that keeps the browsing settings (seed, psi and
        what each view keeps: the grid, the interpolation method, ...)."""
        return SessionState(seed=self.seed, psi=self.psi, views=tuple(v.for_new_model() for v in self.views),
                            view=self.view)


@dataclass
class ModelRef:
    """Which checkpoint a session was made with."""
    path: str
    sha256: str
    extra: dict[str, Any] = field(default_factory=dict)
