"""Render requests and results: immutable snapshots passed to and from the render thread.

The explorer fills a `RenderRequest` from its session state (no generator call on the GUI
thread: seeds stay seeds, the renderer maps them): the fields every view shares, plus one
`part`, the shown view's own request (a `ViewPart`, defined in ganexplorer.views), which
renders itself. The `Renderer` answers with a `RenderResult`. Requests carry a `key` (a
digest of everything but the stamp) so the render thread can skip a duplicate, and a
`stamp` (increasing) so the window can drop a result older than what it already shows.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, ClassVar, Protocol

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


class ViewPart(Protocol):
    """The view-specific part of a request: a frozen dataclass (hashed into the request's key)
    that renders itself. Views define them (ganexplorer.views); the renderer only calls them."""
    view: ClassVar[str]                         # the view's name (a views.View)

    def render(self, rc: Any) -> Figure:        # rc: renderer.RenderContext
        """The figure the image view shows; extras and data go through `rc`."""
        ...


@dataclass(frozen=True, eq=False)
class RenderRequest:
    stamp: int                                  # increasing; the window drops older results
    model: Any = field(default=None)            # LoadedModel to render with (never None in use)
    device: str = "cpu"                         # 'cpu' or 'cuda[:i]'
    psi: float = 1.0                            # truncation for every seed in the request
    cutoff: int | None = None                   # truncate layers [0, cutoff) only
    noise_mode: str = "const"                   # StyleGAN noise: 'const' | 'random' | 'none'
    current: Source = Source(seed=0)            # the current latent (Sample, Directions, ...)
    edits: tuple[EditOp, ...] = ()              # direction sliders applied to `current`
    pins: tuple[Source, ...] = ()               # thumbnails of the pinned latents
    # conditional models and StyleGAN3 (issue 17)
    class_index: int | None = None              # one class for every sample; None: class = seed % c_dim
    translate: tuple[float, float] = (0.0, 0.0)  # StyleGAN3 input transform: move (fractions of the image)
    rotate: float = 0.0                         # ... and turn (degrees, counter-clockwise)
    preview_ms: float | None = None             # a slider drag: the current image may be a cheaper
                                                # stage that fits this many ms (render.synth); None: full
    part: ViewPart | None = None                # the shown view's own fields; it renders the figure

    @property
    def view(self) -> str:
        """The name of the view this request shows ('' without a part)."""
        return "" if self.part is None else str(self.part.view)

    @functools.cached_property
    def key(self) -> str:
        """Digest of everything that decides the pixels (not the stamp); computed once."""
        return digest(*(getattr(self, f.name) for f in fields(self) if f.name != "stamp"))

    def part_key(self, *values: Any, seeds: bool = True) -> str:
        """Digest of the model, device, noise and steering plus `values`, and the truncation
        when seeds are involved (explicit latents do not depend on it): the key of one
        thumbnail set, which stays the same while only other fields change."""
        trunc = (self.psi, self.cutoff, self.class_index) if seeds else ()
        return digest(self.model, self.device, self.noise_mode, *trunc, self.translate, self.rotate, *values)


@dataclass
class RenderResult:
    stamp: int                                  # of the request it answers
    key: str                                    # the request's key
    view: str = ""                              # the request's view
    figure: Figure | None = None                # what the image view shows
    image: np.ndarray | None = None             # [H, W, 3] uint8: the figure composed (off the GUI thread)
    current_ws: np.ndarray | None = None        # [1, num_ws, w_dim] the current latent, edits applied
    extras: dict[str, Figure] = field(default_factory=dict)      # 'pins' and the view's thumbnails
    extra_keys: dict[str, str] = field(default_factory=dict)     # unchanged key: same figure
    data: dict[str, np.ndarray] = field(default_factory=dict)    # the view's arrays (its result latents)
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
    elif hasattr(p, "sha256") and hasattr(p, "path"):     # a LoadedModel
        h.update(f"model:{p.path}:{p.sha256}:{id(p)}".encode())
    elif is_dataclass(p) and not isinstance(p, type):     # Source, EditOp, a view's part and its pieces
        h.update(type(p).__name__.encode())
        for f in fields(p):
            _feed(h, getattr(p, f.name))
    else:
        h.update(repr(p).encode())
        h.update(b"|")
