"""Fast render graphs: built once per (weights sha256, input shape, noise mode, device) off the
calling thread, kept on disk in the user cache folder, checked against eager float32 before
first use, and served only once ready; eager serves every call until then.

`prepare_async(G, shape)` starts (or finds) the preparation and returns a `Prepared` handle a
render thread polls with `ready()`; nothing here ever blocks the caller unless it asks to
(`Prepared.wait`). A graph whose output differs from eager's by more than `TOLERANCE`, or
that raises, is discarded with one log line and eager stays for that key.

Bounded and cancellable:
- the long steps, tracing and converting the network and rendering the eager reference
  image of the check batch, run in a child process (`build_child`), which is killed when
  the build is cancelled: when its model leaves the cache, is garbage collected, or the
  interpreter exits. The steps left in this process (hashing the weights, handing them to
  the child, reading and compiling the graph, one graph call for the check) look for
  cancellation between them, so an exit waits at most for one of them (the longest, the
  check's graph call, takes about half an eager render of that batch);
- the cache keeps the graphs of the last `MAX_MODELS` generators used (of those that have
  graphs: a job's private copy that only renders eager does not push the window's model
  out), `MAX_SHAPES` input shapes each (least recently used goes first), and a model that
  goes drops its compiled graphs at once.
"""
from __future__ import annotations

import atexit
import hashlib
import inspect
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from ...models.protocol import GeneratorBase
from . import openvino_rt
from .paths import graphs_dir

log = logging.getLogger("ganexplorer.render")

TOLERANCE = 1e-4          # max abs difference from eager float32 a graph may have (images ~[-1, 1])
CHECK_SEED = 20240        # seeds the z of the check batch
MAX_MODELS = 2            # generators whose graphs stay in memory (the open one and the one before)
MAX_SHAPES = 4            # input shapes kept per generator (image, grid, pins, a strip)
IN_CHILD = True           # convert in a child process (tests that patch the converter: False)
POLL_S = 0.05             # how often a build looks at its child and at cancellation


class BuildCancelledError(Exception):
    """The build was abandoned (its model closed, the cache full, the process exiting)."""


class ConverterError(Exception):
    """The converter process failed; the message is its own last line."""


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


_LIVE: weakref.WeakSet = weakref.WeakSet()    # every Prepared not yet collected (for the exit)


class _Runs(threading.Condition):
    """Graph calls in flight. An interpreter that exits while a (daemon) render thread is
    inside OpenVINO aborts, so the exit hook waits for the calls in flight and refuses new ones."""
    count = 0
    closing = False


_RUNS = _Runs()
EXIT_WAIT_S = 5.0         # the longest the exit waits for a graph call in flight


class Prepared:
    """One graph's preparation. States: 'pending' -> 'ready' | 'failed' | 'cancelled'."""

    def __init__(self, backend: str, shape: tuple[int, ...], noise_mode: str):
        self.backend, self.shape, self.noise_mode = backend, shape, noise_mode
        self.state = "pending"
        self.error: str | None = None     # why it failed, one sentence
        self.from_disk = False            # True: read from the cache folder, not converted now
        self.max_abs_diff: float | None = None   # against eager float32 on the check batch
        self.folder: Path | None = None
        self.child_pid: int | None = None        # the converter process while it runs
        self._graph = None
        self._child: subprocess.Popen | None = None
        self._done = threading.Event()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._compiling: set[int] = set()
        _LIVE.add(self)

    def ready(self) -> bool:
        return self.state == "ready"

    def done(self) -> bool:
        return self._done.is_set()

    def building(self) -> bool:
        return self.state == "pending"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ready or failed (or timeout); True when ready."""
        self._done.wait(timeout)
        return self.ready()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancel(self) -> None:
        if self._cancel.is_set():
            raise BuildCancelledError(self.error or "cancelled")

    def cancel(self, reason: str = "its model was closed") -> None:
        """Abandon the build (the child is killed) and free the compiled graph. No log line:
        nothing went wrong, eager serves as before."""
        with self._lock:
            child = self._child
            if self.state in ("pending", "ready"):
                self.state, self.error = "cancelled", reason
            self._graph = None
            self._cancel.set()
        if child is not None and child.poll() is None:
            child.kill()
        self._done.set()

    def _finish(self, graph=None, error: str | None = None) -> None:
        with self._lock:
            if self._cancel.is_set():           # cancelled meanwhile: keep nothing
                graph = None
            else:
                self._graph, self.error = graph, error
                self.state = "ready" if graph is not None else "failed"
        self._done.set()

    def discard(self, reason: str) -> None:
        """Stop using this graph for the rest of the session (eager serves)."""
        if self.state not in ("failed", "cancelled"):
            log.warning("render back end %s discarded for %s: %s; rendering with eager",
                        self.backend, "x".join(map(str, self.shape)), reason)
        with self._lock:
            self._graph = None
            if self.state != "cancelled":       # a cancelled build keeps its reason
                self.state, self.error = "failed", reason
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
                start = threads not in self._compiling and not self._cancel.is_set()
                self._compiling.add(threads)
            if start:
                # Not a daemon (an exit under OpenVINO's compiler aborts); one compile is short.
                threading.Thread(target=self._compile_variant, args=(graph, threads),
                                 name="render-graph-compile", daemon=False).start()
            threads = min(have, key=lambda n: abs(n - threads))
        with _RUNS:
            closing = _RUNS.closing
            if not closing:
                _RUNS.count += 1
        if closing:
            self.cancel("the program is exiting")      # quietly: eager serves what is left
            raise RuntimeError("the program is exiting")
        try:
            return graph.run(ws, threads)
        finally:
            with _RUNS:
                _RUNS.count -= 1
                _RUNS.notify_all()

    def _compile_variant(self, graph, threads: int) -> None:
        if self._cancel.is_set():
            return
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


class _Entry:
    """One generator's slots, most recently used shape last."""

    def __init__(self, G: GeneratorBase):
        self.tensors = [*G.parameters(), *G.buffers()]
        self.slots: OrderedDict[tuple, _Slot] = OrderedDict()

    def drop(self, slots=None, reason: str = "its model was closed") -> None:
        for slot in list(self.slots.values() if slots is None else slots):
            if slot.prepared is not None:
                slot.prepared.cancel(reason)
        if slots is None:
            self.slots.clear()


class GraphCache:
    """{generator: {(shape, noise_mode): _Slot}}, the last `max_models` generators used,
    `max_shapes` keys each. Thread-safe."""

    def __init__(self, max_models: int | None = None, max_shapes: int | None = None):
        self.max_models = max_models or MAX_MODELS
        self.max_shapes = max_shapes or MAX_SHAPES
        self._lock = threading.RLock()   # re-entrant: a weakref callback may run while it is held
        self._entries: OrderedDict[int, tuple[weakref.ref, _Entry]] = OrderedDict()   # id(G) -> ...

    def _entry(self, G: GeneratorBase) -> _Entry:
        """G's entry, now the most recently used; evicts the oldest beyond max_models."""
        key = id(G)
        item = self._entries.get(key)
        if item is not None and item[0]() is not G:    # a dead G's id reused
            item[1].drop()
            del self._entries[key]
            item = None
        if item is None:
            entry = _Entry(G)
            # A model that is garbage collected drops its graphs (and kills its build) at once.
            ref = weakref.ref(G, lambda _r, key=key, entry=entry: self._forget(key, entry))
            self._entries[key] = item = (ref, entry)
        self._entries.move_to_end(key)
        return item[1]

    def _evict(self) -> None:
        """Beyond `max_models` generators holding graphs (or builds), drop the least recently
        used one's. Entries with only eager-time counters cost nothing and go with their G."""
        holding = [k for k, (_, e) in self._entries.items()
                   if any(s.prepared is not None for s in e.slots.values())]
        for k in holding[:max(0, len(holding) - self.max_models)]:
            _, old = self._entries.pop(k)
            old.drop(reason="another model was opened")

    def _forget(self, key: int, entry: _Entry) -> None:
        with self._lock:
            item = self._entries.get(key)
            if item is not None and item[1] is entry:
                del self._entries[key]
        entry.drop()

    def _slot(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str) -> _Slot:
        with self._lock:
            entry = self._entry(G)
            version = _versions(entry.tensors)
            slot = entry.slots.get((shape, noise_mode))
            if slot is not None and slot.version != version:   # weights edited in place
                entry.drop(reason="its weights changed")
                slot = None
            if slot is None:
                slot = entry.slots[(shape, noise_mode)] = _Slot(version)
                while len(entry.slots) > self.max_shapes:
                    _, old = entry.slots.popitem(last=False)
                    entry.drop([old], reason="too many input shapes")
            entry.slots.move_to_end((shape, noise_mode))
            return slot

    def lookup(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str = "const") -> Prepared | None:
        return self._slot(G, tuple(shape), noise_mode).prepared

    def peek(self, G: GeneratorBase, shape: tuple[int, ...], noise_mode: str = "const") -> Prepared | None:
        """Like `lookup`, for a reader (a dialog): creates nothing and leaves the order alone."""
        with self._lock:
            item = self._entries.get(id(G))
            if item is None or item[0]() is not G:
                return None
            slot = item[1].slots.get((tuple(shape), noise_mode))
            return None if slot is None else slot.prepared

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
            self._evict()
        if backend != openvino_rt.NAME:
            prepared._finish(error=f"no render back end named {backend!r}")
            return prepared
        if not openvino_rt.available():
            prepared._finish(error="OpenVINO is not installed (pip install openvino)")
            return prepared
        # The thread holds G weakly: a model closed meanwhile is not kept alive by its build.
        threading.Thread(target=_prepare, args=(prepared, weakref.ref(G), threads),
                         name="render-graph-prepare", daemon=False).start()
        return prepared

    def models(self) -> int:
        """How many generators have graphs (or builds) in memory."""
        with self._lock:
            return sum(any(s.prepared is not None for s in e.slots.values()) for _, e in self._entries.values())

    def prepared(self) -> list[Prepared]:
        """Every preparation the cache holds (any state)."""
        with self._lock:
            return [s.prepared for _, e in self._entries.values() for s in e.slots.values()
                    if s.prepared is not None]

    def release(self, G: GeneratorBase, reason: str = "its model was closed") -> None:
        """Drop G's graphs now (cancelling its builds), e.g. when its model is closed."""
        with self._lock:
            item = self._entries.pop(id(G), None)
        if item is not None:
            item[1].drop(reason=reason)

    def clear(self) -> None:
        with self._lock:
            items, self._entries = list(self._entries.values()), OrderedDict()
        for _, entry in items:
            entry.drop(reason="the graph cache was cleared")


def cancel_all(reason: str = "the program is exiting") -> None:
    """Abandon every build in the process (children killed) and free the graphs."""
    for p in list(_LIVE):
        if p.building():
            p.cancel(reason)


def _at_exit() -> None:
    cancel_all()
    with _RUNS:
        _RUNS.closing = True                # later calls raise: the caller renders eager
        idle = _RUNS.wait_for(lambda: _RUNS.count == 0, EXIT_WAIT_S)
    if idle:                                # no call in flight: free the runtime's objects now
        for p in list(_LIVE):
            graph = p._graph
            if graph is not None:
                graph.release()


# Before the interpreter joins its non-daemon threads (threading's own exit hook, the one
# concurrent.futures uses), so a build in flight stops at its next step instead of running on.
getattr(threading, "_register_atexit", atexit.register)(_at_exit)


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


GRAPH_FILES = ("model.xml", "model.bin", "check_ws.npy", "check_ref.npy")


def write_graph(G: GeneratorBase, shape: tuple[int, ...], noise_mode: str, folder: Path) -> None:
    """Convert G.synthesis at `shape` into `folder` (model.xml + .bin) with the check batch
    (seeded ws) and eager float32's image of it: the converter process's whole job."""
    openvino_rt.convert(G, shape, noise_mode, folder)
    ws = _check_batch(G, shape)
    with torch.no_grad():
        ref = G.synthesis(ws, noise_mode=noise_mode).float()
    np.save(folder / "check_ws.npy", ws.numpy())
    np.save(folder / "check_ref.npy", ref.numpy())


def _alive(prepared: Prepared, G_ref: weakref.ref) -> GeneratorBase:
    prepared.check_cancel()
    G = G_ref()
    if G is None:
        raise BuildCancelledError("its model was closed")
    return G


def _prepare(prepared: Prepared, G_ref: weakref.ref, threads: int) -> None:
    """The background half of `prepare_async`: key, disk, convert (child), compile, check."""
    try:
        G = _alive(prepared, G_ref)
        key = (f"{weights_sha256(G)[:24]}-{code_sha256(G)[:10]}-{G.kind}-"
               f"{'x'.join(map(str, prepared.shape))}-{prepared.noise_mode}-cpu")
        root = graphs_dir() / f"openvino-{openvino_rt.version()}"
        folder = root / key
        prepared.folder = folder
        del G
        for attempt in ("disk", "convert"):
            if attempt == "disk" and not all((folder / f).is_file() for f in GRAPH_FILES):
                # folders appear whole (os.replace), so an incomplete one is damaged or from an
                # older layout (no check files): remove it, or the converter would keep it
                shutil.rmtree(folder, ignore_errors=True)
                continue
            if attempt == "convert":
                _convert_atomically(prepared, G_ref, folder)
            prepared.check_cancel()
            # The eager reference was rendered by the converter (in its process, from the same
            # weights): the check here costs one graph call, not an eager render as well.
            ws, ref = (torch.from_numpy(np.load(folder / f)) for f in ("check_ws.npy", "check_ref.npy"))
            graph = openvino_rt.Graph(folder, blob_cache=root / "compiled")
            prepared.check_cancel()
            graph.compile(threads)
            prepared.check_cancel()
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
    except BuildCancelledError:
        prepared._done.set()
    except ConverterError as e:
        prepared.discard(str(e))
    except Exception as e:   # any failure of the runtime: eager keeps serving
        if prepared.cancelled():
            prepared._done.set()
        else:
            prepared.discard(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'failed'}")


def child_command(ckpt: Path, folder: Path, shape: tuple[int, ...], noise_mode: str) -> list[str]:
    """The converter process's command line (tests replace it)."""
    return [sys.executable, "-m", "ganexplorer.render.backends.build_child", str(ckpt), str(folder),
            "x".join(map(str, shape)), noise_mode]


def _child_env() -> dict[str, str]:
    import ganexplorer
    here = str(Path(ganexplorer.__file__).resolve().parents[1])   # the child imports this same copy
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def _convert_in_child(prepared: Prepared, G_ref: weakref.ref, out: Path) -> None:
    from ...models.checkpoint import save_checkpoint
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt = out.with_name(out.name + ".safetensors")
    try:
        G = _alive(prepared, G_ref)
        save_checkpoint(ckpt, {"G": G})
        del G
        with tempfile.TemporaryFile("w+b") as err:
            with prepared._lock:
                prepared.check_cancel()
                child = prepared._child = subprocess.Popen(
                    child_command(ckpt, out, prepared.shape, prepared.noise_mode), env=_child_env(),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
                prepared.child_pid = child.pid
            try:
                while True:
                    try:
                        rc = child.wait(POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        if prepared.cancelled() or G_ref() is None:
                            child.kill()
                            child.wait()
                            raise BuildCancelledError("its model was closed") from None
            finally:
                with prepared._lock:
                    prepared._child = None
            prepared.check_cancel()              # killed by cancel(): not a failure
            if rc != 0:
                err.seek(0)
                lines = [ln for ln in err.read().decode("utf-8", "replace").splitlines() if ln.strip()]
                raise ConverterError(lines[-1] if lines else f"the graph converter exited with status {rc}")
    finally:
        ckpt.unlink(missing_ok=True)


def _convert_atomically(prepared: Prepared, G_ref: weakref.ref, folder: Path) -> None:
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        if IN_CHILD:
            _convert_in_child(prepared, G_ref, tmp)
        else:
            G = _alive(prepared, G_ref)
            write_graph(G, prepared.shape, prepared.noise_mode, tmp)
        G = _alive(prepared, G_ref)
        (tmp / "meta.json").write_text(json.dumps({
            "kind": G.kind, "shape": list(prepared.shape), "noise_mode": prepared.noise_mode,
            "config": G.config()}, default=str) + "\n", encoding="utf-8")
        del G
        if folder.exists():                 # another process won the race: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


CACHE = GraphCache()
