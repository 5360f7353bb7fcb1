"""The Renderer: a RenderRequest in, a RenderResult out, never an exception.

Plain Python, no Qt, no threads of its own: the render thread calls `render` (and tests
call it directly). It keeps one copy of the generator per device and remembers the last
few thumbnail sets (browse grid, pins, interpolation strip) so that dragging a slider
re-renders only what the slider changes. Seeds and recipes go through render.synth and
render.recipes, the same calls the CLI makes, so both give identical images.
"""
from __future__ import annotations

import copy
import os
import time
from collections import OrderedDict

import numpy as np
import torch

from ..latent import arithmetic as arith
from ..latent import interp
from ..latent.directions import apply_direction
from ..latent.sampling import class_labels, seeds_to_z
from ..models.protocol import GeneratorBase
from .figures import Figure, arithmetic_figure, mixing_figure, single
from .recipes import ArithmeticResult, arithmetic_ws, interpolation_ws, mixing_ws
from .requests import RenderRequest, RenderResult, Source
from .synth import seeds_to_ws, steered, without_class, z_to_ws


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
        # The chosen class and StyleGAN3 transform ride on a view of G (never a mutation of it).
        G = steered(self.generator(req.model, req.device), req.class_index, req.translate, req.rotate)
        current = self._current_ws(G, req)
        out.current_ws = current
        nm = req.noise_mode
        if req.view == "interpolate":
            out.figure = self._interpolate(G, req, out)
        elif req.view == "arithmetic":
            out.figure = self._arithmetic(G, req, out)
        elif req.view == "mixing":
            out.figure = self._mixing(G, req)
        else:   # 'sample', 'directions' and panels that edit the current latent
            meta = {"seed": req.current.seed if req.current.ws is None else None,
                    "psi": req.psi, "truncation_cutoff": req.cutoff, "noise_mode": nm,
                    "edits": [{"alpha": e.alpha, "layers": [e.start, e.stop]} for e in req.edits],
                    **_steering_meta(req)}
            out.figure = single(G, current, nm, [req.current.label], 1, meta)
        if req.view == "sample" and req.grid_seeds:
            out.extra_keys["grid"] = key = req.part_key("grid_seeds")
            out.extras["grid"] = self._memoised(key, lambda: single(
                G, seeds_to_ws(G, list(req.grid_seeds), req.psi, req.cutoff), nm,
                [str(s) for s in req.grid_seeds], meta={"seeds": list(req.grid_seeds), "psi": req.psi,
                                                        **_steering_meta(req)}))
        if req.pins:
            out.extra_keys["pins"] = key = req.part_key("pins", seeds=False)
            out.extras["pins"] = self._memoised(key, lambda: single(
                G, self._sources_ws(G, req.pins, req.psi, req.cutoff), nm,
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

    # ---------------------------------------------------------------- interpolate
    def _interpolate(self, G, req: RenderRequest, out: RenderResult) -> Figure:
        pts = req.endpoints
        if len(pts) < 2:
            raise ValueError("an interpolation needs two or more endpoints: add seeds or pins")
        seeds = [p.seed for p in pts] if all(p.ws is None for p in pts) else None
        space = req.interp_space if seeds is not None else "w"
        meta = {"seeds": seeds, "psi": req.psi, "method": req.interp_method, "space": space,
                "steps": req.interp_frames, "loop": req.interp_loop, **_steering_meta(req)}
        if req.interp_classes is not None:
            meta["classes"] = list(req.interp_classes)

        def strip() -> Figure:
            if seeds is not None:   # exactly `ganexplorer interpolate`
                ws = interpolation_ws(G, seeds, req.interp_frames, req.interp_method, space,
                                      req.psi, req.interp_loop, class_path=req.interp_classes)
            else:
                ws = interp.path(list(self._sources_ws(G, pts, req.psi)), req.interp_frames,
                                 req.interp_method, req.interp_loop)
            labels = [f"{i}" for i in range(len(ws))]
            return single(G, ws, req.noise_mode, labels, len(ws), meta)

        any_seed = any(p.ws is None for p in pts)
        out.extra_keys["endpoints"] = key = req.part_key("endpoints", seeds=any_seed)
        out.extras["endpoints"] = self._memoised(key, lambda: single(
            G, self._sources_ws(G, pts, req.psi), req.noise_mode, [p.label for p in pts],
            meta={"labels": [p.label for p in pts]}))
        out.extra_keys["strip"] = key = req.part_key("endpoints", "interp_method", "interp_frames",
                                                     "interp_space", "interp_loop", "interp_classes",
                                                     seeds=any_seed)
        out.extras["strip"] = self._memoised(key, strip)
        # the frame at t, on the same polyline the strip samples
        n_seg = len(pts) if req.interp_loop else len(pts) - 1
        u = min(max(req.interp_t, 0.0), 1.0) * n_seg
        i = min(int(np.floor(u)), n_seg - 1)
        frac = float(u - i)
        a, b = pts[i], pts[(i + 1) % len(pts)]
        if seeds is not None and req.interp_classes is not None:   # the label travels class a -> b
            z = interp.interpolate(*seeds_to_z([a.seed, b.seed], G.z_dim), frac, req.interp_method)
            ca, cb = np.eye(G.c_dim, dtype=np.float32)[list(req.interp_classes)]
            t = min(max(req.interp_t, 0.0), 1.0)
            ws = z_to_ws(without_class(G), np.asarray(z, np.float32)[None], ((1 - t) * ca + t * cb)[None], req.psi)
        elif space == "z":
            z = interp.interpolate(*seeds_to_z([a.seed, b.seed], G.z_dim), frac, req.interp_method)
            c = None
            if G.c_dim:
                c = interp.lerp(*class_labels([a.seed, b.seed], G.c_dim), frac)[None].astype(np.float32)
            ws = z_to_ws(G, np.asarray(z, np.float32)[None], c, req.psi)
        else:
            wa, wb = self._sources_ws(G, (a, b), req.psi)
            ws = np.asarray(interp.interpolate(wa, wb, frac, req.interp_method), np.float32)[None]
        return single(G, ws, req.noise_mode, [f"t={req.interp_t:.3f}"], 1, {**meta, "t": req.interp_t})

    # ---------------------------------------------------------------- arithmetic
    def _arithmetic(self, G, req: RenderRequest, out: RenderResult) -> Figure:
        groups = req.groups
        if len(groups) < 2:
            raise ValueError("vector arithmetic needs at least two groups")
        for n, (_, members) in enumerate(groups):
            if not members:
                raise ValueError(f"group {n + 1} is empty: drop one or more pins into it")
        signs = [float(s) for s, _ in groups]
        labels = [[m.label for m in members] for _, members in groups]
        all_seeds = all(m.ws is None for _, ms in groups for m in ms)
        space = req.arith_space if all_seeds else "w"
        if all_seeds:   # exactly `ganexplorer arithmetic`
            r = arithmetic_ws(G, [[int(m.seed) for m in ms] for _, ms in groups], signs, space,
                              req.psi, req.arith_neighbours, req.arith_sigma, req.arith_noise_seed)
        else:
            members = [self._sources_ws(G, ms, req.psi) for _, ms in groups]
            means = np.stack([arith.group_mean(m) for m in members])
            result = arith.combine(list(means), signs)[None]
            neigh = arith.neighbours(result[0], req.arith_neighbours, req.arith_sigma, req.arith_noise_seed)
            r = ArithmeticResult(members, means, result.astype(np.float32), neigh.astype(np.float32))
        fig = arithmetic_figure(G, r, signs, labels, req.noise_mode)
        fig.meta = {"groups": [[m.seed for m in ms] for _, ms in groups], "signs": signs, "psi": req.psi,
                    "space": space, "neighbours": req.arith_neighbours, "sigma": req.arith_sigma,
                    "noise_seed": req.arith_noise_seed}
        out.data["arith_result"] = r.result      # [1, L, D]
        out.data["arith_means"] = r.means        # [G, L, D]
        return fig

    # ---------------------------------------------------------------- style mixing
    def _mixing(self, G, req: RenderRequest) -> Figure:
        if not G.has_styles:
            raise ValueError("style mixing needs a model with per-layer styles (StyleGAN); "
                             "this one has a single latent")
        if not req.mix_rows or not req.mix_cols:
            raise ValueError("give row and column seeds, like 0-3 and 4-7")
        layers = req.mix_layers if req.mix_layers is not None else "coarse"
        rows, cols, cells = mixing_ws(G, list(req.mix_rows), list(req.mix_cols), layers, req.psi)
        fig = mixing_figure(G, rows, cols, cells, req.noise_mode,
                            [str(s) for s in req.mix_rows], [str(s) for s in req.mix_cols])
        from ..latent.stylemix import resolve_layers
        span = resolve_layers(layers, G.num_ws, G.img_resolution, G.ws_per_resolution,
                              G.ws_sampling_rates())
        fig.meta = {"rows": list(req.mix_rows), "cols": list(req.mix_cols), "layers": list(span),
                    "psi": req.psi, "noise_mode": req.noise_mode}
        return fig


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
