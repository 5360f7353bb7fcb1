"""The explorer core without Qt: commands, undo, request building, results, pins,
directions and sessions (no QApplication anywhere in this file)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from core_fixtures import core, model  # noqa: F401 (pytest fixtures)
from tiny_models import save_tiny_dcgan

from ganexplorer.models.registry import load_model
from ganexplorer.render.renderer import Renderer
from ganexplorer.render.synth import seeds_to_ws
from ganexplorer.session.explorer import Explorer
from ganexplorer.session.io import SessionError, save_session
from ganexplorer.session.state import Group, SessionState
from ganexplorer.views import View


class Drag:
    """A gesture token as a slider makes one: `done` turns True on release."""
    done = False


RENDERER = Renderer(cpu_threads=1)


def show(core: Explorer):
    """Render the newest submitted request (as the render thread would) and hand the
    result to the core."""
    return core.accept(RENDERER.render(core.sent[-1]))


def test_the_core_imports_no_qt():
    # a fresh interpreter: pytest-qt itself has PySide6 loaded in this one
    code = ("import sys, ganexplorer.session.explorer; "
            "sys.exit(any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_change_undo_redo_and_the_same_state_rule(core):
    heard = []
    core.on_change.append(lambda: heard.append(core.state.psi))
    core.change("ψ 0.5", None, psi=0.5)
    core.change("ψ 0.5 again", None, psi=0.5)          # changes nothing: no undo step
    assert core.history.labels()[-1] == "ψ 0.5" and len(core.history) == 2
    assert heard == [0.5, 0.5] and core.dirty
    core.undo()
    assert core.state.psi == 1.0 and core.sent[-1].psi == 1.0
    core.redo()
    assert core.state.psi == 0.5
    core.jump(0)
    assert core.state.psi == 1.0 and not core.dirty    # back at the saved state


def test_a_drag_is_one_step_and_skips_the_browse_grid_until_release(core):
    drag = Drag()
    for v in (0.9, 0.8, 0.7):
        core.change(f"ψ {v}", drag, psi=v)
    assert len(core.history) == 2 and core.state.psi == 0.7
    assert core.sent[-1].part.grid_seeds == ()           # mid-drag: only the main image
    drag.done = True
    core.change("ψ 0.7", drag, psi=0.7)
    assert len(core.history) == 2
    assert core.sent[-1].part.grid_seeds == tuple(range(0, 12))


def test_muted_changes_are_not_gestures(core):
    with core.muted():
        core.change("echo", None, seed=5)
    assert core.state.seed == 0 and len(core.history) == 1


def test_requests_follow_state_and_view_and_stale_results_are_dropped(core):
    core.change("seed 3", None, seed=3)
    req = core.sent[-1]
    assert req.view == View.SAMPLE and req.current.seed == 3 and req.stamp == core.gate.latest
    old = RENDERER.render(req)
    assert core.set_view(View.INTERPOLATE) and core.sent[-1].view == View.INTERPOLATE
    assert not hasattr(core.sent[-1].part, "grid_seeds")   # the browse grid belongs to Sample
    assert core.accept(old) is None                      # the sample result came too late
    changed = show(core)
    assert changed is not None and "strip" in core.figures
    assert core.last_result.view == View.INTERPOLATE


def test_accept_records_the_latent_and_pins_use_it(core, model):
    core.change("seed 4", None, seed=4)
    changed = show(core)
    assert "latent" in changed
    ws = seeds_to_ws(model.G, [4])
    assert np.array_equal(core.current_ws(), ws)
    core.pin_current()
    pin = core.state.pins[-1]
    assert pin.seed == 4 and pin.label == "seed 4" and np.array_equal(pin.ws, ws)
    show(core)
    core.pin_seed(7)                                      # a seed of the browse grid
    assert core.state.pins[-1].seed == 7
    assert np.array_equal(core.state.pins[-1].ws, seeds_to_ws(model.G, [7]))
    core.undo()
    assert len(core.state.pins) == 1
    core.remove_pin(pin.id)
    assert core.state.pins == ()


def test_set_ws_is_one_step_and_checks_the_shape(core, model):
    ws = seeds_to_ws(model.G, [9])
    core.set_ws(ws, "Projection")
    assert core.history.labels()[-1] == "Projection" and np.array_equal(core.state.base_ws, ws)
    assert core.sent[-1].current.ws is not None
    with pytest.raises(ValueError, match=r"ws must be \[1, "):
        core.set_ws(np.zeros((2, 3), np.float32), "bad")


def test_saved_arithmetic_direction_is_result_minus_last_mean(core):
    statuses = []
    core.on_status.append(lambda text, ms: statuses.append(text))
    core.save_arithmetic_direction("smile")
    assert statuses == ["No arithmetic result on screen yet."] and not core.state.saved_directions
    s = core.state
    for seed in (1, 2, 3):
        s = s.add_pin(np.zeros((1, 1, 1), np.float32), f"seed {seed}", seed)
    core.apply(s.change_sub(View.ARITHMETIC, groups=(Group(1.0, (1,)), Group(-1.0, (2,)), Group(1.0, (3,)))),
               "groups")
    core.set_view(View.ARITHMETIC)
    show(core)
    core.save_arithmetic_direction("smile")
    d = core.state.saved_directions[-1]
    r = core.last_result.data
    diff = (r["arith_result"][0] - r["arith_means"][-1]).mean(axis=0)
    assert d.name == "smile" and d.scale == pytest.approx(float(np.linalg.norm(diff)))
    assert np.allclose(d.vector * d.scale, diff, atol=1e-5)
    saved = core.direction_set("saved")
    assert saved.names == ["smile"] and np.allclose(saved.scales, [d.scale])


def test_direction_sets_are_computed_once_through_the_job_runner(core):
    heard = []
    core.on_directions.append(heard.append)
    first = core.direction_set("sefa", 4)
    assert first is not None and heard == [""] and len(first.names) == 4
    assert core.direction_set("sefa", 4) is first and heard == [""]


def test_session_save_read_and_orphans(core, tmp_path):
    core.change("seed 6", None, seed=6)
    core.set_view(View.MIXING)
    assert core.dirty and core.autosave.writes == 1     # unsaved work is autosaved
    assert [o.state.seed for o in core.orphans()] == []  # our own autosave is no orphan
    path = tmp_path / "s.json"
    core.save_session(path)
    assert not core.dirty and not core.autosave.path.exists()
    ref, state = Explorer.read_session(path)
    assert ref.sha256 == core.model.sha256 and state.seed == 6 and state.view == View.MIXING
    save_session(tmp_path / "none.json", None, SessionState())
    with pytest.raises(SessionError, match="names no model"):
        Explorer.read_session(tmp_path / "none.json")


def test_a_new_model_keeps_browsing_settings_and_forgets_results(core, model, tmp_path):
    core.apply(core.state.replace(psi=0.7, seed=2).change_sub(View.INTERPOLATE, t=0.5, frames=5), "ψ")
    show(core)
    other = load_model(save_tiny_dcgan(tmp_path / "other.safetensors", seed=1))
    core.model_loaded(other)
    interp = core.state.sub(View.INTERPOLATE)
    assert core.state.psi == 0.7 and core.state.seed == 2 and interp.t == 0.0 and interp.frames == 5
    assert core.current_ws() is None and core.last_result is None and core.figures == {}
    assert len(core.history) == 1 and not core.dirty
