"""The fast back end is safe as the default: builds run in a child process that is killed
when its model goes or the program exits, the graphs in memory are bounded, and the child's
failure leaves eager serving."""
from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from backend_fixtures import isolated_backends, needs_openvino  # noqa: F401 (fixture)
from ganexplorer.render import backends
from ganexplorer.render.backends import graphs, openvino_rt
from ganexplorer.render.backends import setting as preference
from ganexplorer.render.synth import synthesize
from tiny_models import tiny_dcgan

HERE = Path(__file__).resolve().parent
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]   # a converter that never ends


def _ws(G, n=1):
    return np.random.RandomState(0).randn(n, 1, G.w_dim).astype(np.float32)


def _wait(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" in f.read()
    except FileNotFoundError:
        return True


def test_auto_is_the_default():
    assert preference.DEFAULT == "auto" and backends.preference() == "auto"


@needs_openvino
def test_graphs_in_memory_stay_bounded_and_closed_models_stop_their_builds(monkeypatch):
    monkeypatch.setattr(graphs, "child_command", lambda *a: SLEEPER)
    models = [tiny_dcgan(seed=i) for i in range(5)]
    builds = []
    for G in models:
        builds.append(backends.prepare_async(G, (1, 1, G.w_dim)))
        assert _wait(lambda b=builds[-1]: b.child_pid is not None)
        assert graphs.CACHE.models() <= 2
    # The three oldest were dropped as newer ones opened: cancelled, their converters killed.
    for b in builds[:3]:
        assert b.state == "cancelled" and "another model" in b.error
        assert _wait(lambda b=b: b._child is None) and _gone(b.child_pid)
    assert all(b.building() for b in builds[3:])
    # A model closed (collected) stops its build at once; so does an explicit release.
    pid = builds[4].child_pid
    del models[4], G
    gc.collect()
    assert builds[4].state == "cancelled" and _wait(lambda: _gone(pid))
    backends.release_model(models[3])
    assert builds[3].state == "cancelled" and _wait(lambda: _gone(builds[3].child_pid))
    assert graphs.CACHE.models() == 0
    # Meanwhile eager served every call.
    assert np.array_equal(synthesize(models[0], _ws(models[0])), synthesize(models[0], _ws(models[0]), backend="eager"))


@needs_openvino
def test_models_that_only_render_eager_do_not_push_a_graph_out(monkeypatch):
    monkeypatch.setattr(graphs, "child_command", lambda *a: SLEEPER)
    G = tiny_dcgan()
    build = backends.prepare_async(G, (1, 1, G.w_dim))
    copies = [tiny_dcgan(seed=i) for i in range(1, 5)]   # e.g. the jobs' private copies
    for H in copies:
        synthesize(H, _ws(H))                           # 'auto', far below PREPARE_AFTER_S
    assert build.building() and graphs.CACHE.models() == 1
    build.cancel()


def test_shapes_per_model_are_bounded(monkeypatch):
    monkeypatch.setattr(openvino_rt, "available", lambda: False)   # each build fails at once
    G = tiny_dcgan()
    for n in range(1, 8):
        graphs.CACHE.prepare_async(G, (n, 1, G.w_dim))
    assert len(graphs.CACHE.prepared()) == graphs.MAX_SHAPES


@needs_openvino
def test_a_ready_graph_is_freed_when_its_model_is_released():
    G = tiny_dcgan()
    ws = _ws(G)
    prepared = backends.prepare_async(G, ws.shape)       # the real child converter
    assert prepared.wait(180), prepared.error
    assert backends.describe(G, ws.shape) == "openvino (ready)"
    backends.release_model(G)
    assert prepared._graph is None and backends.active_backend(G, ws.shape) == "eager"
    assert np.array_equal(synthesize(G, ws, backend="auto"), synthesize(G, ws, backend="eager"))


@needs_openvino
def test_a_converter_process_that_fails_is_discarded_with_its_message(monkeypatch, caplog):
    boom = [sys.executable, "-c", "import sys; print('RuntimeError: the converter exploded', file=sys.stderr);"
                                  " sys.exit(1)"]
    monkeypatch.setattr(graphs, "child_command", lambda *a: boom)
    G = tiny_dcgan()
    ws = _ws(G)
    with caplog.at_level(logging.WARNING, logger="ganexplorer.render"):
        prepared = backends.prepare_async(G, ws.shape)
        assert not prepared.wait(60)
    assert prepared.state == "failed" and prepared.error == "RuntimeError: the converter exploded"
    assert sum("discarded" in r.getMessage() for r in caplog.records) == 1
    assert backends.describe(G, ws.shape).startswith("eager (openvino failed: RuntimeError")
    assert np.array_equal(synthesize(G, ws, backend="openvino"), synthesize(G, ws, backend="eager"))
    assert not list(prepared.folder.parent.glob("*.safetensors"))     # the hand-over file is gone


EXIT_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from ganexplorer.render import backends
from ganexplorer.render.backends import graphs
from tiny_models import tiny_dcgan
if {sleeper}:
    graphs.child_command = lambda *a: {cmd!r}
G = tiny_dcgan()
p = backends.prepare_async(G, (1, 1, G.w_dim))
while p.child_pid is None and not p.done():
    time.sleep(0.01)
print("child", p.child_pid, flush=True)
print("exit-at", time.time(), flush=True)
"""


@needs_openvino
@pytest.mark.parametrize("sleeper", [True, False], ids=["endless-converter", "real-converter"])
def test_exit_does_not_wait_for_a_build(tmp_path, sleeper):
    script = EXIT_SCRIPT.format(tests=str(HERE), sleeper=sleeper, cmd=SLEEPER)
    env = dict(os.environ, GANEXPLORER_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                       timeout=90, env=env)
    ended = time.time()
    assert r.returncode == 0, r.stderr[-2000:]
    out = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert out["child"] != "None"
    assert ended - float(out["exit-at"]) < 5.0, "the exit waited for the graph build"
    assert _wait(lambda: _gone(int(out["child"])), 5.0), "the converter process outlived the program"


RENDERING_SCRIPT = """
import sys, threading, time
sys.path.insert(0, {tests!r})
from ganexplorer.render import backends
from tiny_models import tiny_dcgan
import torch
G = tiny_dcgan()
prepared = backends.prepare_async(G, (1, 1, G.w_dim))
assert prepared.wait(120)
ws = torch.zeros((1, 1, G.w_dim))
served, stop = [], threading.Event()
def render_thread():          # like the window's: a daemon serving renders, stopped and joined at shutdown
    while not stop.is_set():
        prepared.run(ws, 1)
        served.append("openvino")
t = threading.Thread(target=render_thread, daemon=True)
t.start()
time.sleep(0.5)
stop.set()
t.join(2.0)
print("served", served[0], "joined", not t.is_alive(), flush=True)
"""


@needs_openvino
def test_exit_after_the_render_thread_used_the_graph_is_clean(tmp_path):
    # The window stops and joins its render thread on shutdown (2 s at most); after that the
    # interpreter exits cleanly with graphs open (0 aborts in 14 runs under load). Known limit:
    # a daemon thread that has used OpenVINO and is still alive at exit (a render longer than
    # the 2 s) can make the process abort in OpenVINO's static destructors (about 1 run in 6
    # under load), even though the exit hook frees every graph first.
    env = dict(os.environ, GANEXPLORER_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(RENDERING_SCRIPT.format(tests=str(HERE)))],
                       capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "served openvino joined True" in r.stdout and "discarded" not in r.stderr
