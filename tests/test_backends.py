"""Render back ends: the fast graph is built off the caller's thread, checked against eager,
cached on disk, and discarded (eager stays) when the runtime raises or computes wrong."""
from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import torch

from backend_fixtures import isolated_backends, needs_openvino  # noqa: F401 (fixture)
from ganexplorer.render import backends
from ganexplorer.render.backends import graphs, openvino_rt, threads
from ganexplorer.render.backends import selection as select
from ganexplorer.render.backends import setting as preference
from ganexplorer.render.synth import steered, synthesize
from tiny_models import tiny_dcgan


@pytest.fixture(autouse=True)
def auto_default(isolated_backends, monkeypatch):
    monkeypatch.setattr(preference, "DEFAULT", "auto")   # these tests exercise 'auto'


def _ws(G, n=2, seed=0):
    return np.random.RandomState(seed).randn(n, 1, G.w_dim).astype(np.float32)


@needs_openvino
def test_prepared_graph_matches_eager_and_is_read_back_from_disk():
    G = tiny_dcgan()
    ws = _ws(G)
    ref = synthesize(G, ws, backend="eager")
    prepared = backends.prepare_async(G, ws.shape)
    assert prepared.wait(120), prepared.error
    assert prepared.max_abs_diff <= backends.TOLERANCE and not prepared.from_disk
    assert (prepared.folder / "model.xml").is_file()
    assert backends.active_backend(G, ws.shape) == "openvino"
    out = synthesize(G, ws)                              # 'auto' now serves the graph
    assert np.abs(out - ref).max() <= backends.TOLERANCE
    assert not np.array_equal(out, ref)                  # it really came from another runtime
    graphs.CACHE.clear()                                 # a new session: read, not converted
    again = backends.prepare_async(G, ws.shape)
    assert again.wait(120) and again.from_disk


@needs_openvino
def test_prepare_async_returns_before_the_graph_is_ready(monkeypatch):
    G = tiny_dcgan()
    release = threading.Event()
    real = openvino_rt.convert
    monkeypatch.setattr(graphs, "IN_CHILD", False)       # the patched converter runs here
    monkeypatch.setattr(openvino_rt, "convert", lambda *a: (release.wait(60), real(*a)))
    prepared = backends.prepare_async(G, (1, 1, G.w_dim))
    assert not prepared.ready() and not prepared.done()
    # Meanwhile every call renders with eager, and gets eager's exact output.
    ws = _ws(G, 1)
    assert np.array_equal(synthesize(G, ws, backend="openvino"), synthesize(G, ws, backend="eager"))
    assert backends.active_backend(G, ws.shape) == "eager"
    release.set()
    assert prepared.wait(120), prepared.error
    assert backends.active_backend(G, ws.shape) == "openvino"


def test_a_runtime_that_raises_is_discarded_and_eager_serves(monkeypatch, caplog):
    G = tiny_dcgan()
    ws = _ws(G)

    def broken(*_args):
        raise RuntimeError("the converter exploded")
    monkeypatch.setattr(openvino_rt, "available", lambda: True)
    monkeypatch.setattr(graphs, "IN_CHILD", False)
    monkeypatch.setattr(openvino_rt, "convert", broken)
    with caplog.at_level(logging.WARNING, logger="ganexplorer.render"):
        prepared = backends.prepare_async(G, ws.shape)
        assert not prepared.wait(60)
    assert prepared.state == "failed" and "exploded" in prepared.error
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "discarded" in lines[0] and "eager" in lines[0]
    assert np.array_equal(synthesize(G, ws, backend="openvino"), synthesize(G, ws, backend="eager"))


@needs_openvino
def test_a_graph_that_raises_while_serving_is_discarded(monkeypatch):
    G = tiny_dcgan()
    ws = _ws(G)
    prepared = backends.prepare_async(G, ws.shape)
    assert prepared.wait(120)

    def broken_run(*_args):
        raise RuntimeError("infer failed")
    monkeypatch.setattr(prepared._graph, "run", broken_run)
    out = synthesize(G, ws)
    assert np.array_equal(out, synthesize(G, ws, backend="eager"))
    assert prepared.state == "failed" and backends.active_backend(G, ws.shape) == "eager"


@needs_openvino
def test_a_wrong_result_runtime_is_discarded(monkeypatch, caplog):
    G = tiny_dcgan()
    ws = _ws(G)
    real_run = openvino_rt.Graph.run
    monkeypatch.setattr(openvino_rt.Graph, "run", lambda self, x, n: real_run(self, x, n) + 1e-3)
    with caplog.at_level(logging.WARNING, logger="ganexplorer.render"):
        prepared = backends.prepare_async(G, ws.shape)
        assert not prepared.wait(120)
    assert "differs from eager" in prepared.error and prepared.max_abs_diff > backends.TOLERANCE
    assert not prepared.folder.exists()                  # not left on disk for next time
    assert sum("discarded" in r.getMessage() for r in caplog.records) == 1
    assert np.array_equal(synthesize(G, ws), synthesize(G, ws, backend="eager"))


@needs_openvino
def test_a_stale_graph_on_disk_is_rebuilt(monkeypatch):
    G = tiny_dcgan()
    ws = _ws(G)
    first = backends.prepare_async(G, ws.shape)
    assert first.wait(120)
    # Poison the stored graph: another model's graph saved under this key.
    openvino_rt.convert(tiny_dcgan(seed=5), ws.shape, "const", first.folder)
    graphs.CACHE.clear()
    again = backends.prepare_async(G, ws.shape)
    assert again.wait(120) and not again.from_disk and again.max_abs_diff <= backends.TOLERANCE


def test_auto_prepares_only_after_enough_eager_time(monkeypatch):
    G = tiny_dcgan()
    ws = _ws(G)
    started = []
    monkeypatch.setattr(openvino_rt, "available", lambda: True)
    monkeypatch.setattr(graphs.CACHE, "prepare_async", lambda *a, **k: started.append(a))
    monkeypatch.setattr(select, "PREPARE_AFTER_S", 3600.0)
    synthesize(G, ws)
    assert started == []                                  # a one-off render never builds
    monkeypatch.setattr(select, "PREPARE_AFTER_S", 0.0)
    synthesize(G, ws)
    assert len(started) == 1 and started[0][1] == ws.shape


def test_calls_a_graph_cannot_serve_stay_eager(monkeypatch):
    G = tiny_dcgan()
    ws = torch.from_numpy(_ws(G))
    monkeypatch.setattr(openvino_rt, "available", lambda: True)
    assert select.graph_applies(G, ws, "const", {})
    assert not select.graph_applies(G, ws, "random", {})
    assert not select.graph_applies(G, ws, "const", {"transform": torch.eye(3)})
    G.train()
    assert not select.graph_applies(G, ws, "const", {})


def test_weights_edited_in_place_drop_the_graph(monkeypatch):
    G = tiny_dcgan()
    shape = (1, 1, G.w_dim)
    monkeypatch.setattr(openvino_rt, "available", lambda: False)   # fails at once: no thread
    assert graphs.CACHE.prepare_async(G, shape) is graphs.CACHE.lookup(G, shape)
    with torch.no_grad():
        G.main[0].weight.mul_(2)
    assert graphs.CACHE.lookup(G, shape) is None


def test_steered_view_without_transform_shares_the_models_graph():
    G = tiny_dcgan(c_dim=0)
    assert steered(G) is G   # nothing chosen: the model itself, so its graph key


def test_preference_order_and_messages(monkeypatch, tmp_path):
    assert backends.preference() == "auto"
    backends.save_preference("eager")
    preference.set_preference(None)
    assert backends.preference() == "eager"               # saved by the window's Preferences
    backends.set_preference("openvino")
    assert backends.preference() == "openvino"            # this process (e.g. --backend)
    monkeypatch.setenv("GANEXPLORER_BACKEND", "eager")
    assert backends.preference() == "eager"               # the environment wins
    with pytest.raises(ValueError, match="choose one of auto, eager, openvino"):
        backends.set_preference("tensorrt")
    monkeypatch.setenv("GANEXPLORER_BACKEND", "fast")
    with pytest.raises(ValueError, match="unknown render back end 'fast'"):
        synthesize(tiny_dcgan(), _ws(tiny_dcgan()))


def test_thread_policy_leaves_the_core_another_process_keeps_busy(monkeypatch):
    clock, busy, own = [0.0], [0.0], [0.0]
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(threads, "_system_busy_s", lambda: busy[0])
    monkeypatch.setattr(threads, "_own_cpu_s", lambda: own[0])
    policy = threads.ThreadPolicy(max_threads=2)
    assert policy.threads() == 2
    clock[0], busy[0], own[0] = 1.0, 2.0, 1.0      # we used 1 core, someone else the other
    assert policy.threads() == 1
    clock[0], busy[0], own[0] = 2.0, 4.0, 3.0      # quiet again: our 2 threads were the load
    assert policy.threads() == 2
    clock[0], busy[0], own[0] = 2.1, 4.2, 3.0      # too short an interval: keep the choice
    assert policy.threads() == 2
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert policy.threads() == 3
    monkeypatch.setenv(threads.THREADS_ENV, "many")
    with pytest.raises(ValueError, match="whole number"):
        policy.threads()


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    from ganexplorer.render.backends.paths import graphs_dir
    monkeypatch.setenv("GANEXPLORER_CACHE_DIR", str(tmp_path / "x"))
    assert graphs_dir() == tmp_path / "x" / "render-graphs"
    monkeypatch.delenv("GANEXPLORER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if threads.os.name == "posix" and threads.os.uname().sysname == "Linux":
        assert graphs_dir() == tmp_path / "xdg" / "ganexplorer" / "render-graphs"


@needs_openvino
def test_cli_backend_flag_builds_the_named_graph_and_matches_eager(tmp_path, capsys):
    from ganexplorer.cli import main
    from tiny_models import save_tiny_dcgan
    ckpt = save_tiny_dcgan(tmp_path / "g.safetensors")
    assert main(["generate", str(ckpt), "--seeds", "0-1", "--backend", "eager", "--out", str(tmp_path / "e.npy")]) == 0
    assert main(["generate", str(ckpt), "--seeds", "0-1", "--backend", "openvino",
                 "--out", str(tmp_path / "o.npy")]) == 0
    e, o = np.load(tmp_path / "e.npy"), np.load(tmp_path / "o.npy")
    assert np.abs(e - o).max() <= backends.TOLERANCE and not np.array_equal(e, o)   # o came from the graph
    assert list((tmp_path / "cache" / "render-graphs").glob("openvino-*/*-dcgan-2x1x16-const-cpu"))
    with pytest.raises(SystemExit) as exit_:
        main(["generate", str(ckpt), "--seeds", "0", "--backend", "fast", "--out", str(tmp_path / "f.npy")])
    assert exit_.value.code != 0
    assert "invalid choice: 'fast'" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_render_path_is_eager_and_matches_cpu():
    G = tiny_dcgan()
    ws = _ws(G)
    cpu = synthesize(G, ws, backend="eager")
    G = G.cuda()
    assert not select.graph_applies(G, torch.from_numpy(ws).cuda(), "const", {})
    assert np.abs(synthesize(G, ws) - cpu).max() < 1e-4
