"""The Renderer: a RenderRequest in, a RenderResult out, never an exception.

Plain Python, no Qt, no threads of its own: the render thread calls `render` (and tests
call it directly). It knows no view: it maps the current latent, asks the request's part
(a view's, from ganexplorer.views) to render itself through a `RenderContext`, and adds the
pins' thumbnails. It keeps one copy of the generator per device and remembers the last few
thumbnail sets (pins and each view's, through `RenderContext.extra`) so that dragging a
slider re-renders only what the slider changes. Seeds and recipes go through render.synth
and render.recipes, the same calls the CLI makes, so both give identical images.
"""
from __future__ import annotations

import copy
import os
import time
from collections import OrderedDict
from typing import Callable

import numpy as np
import torch

from ..latent.directions import apply_direction
from ..models.protocol import GeneratorBase
from .figures import Figure, single
from .requests import RenderRequest, RenderResult, Source
from .synth import seeds_to_ws, steered


def default_cpu_threads() -> int:
    """Half the cores, at most 4: single-image renders gain little from more, and an
    oversubscribed OpenMP pool (other programs busy) is many times slower than one thread.
    OMP_NUM_THREADS, when set, wins."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class Renderer:
    def __init__(self,
                 memo_size: int = 16,           # thumbnail figures remembered between requests
                 devices_kept: int = 2,         # generator copies kept on non-CPU devices
                 cpu_threads: int | None = None):  # torch intra-op threads (process-wide); None: keep
        if cpu_threads:
            torch.set_num_threads(int(cpu_threads))
        self._memo: OrderedDict[str, Figure] = OrderedDict()
        self._memo_size = memo_size
        self._copies: OrderedDict[tuple[int, str], GeneratorBase] = OrderedDict()
        self._devices_kept = devices_kept

    # ------------------------------------------------------------------ entry point
    def render(self, req: RenderRequest) -> RenderResult:
        t0 = time.perf_counter()
        out = RenderResult(stamp=req.stamp, key=req.key, view=req.view)
        try:
            with torch.no_grad():
                self._render(req, out)
            if out.figure is not None:
                out.image = out.figure.array()
        except Exception as e:   # the render thread must survive anything a model does
            out.figure = None
            out.error = _message(e)
        out.render_ms = (time.perf_counter() - t0) * 1000.0
        return out

    # ------------------------------------------------------------------ internals
    def generator(self, model, device: str) -> GeneratorBase:
        """The model's generator on `device` (a cached copy off the CPU)."""
        G = model.G
        if device == "cpu" or str(G.w_avg.device) == device:
            return G
        key = (id(model), device)
        if key not in self._copies:
            self._copies[key] = copy.deepcopy(G).to(device)
            while len(self._copies) > self._devices_kept:
                self._copies.popitem(last=False)
        self._copies.move_to_end(key)
        return self._copies[key]

    def _render(self, req: RenderRequest, out: RenderResult) -> None:
        if req.model is None:
            raise ValueError("no model is open")
        if req.part is None:
            raise ValueError("the request names no view to show")
        # The chosen class and StyleGAN3 transform ride on a view of G (never a mutation of it).
        G = steered(self.generator(req.model, req.device), req.class_index, req.translate, req.rotate)
        current = self._current_ws(G, req)
        out.current_ws = current
        rc = RenderContext(self, G, req, out, current)
        out.figure = req.part.render(rc)       # the view draws its figure (and its extras, data)
        if req.pins:
            rc.extra("pins", req.part_key(req.pins, seeds=False), lambda: single(
                G, rc.sources_ws(req.pins, req.cutoff), req.noise_mode,
                [p.label for p in req.pins], meta={"labels": [p.label for p in req.pins]}))

    def _memoised(self, key: str, make) -> Figure:
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        fig = make()
        self._memo[key] = fig
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return fig

    def _current_ws(self, G, req: RenderRequest) -> np.ndarray:
        ws = self._sources_ws(G, (req.current,), req.psi, req.cutoff)     # [1, L, D]
        for e in req.edits:
            stop = G.num_ws if e.stop is None else e.stop
            ws = apply_direction(ws, _vector(G, e.vector), e.alpha, (e.start, stop))
        return ws

    @staticmethod
    def _sources_ws(G, sources: tuple[Source, ...], psi: float, cutoff: int | None = None) -> np.ndarray:
        """[N, L, D]: seeds mapped in one batch, explicit latents checked and kept."""
        out: list[np.ndarray | None] = [None] * len(sources)
        seeds = [(i, s.seed) for i, s in enumerate(sources) if s.ws is None]
        for i, s in enumerate(sources):
            if s.ws is not None:
                ws = np.asarray(s.ws, np.float32)
                if ws.shape[-2:] != (G.num_ws, G.w_dim):
                    raise ValueError(f"the latent {s.label or ''} is shaped {list(ws.shape)}, but this "
                                     f"model needs [1, {G.num_ws}, {G.w_dim}]; it came from another model")
                out[i] = ws.reshape(G.num_ws, G.w_dim)
        if seeds:
            mapped = seeds_to_ws(G, [int(s) for _, s in seeds], psi, cutoff)
            for (i, _), ws in zip(seeds, mapped):
                out[i] = ws
        return np.stack(out).astype(np.float32) if out else np.zeros((0, G.num_ws, G.w_dim), np.float32)



class RenderContext:
    """What a view's part gets in `render(rc)`: the generator (steered by the request's class
    and transform), the request, the current latent, and the renderer's helpers. A view
    returns its figure; extra figures (memoised thumbnails) and arrays go through here."""

    def __init__(self, renderer: Renderer, G, req: RenderRequest, out: RenderResult, current_ws: np.ndarray):
        self.G = G                          # call it freely: this is the render thread
        self.req = req
        self.current_ws = current_ws        # [1, num_ws, w_dim] the current latent, edits applied
        self.data = out.data                # name -> array, for the front end (RenderResult.data)
        self._renderer, self._out = renderer, out

    def key(self, *values, seeds: bool = True) -> str:
        """A thumbnail set's key: model, device, noise, steering (and truncation when `seeds`)
        plus `values`. An unchanged key reuses the figure and tells the panel nothing changed."""
        return self.req.part_key(*values, seeds=seeds)

    def extra(self, name: str, key: str, make: Callable[[], Figure]) -> Figure:
        """The extra figure `name` (a panel's thumbnails): made by `make()` unless a figure
        with this key is remembered; put into the result's extras and extra_keys."""
        fig = self._renderer._memoised(key, make)
        self._out.extra_keys[name] = key
        self._out.extras[name] = fig
        return fig

    def sources_ws(self, sources: tuple[Source, ...], cutoff: int | None = None) -> np.ndarray:
        """[N, num_ws, w_dim]: seeds mapped with the request's psi (and `cutoff`) in one batch,
        explicit latents checked against the model and kept."""
        return self._renderer._sources_ws(self.G, sources, self.req.psi, cutoff)

    def steering_meta(self) -> dict:
        """The chosen class and StyleGAN3 transform, for export metadata (left out when unset)."""
        return _steering_meta(self.req)


def _steering_meta(req: RenderRequest) -> dict:
    """The chosen class and StyleGAN3 transform, for export metadata (left out when unset)."""
    meta: dict = {}
    if req.class_index is not None:
        meta["class"] = req.class_index
    if tuple(req.translate) != (0.0, 0.0) or req.rotate:
        meta.update(translate=list(req.translate), rotate=req.rotate)
    return meta


def _vector(G, v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32).reshape(-1)
    if v.shape[0] != G.w_dim:
        raise ValueError(f"a direction of size {v.shape[0]} does not fit this model's w ({G.w_dim})")
    return v


def _message(e: Exception) -> str:
    if isinstance(e, ValueError):
        return str(e)
    if isinstance(e, torch.cuda.OutOfMemoryError if hasattr(torch.cuda, "OutOfMemoryError") else MemoryError):
        return "the GPU ran out of memory; choose the CPU or a smaller grid"
    return f"rendering failed ({type(e).__name__}: {e})"
