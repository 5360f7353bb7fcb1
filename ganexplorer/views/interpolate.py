"""Interpolate: a path through two or more endpoints (seeds or pins), lerp or slerp in W or
Z, the frame at t in the image view, the endpoints' thumbnails and a strip of K frames.
A path of seeds is exactly `ganexplorer interpolate`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..latent import interp
from ..latent.sampling import class_labels, seeds_to_z
from ..render.figures import Figure, single
from ..render.recipes import interpolation_ws
from ..render.requests import Source
from ..render.synth import without_class, z_to_ws
from .base import BuildContext, SubState, View, ViewSpec


@dataclass(frozen=True)
class Endpoint:
    """An interpolation endpoint: a seed, or a pin."""
    seed: int | None = None
    pin_id: int | None = None

    def label(self) -> str:
        return f"seed {self.seed}" if self.pin_id is None else f"pin #{self.pin_id}"


@dataclass(frozen=True, eq=False)
class InterpolateState(SubState):
    view: ClassVar[View] = View.INTERPOLATE
    endpoints: tuple[Endpoint, ...] = (Endpoint(seed=0), Endpoint(seed=1))
    t: float = 0.0                         # position along the whole path, 0 .. 1
    method: str = "lerp"                   # 'lerp' | 'slerp'
    space: str = "w"                       # 'w' | 'z'
    frames: int = 8                        # K frames in the strip
    loop: bool = False
    classes: tuple[int, int] | None = None  # conditional models: the label travels class a -> b

    def without_pins(self, pin_ids: frozenset[int] | None) -> "InterpolateState":
        keep = tuple(e for e in self.endpoints if e.pin_id is None or (pin_ids is not None and e.pin_id not in pin_ids))
        return dataclasses.replace(self, endpoints=keep)

    def for_new_model(self) -> "InterpolateState":
        return InterpolateState(method=self.method, frames=self.frames)


@dataclass(frozen=True, eq=False)
class InterpolatePart:
    view: ClassVar[View] = View.INTERPOLATE
    endpoints: tuple[Source, ...] = ()     # two or more points of the path
    t: float = 0.0                         # 0 .. 1 along the whole path
    method: str = "lerp"
    space: str = "w"
    frames: int = 8                        # K frames of the strip
    loop: bool = False
    classes: tuple[int, int] | None = None  # interpolate the label from class a to b (before mapping)

    def render(self, rc) -> Figure:
        G, req, pts = rc.G, rc.req, self.endpoints
        if len(pts) < 2:
            raise ValueError("an interpolation needs two or more endpoints: add seeds or pins")
        seeds = [p.seed for p in pts] if all(p.ws is None for p in pts) else None
        space = self.space if seeds is not None else "w"
        meta = {"seeds": seeds, "psi": req.psi, "method": self.method, "space": space,
                "steps": self.frames, "loop": self.loop, **rc.steering_meta()}
        if self.classes is not None:
            meta["classes"] = list(self.classes)

        def strip() -> Figure:
            if seeds is not None:   # exactly `ganexplorer interpolate`
                ws = interpolation_ws(G, seeds, self.frames, self.method, space,
                                      req.psi, self.loop, class_path=self.classes)
            else:
                ws = interp.path(list(rc.sources_ws(pts)), self.frames, self.method, self.loop)
            labels = [f"{i}" for i in range(len(ws))]
            return single(G, ws, req.noise_mode, labels, len(ws), meta)

        any_seed = any(p.ws is None for p in pts)
        rc.extra("endpoints", rc.key(pts, seeds=any_seed), lambda: single(
            G, rc.sources_ws(pts), req.noise_mode, [p.label for p in pts], meta={"labels": [p.label for p in pts]}))
        rc.extra("strip", rc.key(pts, self.method, self.frames, self.space, self.loop, self.classes,
                                 seeds=any_seed), strip)
        # the frame at t, on the same polyline the strip samples
        n_seg = len(pts) if self.loop else len(pts) - 1
        u = min(max(self.t, 0.0), 1.0) * n_seg
        i = min(int(np.floor(u)), n_seg - 1)
        frac = float(u - i)
        a, b = pts[i], pts[(i + 1) % len(pts)]
        if seeds is not None and self.classes is not None:   # the label travels class a -> b
            z = interp.interpolate(*seeds_to_z([a.seed, b.seed], G.z_dim), frac, self.method)
            ca, cb = np.eye(G.c_dim, dtype=np.float32)[list(self.classes)]
            t = min(max(self.t, 0.0), 1.0)
            ws = z_to_ws(without_class(G), np.asarray(z, np.float32)[None], ((1 - t) * ca + t * cb)[None], req.psi)
        elif space == "z":
            z = interp.interpolate(*seeds_to_z([a.seed, b.seed], G.z_dim), frac, self.method)
            c = None
            if G.c_dim:
                c = interp.lerp(*class_labels([a.seed, b.seed], G.c_dim), frac)[None].astype(np.float32)
            ws = z_to_ws(G, np.asarray(z, np.float32)[None], c, req.psi)
        else:
            wa, wb = rc.sources_ws((a, b))
            ws = np.asarray(interp.interpolate(wa, wb, frac, self.method), np.float32)[None]
        return single(G, ws, req.noise_mode, [f"t={self.t:.3f}"], 1, {**meta, "t": self.t})


def request(sub: InterpolateState, ctx: BuildContext) -> InterpolatePart:
    endpoints = tuple(dataclasses.replace(Source(seed=e.seed) if e.pin_id is None else ctx.pin_source(e.pin_id),
                                          label=e.label()) for e in sub.endpoints)
    classes = sub.classes if sub.classes is not None and all(map(ctx.valid_class, sub.classes)) else None
    return InterpolatePart(endpoints, sub.t, sub.method, sub.space, sub.frames, sub.loop, classes)


SPEC = ViewSpec(View.INTERPOLATE, "Interpolate", InterpolateState, request,
                extras={"strip": "Interpolation strip"})
