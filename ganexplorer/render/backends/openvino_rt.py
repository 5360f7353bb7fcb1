"""The fast CPU back end: the synthesis network converted once to an OpenVINO graph.

Chosen by measurement (bench/generator_speed.py; README "Render back ends"): on the
development runs it took 0.33-0.85x eager PyTorch's time on every network of the bench
(DCGAN-64 to StyleGAN2-1024 and StyleGAN3-T), exact to 3.2e-5, where torch.jit.freeze +
optimize_for_inference was slower than eager on StyleGAN2 and torch.compile(freezing)
needed 35 s to compile a DCGAN. It fuses bias, activation and gains into the
convolutions and keeps its own thread pool.

A graph is specialised to one input shape (the per-sample modulated weights make the
grouped convolutions' weight shapes depend on the batch size) and saved as OpenVINO IR
(model.xml + model.bin) so a later session only reads it.
"""
from __future__ import annotations

import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

NAME = "openvino"


def _openvino():
    """The openvino module with its usage telemetry off. OpenVINO's converter sends usage data
    unless the user opted out (no dialog), and its sender forks a process from a thread, which
    hung the window on a fresh home folder (fork while torch threads run). A None entry in
    sys.modules makes `import openvino_telemetry` fail, and OpenVINO then uses its own stub."""
    sys.modules.setdefault("openvino_telemetry", None)
    import openvino
    return openvino


def available() -> bool:
    try:
        _openvino()
    except ImportError:
        return False
    return True


def version() -> str:
    return _openvino().__version__.split("-")[0]


class _Synthesis(nn.Module):
    """ws -> image as a module of one input, what the converter traces."""

    def __init__(self, G: nn.Module, noise_mode: str):
        super().__init__()
        self.G, self.noise_mode = G, noise_mode

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        return self.G.synthesis(ws, noise_mode=self.noise_mode).float()


def convert(G: nn.Module, shape: tuple[int, ...], noise_mode: str, folder: Path):
    """Trace G.synthesis at `shape` and write folder/model.xml + model.bin."""
    ov = _openvino()
    example = torch.randn(shape)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")        # tracer warnings about Python-side shape checks
        model = ov.convert_model(_Synthesis(G, noise_mode).eval(), example_input=example,
                                 input=[ov.PartialShape(list(shape))])
    folder.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(folder / "model.xml"), compress_to_fp16=False)   # fp32 weights, exact


class Graph:
    """A converted graph, compiled for a given thread count on demand; `run` is thread-safe."""

    name = NAME

    def __init__(self, folder: Path, blob_cache: Path | None = None):
        ov = _openvino()
        self._core = ov.Core()
        if blob_cache is not None:
            # Compiled kernels are cached too: reopening a 1024-px graph then skips most work.
            self._core.set_property({"CACHE_DIR": str(blob_cache)})
        self._model = self._core.read_model(str(folder / "model.xml"))
        self._compiled: dict[int, object] = {}
        # one infer request per (calling thread, thread count): requests are not thread-safe.
        # Kept here rather than in a threading.local so `release` can free a daemon thread's too.
        self._requests: dict[tuple[int, int], object] = {}
        self._lock = threading.Lock()

    def compile(self, threads: int):
        with self._lock:
            cm = self._compiled.get(threads)
        if cm is None:
            cm = self._core.compile_model(self._model, "CPU", {
                "INFERENCE_NUM_THREADS": int(threads),
                "INFERENCE_PRECISION_HINT": "f32",     # never bf16 behind our back: exact to 1e-4
                "PERFORMANCE_HINT": "LATENCY",
                "NUM_STREAMS": 1,
            })
            with self._lock:
                self._compiled.setdefault(threads, cm)
                cm = self._compiled[threads]
        return cm

    def compiled_threads(self) -> list[int]:
        with self._lock:
            return sorted(self._compiled)

    def run(self, ws: torch.Tensor, threads: int) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> image [N, C, R, R] float32 (a fresh tensor)."""
        key = (threading.get_ident(), threads)
        with self._lock:
            req = self._requests.get(key)
        if req is None:
            req = self.compile(threads).create_infer_request()
            with self._lock:
                self._requests[key] = req
        out = req.infer([np.ascontiguousarray(ws.detach().cpu().numpy(), dtype=np.float32)])
        return torch.from_numpy(np.array(out[0], dtype=np.float32, copy=True))

    def release(self) -> None:
        """Free the requests, compiled models and the runtime now. At exit this must happen
        while the interpreter still runs: OpenVINO objects left to the process's static
        destructors (a daemon render thread's request, say) abort it ("terminate called
        without an active exception")."""
        with self._lock:
            self._requests.clear()
            self._compiled.clear()
            self._model = None
            self._core = None
