"""The window's Qt-free core: mailbox, serving loop, stamp gate, renderer, history, sessions."""
from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import save_tiny_dcgan

from ganexplorer.export.images import to_uint8
from ganexplorer.models.registry import load_model
from ganexplorer.render.figures import reproduce
from ganexplorer.render.mailbox import Mailbox, StampGate, serve
from ganexplorer.render.recipes import arithmetic_ws, interpolation_ws
from ganexplorer.render.renderer import Renderer
from ganexplorer.render.requests import EditOp, RenderRequest, RenderResult, Source
from ganexplorer.render.synth import seeds_to_ws, synthesize
from ganexplorer.session.history import History
from ganexplorer.session.io import SessionError, load_session, save_session
from ganexplorer.session.state import Edit, Group, ModelRef, SessionState
from ganexplorer.views import View
from ganexplorer.views.arithmetic import ArithmeticPart
from ganexplorer.views.interpolate import InterpolatePart
from ganexplorer.views.mixing import MixingPart
from ganexplorer.views.sample import SamplePart


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(save_tiny_dcgan(tmp_path_factory.mktemp("m") / "tiny.safetensors"))


# ---------------------------------------------------------------- mailbox and serving loop

def test_mailbox_keeps_only_the_newest():
    box: Mailbox[int] = Mailbox()
    for i in (1, 2, 3):
        box.put(i)
    assert box.take(0) == 3
    assert box.replaced == 2
    assert box.take(0) is None          # empty after taking


class _Req:
    def __init__(self, stamp, key):
        self.stamp, self.key = stamp, key


def test_serve_renders_newest_and_answers_duplicates_without_rendering():
    box: Mailbox = Mailbox()
    started, release = threading.Event(), threading.Event()
    rendered, delivered = [], []
    got_4 = threading.Event()

    def render(req):
        rendered.append(req.stamp)
        if req.stamp == 1:              # hold the first render while newer requests arrive
            started.set()
            release.wait(5)
        return RenderResult(stamp=req.stamp, key=req.key)

    def deliver(res):
        delivered.append((res.stamp, res.key))
        if res.stamp == 4:
            got_4.set()
        if res.stamp == 5:
            box.close()

    t = threading.Thread(target=serve, args=(box, render, deliver))
    t.start()
    box.put(_Req(1, "a"))
    assert started.wait(5)
    for stamp, key in ((2, "b"), (3, "c"), (4, "d")):   # 2 and 3 are replaced unseen
        box.put(_Req(stamp, key))
    release.set()
    # after 4 is rendered, a duplicate of it is answered from the last result, restamped
    assert got_4.wait(5)
    box.put(_Req(5, "d"))
    t.join(5)
    assert not t.is_alive()
    assert rendered == [1, 4]
    assert delivered == [(1, "a"), (4, "d"), (5, "d")]


def test_stamp_gate_drops_stale_results():
    gate = StampGate()
    s1, s2, s3 = gate.next(), gate.next(), gate.next()
    assert gate.accept(s2)
    assert not gate.accept(s1)          # older than what is shown
    gate.invalidate()                   # e.g. another model was opened
    s4 = gate.next()
    assert not gate.accept(s3)          # requested before the switch
    assert gate.accept(s4)


# ---------------------------------------------------------------- renderer

def test_renderer_matches_the_cli_recipes(model):
    G = model.G
    r = Renderer()
    res = r.render(RenderRequest(stamp=1, model=model, psi=0.7, current=Source(seed=3),
                                 part=SamplePart(grid_seeds=(0, 1, 2))))
    assert res.ok, res.error
    want = to_uint8(synthesize(G, seeds_to_ws(G, [3], 0.7)))[0]
    assert np.array_equal(res.figure.array(), want)
    assert np.array_equal(res.extras["grid"].tiles, to_uint8(synthesize(G, seeds_to_ws(G, [0, 1, 2], 0.7))))
    groups = ((1.0, (Source(seed=1), Source(seed=2))), (-1.0, (Source(seed=4),)), (1.0, (Source(seed=7),)))
    res = r.render(RenderRequest(stamp=2, model=model, part=ArithmeticPart(groups)))
    assert res.ok, res.error
    ar = arithmetic_ws(G, [[1, 2], [4], [7]], [1.0, -1.0, 1.0], "z", 1.0, 8, 0.25, 0)
    assert np.array_equal(res.data["arith_result"], ar.result)
    res = r.render(RenderRequest(stamp=3, model=model, part=InterpolatePart(
        endpoints=(Source(seed=0), Source(seed=9)), t=1.0, frames=5)))
    assert res.ok, res.error
    assert np.array_equal(res.extras["strip"].ws, interpolation_ws(G, [0, 9], 5))
    assert np.array_equal(res.figure.ws, seeds_to_ws(G, [9]))


def test_renderer_applies_edits_and_never_raises(model):
    G = model.G
    r = Renderer()
    v = np.zeros(G.w_dim, np.float32)
    v[0] = 1
    res = r.render(RenderRequest(stamp=1, model=model, current=Source(seed=5), edits=(EditOp(v, 2.0),),
                                 part=SamplePart()))
    assert res.ok
    assert np.allclose(res.current_ws - seeds_to_ws(G, [5]), 2.0 * v)
    bad = r.render(RenderRequest(stamp=2, model=model, current=Source(ws=np.zeros((1, 3, 7), np.float32)),
                                 part=SamplePart()))
    assert not bad.ok and "another model" in bad.error
    empty = r.render(RenderRequest(stamp=3, model=model,
                                   part=ArithmeticPart(groups=((1.0, ()), (-1.0, (Source(seed=1),))))))
    assert not empty.ok and "group 1 is empty" in empty.error
    mix = r.render(RenderRequest(stamp=4, model=model, part=MixingPart(rows=(1,), cols=(2,))))
    assert not mix.ok and "styles" in mix.error
    assert r.render(RenderRequest(stamp=5, model=None)).error == "no model is open"
    assert r.render(RenderRequest(stamp=6, model=model)).error == "the request names no view to show"


def test_figure_metadata_reproduces_the_figure(model):
    r = Renderer()
    groups = ((1.0, (Source(seed=1),)), (-1.0, (Source(seed=4), Source(seed=5))), (1.0, (Source(seed=7),)))
    fig = r.render(RenderRequest(stamp=1, model=model, part=ArithmeticPart(groups))).figure
    from ganexplorer.render.figures import export_meta
    meta = export_meta(fig, padding=3, labels=True, tile_size=24)
    again = reproduce(model.G, meta, fig.ws)
    assert np.array_equal(np.asarray(again), np.asarray(fig.image(3, True, 24)))


# ---------------------------------------------------------------- history and sessions

def test_history_merges_a_drag_into_one_step():
    h: History[int] = History(0)
    drag = object()
    for v in (1, 2, 3):
        h.push(v, f"psi {v}", drag)
    h.push(10, "seed 10")
    assert h.labels() == ["start", "psi 3", "seed 10"]
    assert h.undo() == 3 and h.undo() == 0 and h.redo() == 3
    h.push(7, "psi 7", drag)            # an old token after undo starts a new step
    assert h.labels() == ["start", "psi 3", "psi 7"] and not h.can_redo()


def test_session_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    s = SessionState(seed=42, psi=0.55, cutoff=3, base_ws=rng.standard_normal((1, 4, 16)).astype(np.float32))
    s = s.add_pin(rng.standard_normal((1, 4, 16)), "pin a", seed=None)
    s = s.add_pin(rng.standard_normal((1, 4, 16)), "seed 3", seed=3, psi=0.55)
    s = s.change_sub(View.ARITHMETIC, groups=(Group(1.0, (1,)), Group(-1.0, (2,)), Group(1.0, ())))
    s = s.replace(view=View.ARITHMETIC)
    s = s.with_edit(Edit("SeFa 0", rng.standard_normal(16).astype(np.float32), 1.5, 2, 4))
    path = save_session(tmp_path / "s.ganexplorer.json", ModelRef("/m.safetensors", "abc"), s)
    ref, back = load_session(path)
    assert (ref.path, ref.sha256) == ("/m.safetensors", "abc")
    assert np.array_equal(back.base_ws, s.base_ws) and back.cutoff == 3 and back.psi == 0.55
    assert [p.label for p in back.pins] == ["pin a", "seed 3"] and back.pins[1].seed == 3
    assert np.array_equal(back.pins[0].ws, s.pins[0].ws)
    assert back.sub(View.ARITHMETIC).groups == s.sub(View.ARITHMETIC).groups and back.view == View.ARITHMETIC
    assert np.array_equal(back.edits[0].vector, s.edits[0].vector) and back.edits[0].stop == 4
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SessionError, match="not a GAN Explorer session"):
        load_session(tmp_path / "bad.json")


# ---------------------------------------------------------------- job copies (item: device and threads)

def test_a_job_copy_shares_nothing_with_the_render_generator(model):
    from ganexplorer.render.cache import job_model
    job = job_model(model, "cpu")
    assert job.G is not model.G and job.path == model.path and job.sha256 == model.sha256
    render_ptrs = {t.data_ptr() for t in [*model.G.parameters(), *model.G.buffers()]}
    assert not render_ptrs & {t.data_ptr() for t in [*job.G.parameters(), *job.G.buffers()]}
    before = {k: v.clone() for k, v in model.G.state_dict().items()}
    flags = [p.requires_grad for p in model.G.parameters()]
    with torch.no_grad():                      # what a job may do to its own copy
        for p in job.G.parameters():
            p.add_(1)
    job.G.requires_grad_(not flags[0])
    assert all(torch.equal(before[k], v) for k, v in model.G.state_dict().items())
    assert [p.requires_grad for p in model.G.parameters()] == flags
    ws = seeds_to_ws(model.G, [0])
    np.testing.assert_array_equal(synthesize(job_model(model, "cpu").G, ws), synthesize(model.G, ws))


def test_the_chosen_device_reaches_the_job_copy_and_d_e_only_when_asked(model):
    from ganexplorer.render.cache import job_model
    # "meta" stands in for a GPU here: a device other than the CPU that the copy must land on.
    job = job_model(dataclasses.replace(model, D=torch.nn.Linear(2, 1), E=torch.nn.Linear(2, 2)), "meta",
                    D=True)
    assert job.G.w_avg.device.type == "meta" and job.G.device.type == "meta"
    assert next(job.D.parameters()).device.type == "meta" and job.E is None
    assert model.G.w_avg.device.type == "cpu"  # the render thread's G stayed where it was


def test_projection_on_a_job_copy_leaves_the_render_generators_noise_alone():
    from ganexplorer.latent.project import ProjectConfig, project
    from ganexplorer.models.loaded import LoadedModel
    from ganexplorer.models.stylegan2 import StyleGAN2Generator
    from ganexplorer.render.cache import job_model
    torch.manual_seed(0)
    G = StyleGAN2Generator(z_dim=8, w_dim=8, img_resolution=8, img_channels=3,
                           mapping_kwargs=dict(num_layers=1),
                           synthesis_kwargs=dict(channel_base=64, channel_max=8)).eval()
    m = LoadedModel(G=G, path=Path("sg2.safetensors"), format="native", sha256="x")
    noise = {k: v.clone() for k, v in G.named_buffers() if "noise_const" in k}
    job = job_model(m, "cpu")
    gen = project(job.G, np.zeros((1, 3, 8, 8), np.float32), ProjectConfig(steps=3, starts=1))
    next(gen)                                   # mid-projection: the job's noise maps are rewritten
    job_noise = {k: v for k, v in job.G.named_buffers() if "noise_const" in k}
    assert any(not torch.equal(job_noise[k], noise[k]) for k in noise)
    assert all(torch.equal(v, noise[k]) for k, v in G.named_buffers() if "noise_const" in k)
    gen.close()
