"""The view registry (issue 13 item 2): every view is one module in ganexplorer.views plus its
panel; the state, the request, the renderer and the session file know no view by name."""
from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import numpy as np
import pytest
from core_fixtures import core, model  # noqa: F401 (pytest fixtures)

from ganexplorer.render.renderer import Renderer
from ganexplorer.session.io import load_session, save_session
from ganexplorer.session.state import Edit, Endpoint, Group, ModelRef, SavedDirection, SessionState, same
from ganexplorer.views import MODULES, REGISTRY, BuildContext, View, spec

ROOT = Path(__file__).resolve().parents[1]
V1 = Path(__file__).parent / "data" / "session_v1.ganexplorer.json"   # written by the flat-field code


def test_every_view_has_one_module_a_sub_state_and_a_panel():
    from ganexplorer.ui.panels.registry import VIEW_PANELS
    assert list(REGISTRY) == list(View)                              # every name is registered, once
    assert [m.SPEC.view for m in MODULES] == list(View)
    for view, s in REGISTRY.items():
        module = next(m for m in MODULES if m.SPEC is s)
        assert module.__name__ == f"ganexplorer.views.{view.value}"   # one view, one file
        assert s.state.view == view and s.title
        assert dataclasses.is_dataclass(s.state) and s.state.__dataclass_params__.frozen
    assert [p.view for p in VIEW_PANELS] == list(View)                # one tab per view, in registry order
    assert len({p.shortcut for p in VIEW_PANELS}) == len(VIEW_PANELS)


def _view_name_uses(tree: ast.AST, names: set[str]) -> list[str]:
    """Where a view name is compared with (dispatch) or given as a view (`view="..."`)."""
    def name(n):
        return n.value if isinstance(n, ast.Constant) and n.value in names else None
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Compare):
            out += [v for v in map(name, [n.left, *n.comparators]) if v]
            out += [v for c in n.comparators if isinstance(c, (ast.Tuple, ast.List, ast.Set))
                    for v in map(name, c.elts) if v]
        elif isinstance(n, ast.keyword) and n.arg == "view" and name(n.value):
            out.append(n.value.value)
        elif isinstance(n, (ast.Assign, ast.AnnAssign)) and name(n.value):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            out += [n.value.value for t in targets if getattr(t, "id", getattr(t, "attr", "")) == "view"]
    return out


def test_the_renderer_and_the_request_know_no_view():
    names = {v.value for v in View}
    for rel in ("ganexplorer/render/renderer.py", "ganexplorer/render/requests.py",
                "ganexplorer/session/state.py", "ganexplorer/session/explorer.py",
                "ganexplorer/session/io.py", "ganexplorer/ui/main_window.py"):
        assert _view_name_uses(ast.parse((ROOT / rel).read_text()), names) == [], rel
    # the check itself finds the old dispatch
    assert sorted(_view_name_uses(ast.parse('if req.view == "mixing": pass\nview = "sample"'), names)) == [
        "mixing", "sample"]
    renderer = ast.parse((ROOT / "ganexplorer/render/renderer.py").read_text())
    imported = {n.module or "" for n in ast.walk(renderer) if isinstance(n, ast.ImportFrom)}
    assert not any("views" in m for m in imported)                   # render sits below views


def _changed(sub):
    """`sub` with every number and flag of it moved away from its default."""
    hints = typing.get_type_hints(type(sub))
    kw = {}
    for f in dataclasses.fields(sub):
        tp, v = hints[f.name], getattr(sub, f.name)
        if tp is bool:
            kw[f.name] = not v
        elif tp is int:
            kw[f.name] = v + 3
        elif tp is float:
            kw[f.name] = v + 0.5
    return dataclasses.replace(sub, **kw)


@pytest.mark.parametrize("view", list(View))
def test_each_sub_state_round_trips_through_the_session_file(view, tmp_path):
    s = SessionState()
    sub = _changed(s.sub(view))
    s = s.with_sub(sub).replace(view=view)
    ref, back = load_session(save_session(tmp_path / "s.json", ModelRef("/m", "abc"), s))
    assert back.view == view and same(back.sub(view), sub) and back.same_as(s)


def test_the_built_in_sub_states_round_trip_with_their_own_values(tmp_path):
    s = SessionState().add_pin(np.ones((1, 4, 16), np.float32), "pin a")
    s = (s.change_sub(View.INTERPOLATE, endpoints=(Endpoint(seed=4), Endpoint(pin_id=1)), classes=(0, 2),
                      method="slerp", space="z")
          .change_sub(View.ARITHMETIC, groups=(Group(1.0, (1,)), Group(-1.0)), space="w")
          .change_sub(View.MIXING, rows="1,2", cols="3-5", layers=(2, 6))
          .change_sub(View.DIRECTIONS, method="pca")
          .replace(saved_directions=(SavedDirection("smile", np.ones(16, np.float32), 2.0, accuracy=0.93),
                                     SavedDirection("age", np.ones(16, np.float32), 1.0))))
    _, back = load_session(save_session(tmp_path / "s.json", None, s))
    assert back.same_as(s)
    assert back.sub(View.INTERPOLATE).endpoints[1] == Endpoint(pin_id=1)
    assert back.sub(View.MIXING).layers == (2, 6)
    assert [d.accuracy for d in back.saved_directions] == [0.93, None]


def test_a_version_1_session_file_still_opens():
    ref, s = load_session(V1)
    assert (ref.path, ref.sha256) == ("/models/tiny.safetensors", "abc123")
    assert (s.seed, s.psi, s.cutoff, s.noise_mode, s.class_index, s.translate, s.rotate) == (
        42, 0.55, 3, "none", 1, (0.1, -0.2), 15.0)
    assert s.view == View.ARITHMETIC and s.base_label == "pin #1" and s.base_ws.shape == (1, 4, 16)
    assert [(p.id, p.label, p.seed, p.class_index) for p in s.pins] == [(1, "pin a", None, None),
                                                                        (2, "seed 3", 3, 1)]
    assert s.edits[0].name == "SeFa 0" and (s.edits[0].start, s.edits[0].stop, s.edits[0].alpha) == (2, 4, 1.5)
    assert s.saved_directions[0].name == "smile" and s.saved_directions[0].accuracy is None
    assert (s.sub(View.SAMPLE).grid_start, s.sub(View.SAMPLE).grid_size) == (24, 16)
    i = s.sub(View.INTERPOLATE)
    assert i.endpoints == (Endpoint(seed=5), Endpoint(pin_id=2), Endpoint(seed=9))
    assert (i.t, i.method, i.space, i.frames, i.loop, i.classes) == (0.35, "slerp", "z", 10, True, (0, 2))
    a = s.sub(View.ARITHMETIC)
    assert a.groups == (Group(1.0, (1,)), Group(-1.0, (2,)), Group(1.0, ()))
    assert (a.space, a.sigma, a.neighbours, a.noise_seed) == ("w", 0.5, 4, 7)
    m = s.sub(View.MIXING)
    assert (m.rows, m.cols, m.layers) == ("1-2", "5,6", (2, 5))
    assert s.sub(View.DIRECTIONS).method == "pca"


def test_every_view_is_requested_and_rendered_through_its_module(core):
    r = Renderer(cpu_threads=1)
    for view in View:
        core.set_view(view, render=False)
        req = core.request_render()
        want = spec(view).request(core.state.sub(view), BuildContext(core.state, core.model.G))
        assert req.view == view and type(req.part) is type(want) and req.part.view == view
        res = r.render(req)
        assert res.view == view
        if view == View.MIXING:                                       # the tiny model is a DCGAN
            assert "styles" in res.error
        elif view == View.ARITHMETIC:                                 # its groups are empty
            assert "group 1 is empty" in res.error
        else:
            assert res.ok and res.figure is not None, res.error


def test_the_view_is_kept_once_and_switching_it_is_no_undo_step(core):
    core.change("seed 5", None, seed=5)
    n = len(core.history)
    assert core.set_view(View.INTERPOLATE) and len(core.history) == n
    assert core.view == core.state.view == View.INTERPOLATE
    core.undo()                                                       # the seed goes back, the view stays
    assert core.state.seed == 0 and core.view == View.INTERPOLATE
    core.redo()
    assert core.state.seed == 5 and core.view == View.INTERPOLATE
    assert core.saved_state().view == View.INTERPOLATE


def test_sub_state_changes_are_undo_steps_and_pins_leave_every_view(core):
    core.change_sub(View.INTERPOLATE, "t", None, t=0.25)
    assert core.state.sub(View.INTERPOLATE).t == 0.25
    core.undo()
    assert core.state.sub(View.INTERPOLATE).t == 0.0
    s = core.state.add_pin(np.zeros((1, 1, 1), np.float32), "a").add_pin(np.zeros((1, 1, 1), np.float32), "b")
    s = (s.change_sub(View.ARITHMETIC, groups=(Group(1.0, (1, 2)), Group(-1.0, (2,))))
          .change_sub(View.INTERPOLATE, endpoints=(Endpoint(seed=3), Endpoint(pin_id=1), Endpoint(pin_id=2))))
    core.apply(s, "pins in views")
    core.remove_pin(1)
    assert core.state.sub(View.ARITHMETIC).groups == (Group(1.0, (2,)), Group(-1.0, (2,)))
    assert core.state.sub(View.INTERPOLATE).endpoints == (Endpoint(seed=3), Endpoint(pin_id=2))
    core.clear_pins()
    assert core.state.sub(View.ARITHMETIC).groups == (Group(1.0), Group(-1.0))
    assert core.state.sub(View.INTERPOLATE).endpoints == (Endpoint(seed=3),)


def test_state_equality_reaches_into_sub_states():
    a = SessionState().replace(edits=(Edit("x", np.ones(4, np.float32), 1.0),))
    b = SessionState().replace(edits=(Edit("x", np.ones(4, np.float32), 1.0),))
    assert a.same_as(b)
    assert not a.same_as(a.change_sub(View.MIXING, rows="9"))
    assert a.same_as(a.change_sub(View.MIXING, rows="0-3"))          # the default again: the same
