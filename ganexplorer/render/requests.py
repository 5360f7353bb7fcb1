"""Render requests and results: immutable snapshots passed to and from the render thread.

The window fills a `RenderRequest` from its session state (no generator call on the GUI
thread: seeds stay seeds, the renderer maps them); the `Renderer` answers with a
`RenderResult`. Requests carry a `key` (a digest of everything but the stamp) so the
render thread can skip a duplicate, and a `stamp` (increasing) so the window can drop a
result that is older than what it already shows.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .figures import Figure


@dataclass(frozen=True, eq=False)
class Source:
    """A latent: a seed (mapped with the request's psi and cutoff) or an explicit ws."""
    seed: int | None = None          # NVIDIA's convention: z = RandomState(seed).randn(z_dim)
    ws: np.ndarray | None = None     # [1, num_ws, w_dim] when the latent is not a seed's
    label: str = ""                  # shown under its tile


@dataclass(frozen=True, eq=False)
class EditOp:
    """ws[:, start:stop] += alpha * vector (a direction slider)."""
    vector: np.ndarray               # [w_dim]
    alpha: float
    start: int = 0
    stop: int | None = None


@dataclass(frozen=True, eq=False)
class RenderRequest:
    stamp: int                                  # increasing; the window drops older results
    model: Any = field(default=None)            # LoadedModel to render with (never None in use)
    device: str = "cpu"                         # 'cpu' or 'cuda[:i]'
    psi: float = 1.0                            # truncation for every seed in the request
    cutoff: int | None = None                   # truncate layers [0, cutoff) only
    noise_mode: str = "const"                   # StyleGAN noise: 'const' | 'random' | 'none'
    view: str = "sample"                        # which figure the image view shows
    current: Source = Source(seed=0)            # the latent of Sample / Directions
    edits: tuple[EditOp, ...] = ()              # direction sliders applied to `current`
    grid_seeds: tuple[int, ...] = ()            # the Sample panel's browse grid
    pins: tuple[Source, ...] = ()               # thumbnails of the pinned latents
    # interpolate
    endpoints: tuple[Source, ...] = ()          # two or more points of the path
    interp_t: float = 0.0                       # 0 .. 1 along the whole path
    interp_method: str = "lerp"
    interp_space: str = "w"
    interp_frames: int = 8                      # K frames of the strip
    interp_loop: bool = False
    # arithmetic: (sign, members) per group
    groups: tuple[tuple[float, tuple[Source, ...]], ...] = ()
    arith_space: str = "z"
    arith_sigma: float = 0.25
    arith_neighbours: int = 8
    arith_noise_seed: int = 0
    # style mixing
    mix_rows: tuple[int, ...] = ()
    mix_cols: tuple[int, ...] = ()
    mix_layers: tuple[int, int] | None = None   # half-open; None: the coarse preset
    # conditional models and StyleGAN3 (issue 17)
    class_index: int | None = None              # one class for every sample; None: class = seed % c_dim
    interp_classes: tuple[int, int] | None = None  # interpolate the label from class a to b (before mapping)
    translate: tuple[float, float] = (0.0, 0.0)  # StyleGAN3 input transform: move (fractions of the image)
    rotate: float = 0.0                         # ... and turn (degrees, counter-clockwise)

    @functools.cached_property
    def key(self) -> str:
        """Digest of everything that decides the pixels (not the stamp); computed once."""
        return digest(*(getattr(self, f.name) for f in fields(self) if f.name != "stamp"))

    def part_key(self, *names: str, seeds: bool = True) -> str:
        """Digest of the model, device and noise plus the named fields, and the truncation
        when seeds are involved (explicit latents do not depend on it)."""
        trunc = (self.psi, self.cutoff, self.class_index) if seeds else ()
        return digest(self.model, self.device, self.noise_mode, *trunc, self.translate, self.rotate,
                      *(getattr(self, n) for n in names))


@dataclass
class RenderResult:
    stamp: int                                  # of the request it answers
    key: str                                    # the request's key
    view: str = "sample"
    figure: Figure | None = None                # what the image view shows
    image: np.ndarray | None = None             # [H, W, 3] uint8: the figure composed (off the GUI thread)
    current_ws: np.ndarray | None = None        # [1, num_ws, w_dim] the current latent, edits applied
    extras: dict[str, Figure] = field(default_factory=dict)      # 'grid', 'pins', 'strip'
    extra_keys: dict[str, str] = field(default_factory=dict)     # unchanged key: same figure
    data: dict[str, np.ndarray] = field(default_factory=dict)    # view arrays ('arith_result', ...)
    render_ms: float = 0.0                      # time spent in the renderer
    error: str | None = None                    # a sentence for the overlay, when it failed

    @property
    def ok(self) -> bool:
        return self.error is None


def digest(*parts: Any) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        _feed(h, p)
    return h.hexdigest()


def _feed(h, p: Any) -> None:
    if isinstance(p, np.ndarray):
        a = np.ascontiguousarray(p)
        h.update(f"nd{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    elif isinstance(p, (tuple, list)):
        h.update(f"[{len(p)}".encode())
        for q in p:
            _feed(h, q)
        h.update(b"]")
    elif isinstance(p, (Source, EditOp)):
        h.update(type(p).__name__.encode())
        for f in fields(p):
            _feed(h, getattr(p, f.name))
    elif hasattr(p, "sha256") and hasattr(p, "path"):     # a LoadedModel
        h.update(f"model:{p.path}:{p.sha256}:{id(p)}".encode())
    else:
        h.update(repr(p).encode())
        h.update(b"|")
