"""Which back end renders a synthesis call, and the call itself.

'eager' always uses PyTorch. 'auto' uses the fast graph for this (generator, shape, noise
mode) once it is ready and checked, and starts preparing it, in the background, when the
eager time spent on that key reaches `PREPARE_AFTER_S` (2 s: one 1024-px frame, a
short drag on a 256-px model; like a JIT: a one-off CLI render
never pays for a build, a drag or a long batch does, and a graph already on disk is only
read). A back end's name ('openvino') starts preparing on the first call; with
`wait=True` (the CLI's `--backend NAME`) that call waits for it. Calls the graph cannot
serve (random noise, a StyleGAN3 transform, per-sample noise, a GPU, training mode) are
eager. Either way the intra-op thread count comes from the load-aware `threads.POLICY`.
"""
from __future__ import annotations

import contextlib
import time

import torch

from ...models import protocol
from ...models.protocol import GeneratorBase
from . import eager, openvino_rt
from .graphs import CACHE, Prepared
from .setting import check_choice, preference, wait_for_graph
from .threads import POLICY

PREPARE_AFTER_S = 2.0      # eager seconds spent on one key before 'auto' builds its graph
GRAPH_NOISE_MODES = ("const", "none")   # deterministic: a graph can hold them


def graph_applies(G: GeneratorBase, ws: torch.Tensor, noise_mode: str, kwargs: dict) -> bool:
    # A graph holds the noise strengths it was traced with: a per-call strength
    # (G.scaled_noise, read by the noise layers from a ContextVar) needs eager.
    return (not kwargs and noise_mode in GRAPH_NOISE_MODES and ws.device.type == "cpu"
            and not G.training and protocol._NOISE_SCALES.get() is None and openvino_rt.available())


@contextlib.contextmanager
def _threads(n: int):
    """Render with n intra-op threads, then give the caller back its own count: a caller
    that renders between two seeded optimisations must get bit-identical results."""
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)   # OpenMP: this thread's pool size (other threads keep theirs)
    try:
        yield
    finally:
        if before != n:
            torch.set_num_threads(before)


@torch.no_grad()
def render_synthesis(G: GeneratorBase, ws: torch.Tensor, noise_mode: str = "const",
                     kwargs: dict | None = None, backend: str | None = None,
                     wait: bool | None = None) -> torch.Tensor:
    """ws [N, num_ws, w_dim] -> float32 image [N, C, R, R] through the chosen back end.
    wait None: as `set_preference` said (False unless a batch job asked)."""
    kwargs = kwargs or {}
    wait = wait_for_graph() if wait is None else wait
    choice = check_choice(backend or preference())
    threads = POLICY.threads()
    use_graph = choice != eager.NAME and graph_applies(G, ws, noise_mode, kwargs)
    shape = tuple(ws.shape)
    if use_graph:
        prepared = CACHE.lookup(G, shape, noise_mode)
        if prepared is None and choice != "auto":
            prepared = CACHE.prepare_async(G, shape, noise_mode, choice, threads)
        if prepared is not None and wait and not prepared.done():
            prepared.wait()
        if prepared is not None and prepared.ready():
            try:
                return prepared.run(ws, threads)
            except Exception as e:
                prepared.discard(f"{type(e).__name__}: {e}")
    t0 = time.perf_counter()
    with _threads(threads):
        out = eager.run(G, ws, noise_mode, **kwargs)
    if use_graph and choice == "auto":
        spent = CACHE.note_eager(G, shape, noise_mode, time.perf_counter() - t0)
        if spent >= PREPARE_AFTER_S and CACHE.lookup(G, shape, noise_mode) is None:
            CACHE.prepare_async(G, shape, noise_mode, openvino_rt.NAME, threads)
    return out


def prepare_async(G: GeneratorBase, shape: tuple[int, ...], noise_mode: str = "const",
                  backend: str = openvino_rt.NAME) -> Prepared:
    """Start building the fast graph now (e.g. when a model opens); poll `.ready()`."""
    return CACHE.prepare_async(G, tuple(shape), noise_mode, backend, POLICY.threads())


def active_backend(G: GeneratorBase, shape: tuple[int, ...], noise_mode: str = "const") -> str:
    """The back end the next call at `shape` would use: 'openvino' once ready, else 'eager'."""
    prepared = CACHE.peek(G, tuple(shape), noise_mode)
    return prepared.backend if prepared is not None and prepared.ready() else eager.NAME


def describe(G: GeneratorBase | None, shape: tuple[int, ...] | None = None, noise_mode: str = "const",
             choice: str | None = None) -> str:
    """One line for the Preferences dialog and the status bar: which back end renders G at
    `shape` now, and why ('openvino (ready)', 'eager (building openvino…)', 'eager (openvino
    failed: …)')."""
    choice = check_choice(choice or preference())
    if choice == eager.NAME:
        return "eager (chosen)"
    if G is None:
        return "no model is open"
    if not openvino_rt.available():
        return "eager (OpenVINO is not installed)"
    shape = tuple(shape) if shape is not None else (1, G.num_ws, G.w_dim)
    prepared = CACHE.peek(G, shape, noise_mode)
    if prepared is None:
        return ("eager (openvino is built once this model has rendered for "
                f"{PREPARE_AFTER_S:g} s)" if choice == "auto" else "eager (openvino not built yet)")
    if prepared.ready():
        return f"{prepared.backend} (ready{', read from the cache folder' if prepared.from_disk else ''})"
    if prepared.building():
        return f"eager (building {prepared.backend}…)"
    if prepared.state == "cancelled":
        return f"eager ({prepared.backend} build stopped: {prepared.error})"
    return f"eager ({prepared.backend} failed: {prepared.error})"


def release_model(G: GeneratorBase) -> None:
    """Free G's compiled graphs and stop its builds (its model was closed or replaced)."""
    CACHE.release(G)
