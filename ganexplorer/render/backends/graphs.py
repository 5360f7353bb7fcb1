"""Fast render graphs: built once per (weights sha256, input shape, noise mode, device) off the
calling thread, kept on disk in the user cache folder, checked against eager float32 before
first use, and served only once ready; eager serves every call until then.

`prepare_async(G, shape)` starts (or finds) the preparation and returns a `Prepared` handle a
render thread polls with `ready()`; nothing here ever blocks the caller unless it asks to
(`Prepared.wait`). A graph whose output differs from eager's by more than `TOLERANCE`, or
that raises, is discarded with one log line and eager stays for that key.
"""
from __future__ import annotations

import copy
import hashlib
import inspect
import json
import logging
import os
import shutil
import threading
import uuid
import weakref
from pathlib import Path

import numpy as np
import torch

from ...models.protocol import GeneratorBase
from . import openvino_rt
from .paths import graphs_dir

log = logging.getLogger("ganexplorer.render")

TOLERANCE = 1e-4          # max abs difference from eager float32 a graph may have (images ~[-1, 1])
CHECK_SEED = 20240        # seeds the z of the check batch
# THREADS_NOTE: preparation threads are not daemons. OpenVINO's compiler runs native threads;
# an interpreter that exits under them aborts the process ("terminate called..."), so an exit
# waits for a build in flight instead (its graph then lands on disk for next time).


def weights_sha256(G: torch.nn.Module) -> str:
    """sha256 over every parameter and buffer (name, dtype, shape, bytes): which weights
    these are, whatever file or in-memory edit they came from."""
    h = hashlib.sha256()
    for name, t in G.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def code_sha256(G: torch.nn.Module) -> str:
    """sha256 of the source files that define G's forward pass: a graph traced from older
    code is never reused."""
    h = hashlib.sha256()
    files = {inspect.getsourcefile(type(m)) for m in G.modules()}
    for path in sorted(f for f in files if f):
        try:
            h.update(Path(path).read_bytes())
        except OSError:
            h.update(path.encode())
    return h.hexdigest()


def _versions(tensors: list[torch.Tensor]) -> int:
    # Every in-place write bumps a tensor's _version: a changed sum means changed weights.
    return sum(t._version for t in tensors)


class Prepared:
    """One graph's preparation. States: 'pending' -> 'ready' | 'failed'."""

    def __init__(self, backend: str, shape: tuple[int, ...], noise_mode: str):
        self.backend, self.shape, self.noise_mode = backend, shape, noise_mode
        self.state = "pending"
        self.error: str | None = None     # why it failed, one sentence
        self.from_disk = False            # True: read from the cache folder, not converted now
        self.max_abs_diff: float | None = None   # against eager float32 on the check batch
        self.folder: Path | None = None
        self._graph = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._compiling: set[int] = set()

    def ready(self) -> bool:
        return self.state == "ready"

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ready or failed (or timeout); True when ready."""
        self._done.wait(timeout)
        return self.ready()

    def _finish(self, graph=None, error: str | None = None) -> None:
        self._graph, self.error = graph, error
        self.state = "ready" if graph is not None else "failed"
        self._done.set()

    def discard(self, reason: str) -> None:
        """Stop using this graph for the rest of the session (eager serves)."""
        if self.state != "failed":
            log.warning("render back end %s discarded for %s: %s; rendering with eager",
                        self.backend, "x".join(map(str, self.shape)), reason)
        self._graph, self.error, self.state = None, reason, "failed"
        self._done.set()

    def run(self, ws: torch.Tensor, threads: int) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> image [N, C, R, R]. Uses the variant compiled for
        `threads` when there is one, else the nearest, and compiles the wanted one in the
        background (a compile never delays a frame)."""
        graph = self._graph
        if graph is None:
            raise RuntimeError("this graph is not ready")
        have = graph.compiled_threads()
        if threads not in have:
            with self._lock:
                start = threads not in self._compiling
                self._compiling.add(threads)
            if start:
                threading.Thread(target=self._compile_variant, args=(graph, threads),
                                 name="render-graph-compile", daemon=False).start()
            threads = min(have, key=lambda n: abs(n - threads))
        return graph.run(ws, threads)

    def _compile_variant(self, graph, threads: int) -> None:
        try:
            graph.compile(threads)
        except Exception as e:   # a variant that will not compile: the existing one serves
            log.warning("render back end %s: no %d-thread variant (%s)", self.backend, threads, e)


class _Slot:
    __slots__ = ("prepared", "eager_s", "version")

    def __init__(self, version: int):
        self.prepared: Prepared | None = None
        self.eager_s = 0.0          # eager render time spent on this key so far
        self.version = version


class GraphCache:
    """Per generator object: {(shape, noise_mode): _Slot}. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._tensors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _slot(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str) -> _Slot:
        with self._lock:
            tensors = self._tensors.get(G)
            if tensors is None:
                tensors = self._tensors[G] = [*G.parameters(), *G.buffers()]
            version = _versions(tensors)
            slots = self._slots.setdefault(G, {})
            slot = slots.get((shape, noise_mode))
            if slot is not None and slot.version != version:   # weights edited in place
                slots.clear()
                slot = None
            if slot is None:
                slot = slots[(shape, noise_mode)] = _Slot(version)
            return slot

    def lookup(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str = "const") -> Prepared | None:
        return self._slot(G, tuple(shape), noise_mode).prepared

    def note_eager(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str, seconds: float) -> float:
        """Count eager time spent on this key; -> the total so far."""
        slot = self._slot(G, tuple(shape), noise_mode)
        with self._lock:
            slot.eager_s += seconds
            return slot.eager_s

    def prepare_async(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str = "const",
                      backend: str = openvino_rt.NAME, threads: int = 1) -> Prepared:
        """Start preparing the `backend` graph for G at `shape` (or return the one already
        started) on a background thread; poll the handle's `ready()`."""
        shape = tuple(int(s) for s in shape)
        slot = self._slot(G, shape, noise_mode)
        with self._lock:
            if slot.prepared is not None:
                return slot.prepared
            prepared = slot.prepared = Prepared(backend, shape, noise_mode)
        if backend != openvino_rt.NAME:
            prepared._finish(error=f"no render back end named {backend!r}")
            return prepared
        if not openvino_rt.available():
            prepared._finish(error="OpenVINO is not installed (pip install openvino)")
            return prepared
        threading.Thread(target=_prepare, args=(prepared, G, threads), name="render-graph-prepare",
                         daemon=False).start()   # see THREADS_NOTE
        return prepared

    def clear(self) -> None:
        with self._lock:
            self._slots = weakref.WeakKeyDictionary()


def _check_batch(G: GeneratorBase, shape: tuple[int, ...]) -> torch.Tensor:
    """ws like the window's: mapped from seeded z (DCGAN: w = z), [N, num_ws, w_dim]."""
    n = shape[0]
    z = torch.from_numpy(np.random.RandomState(CHECK_SEED).randn(n, G.z_dim).astype(np.float32))
    c = None
    if G.c_dim:
        c = torch.zeros(n, G.c_dim)
        c[torch.arange(n), torch.arange(n) % G.c_dim] = 1
    with torch.no_grad():
        return G.mapping(z.to(G.w_avg.device), c, psi=0.7).float().cpu()


def _prepare(prepared: Prepared, G: GeneratorBase, threads: int) -> None:
    """The background half of `prepare_async`: key, disk, convert, compile, check."""
    try:
        # A private copy: converting traces the module, the render thread keeps using G.
        G = copy.deepcopy(G).eval()
        key = (f"{weights_sha256(G)[:24]}-{code_sha256(G)[:10]}-{G.kind}-"
               f"{'x'.join(map(str, prepared.shape))}-{prepared.noise_mode}-cpu")
        root = graphs_dir() / f"openvino-{openvino_rt.version()}"
        folder = root / key
        prepared.folder = folder
        ws = _check_batch(G, prepared.shape)
        with torch.no_grad():
            ref = G.synthesis(ws, noise_mode=prepared.noise_mode).float()
        for attempt in ("disk", "convert"):
            if attempt == "disk" and not (folder / "model.xml").is_file():
                continue
            if attempt == "convert":
                _convert_atomically(G, prepared, folder)
            graph = openvino_rt.Graph(folder, blob_cache=root / "compiled")
            graph.compile(threads)
            out = graph.run(ws, threads)
            diff = float((out - ref).abs().max()) if out.shape == ref.shape else float("inf")
            prepared.max_abs_diff = diff
            if diff <= TOLERANCE and np.isfinite(diff):
                prepared.from_disk = attempt == "disk"
                prepared._finish(graph)
                return
            if attempt == "disk":          # stale or damaged on disk: convert afresh once
                shutil.rmtree(folder, ignore_errors=True)
                continue
            shutil.rmtree(folder, ignore_errors=True)
            prepared.discard(f"its output differs from eager float32 by {diff:.2g} (more than {TOLERANCE:g})")
            return
    except Exception as e:   # any failure of the runtime: eager keeps serving
        prepared.discard(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'failed'}")


def _convert_atomically(G: GeneratorBase, prepared: Prepared, folder: Path) -> None:
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        openvino_rt.convert(G, prepared.shape, prepared.noise_mode, tmp)
        (tmp / "meta.json").write_text(json.dumps({
            "kind": G.kind, "shape": list(prepared.shape), "noise_mode": prepared.noise_mode,
            "config": G.config()}, default=str) + "\n", encoding="utf-8")
        if folder.exists():                 # another process won the race: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


CACHE = GraphCache()
