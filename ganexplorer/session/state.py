"""The document: an immutable snapshot of everything the user is looking at.

A `SessionState` is replaced, never mutated: every gesture builds a new one with
`dataclasses.replace`, the undo history keeps the old ones, and a render request is
built from one. Arrays inside are treated as read-only (`freeze` marks them so).

Latents follow the house names: `ws` is [N, num_ws, w_dim] float32.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np

VIEWS = ("sample", "interpolate", "arithmetic", "mixing", "directions")


def freeze(a: np.ndarray | None) -> np.ndarray | None:
    """A read-only float32 copy (None stays None): states share arrays safely."""
    if a is None:
        return None
    out = np.array(a, dtype=np.float32, copy=True)
    out.flags.writeable = False
    return out


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


@dataclass(frozen=True)
class Group:
    """One concept of the arithmetic panel: the mean of its pins, with a sign."""
    sign: float = 1.0                # +1 or -1
    pin_ids: tuple[int, ...] = ()    # members, in the order they were dropped


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


@dataclass(frozen=True)
class Endpoint:
    """An interpolation endpoint: a seed, or a pin."""
    seed: int | None = None
    pin_id: int | None = None

    def label(self) -> str:
        return f"seed {self.seed}" if self.pin_id is None else f"pin #{self.pin_id}"


@dataclass(frozen=True, eq=False)
class SessionState:
    # the current latent (Sample and Directions panels)
    seed: int = 0                          # z = RandomState(seed).randn(z_dim)
    psi: float = 1.0                       # truncation, -1 .. 2
    cutoff: int | None = None              # truncate layers [0, cutoff) only (StyleGAN)
    noise_mode: str = "const"              # 'const' | 'random' | 'none' (StyleGAN)
    base_ws: np.ndarray | None = None      # [1, num_ws, w_dim] explicit latent replacing the seed
    base_label: str = ""                   # where base_ws came from ('edit', 'pin #3', ...)
    edits: tuple[Edit, ...] = ()           # direction sliders moved away from 0
    # sample grid
    grid_start: int = 0                    # first seed of the browse grid
    grid_size: int = 12                    # how many seeds it shows
    # pins and arithmetic
    pins: tuple[Pin, ...] = ()
    next_pin_id: int = 1
    groups: tuple[Group, ...] = (Group(1.0), Group(-1.0), Group(1.0))
    arith_space: str = "z"                 # 'z' (the DCGAN paper) or 'w'
    arith_sigma: float = 0.25              # neighbour noise
    arith_neighbours: int = 8
    arith_noise_seed: int = 0
    saved_directions: tuple[SavedDirection, ...] = ()
    # interpolation
    endpoints: tuple[Endpoint, ...] = (Endpoint(seed=0), Endpoint(seed=1))
    interp_t: float = 0.0                  # position along the whole path, 0 .. 1
    interp_method: str = "lerp"            # 'lerp' | 'slerp'
    interp_space: str = "w"                # 'w' | 'z'
    interp_frames: int = 8                 # K frames in the strip
    interp_loop: bool = False
    # style mixing
    mix_rows: str = "0-3"                  # seeds, parse_seeds syntax
    mix_cols: str = "4-7"
    mix_layers: tuple[int, int] | None = None  # (start, stop) half-open; None: the coarse preset
    # directions
    dir_method: str = "sefa"               # 'pca' | 'sefa' | 'saved'
    # conditional models and StyleGAN3 (issue 17)
    class_index: int | None = None         # one class for every sample; None: class follows seed (seed % c_dim)
    interp_classes: tuple[int, int] | None = None  # Interpolate: the label travels class a -> b
    translate: tuple[float, float] = (0.0, 0.0)    # StyleGAN3 input transform: move (fractions of the image)
    rotate: float = 0.0                    # ... and turn (degrees, counter-clockwise)
    # what the image view shows
    view: str = "sample"

    def replace(self, **changes: Any) -> "SessionState":
        for key in ("base_ws",):
            if key in changes:
                changes[key] = freeze(changes[key])
        return replace(self, **changes)

    def same_as(self, other: "SessionState") -> bool:
        """True when `other` shows exactly the same thing (arrays compared by value): an undo
        step from one to the other would change nothing."""
        return same(self, other)

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
        groups = tuple(Group(g.sign, tuple(i for i in g.pin_ids if i != pin_id)) for g in self.groups)
        endpoints = tuple(e for e in self.endpoints if e.pin_id != pin_id)
        return self.replace(pins=tuple(p for p in self.pins if p.id != pin_id), groups=groups,
                            endpoints=endpoints)


@dataclass
class ModelRef:
    """Which checkpoint a session was made with."""
    path: str
    sha256: str
    extra: dict[str, Any] = field(default_factory=dict)
