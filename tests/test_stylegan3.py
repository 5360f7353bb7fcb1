"""StyleGAN3 (T and R) and the stylegan3 repository's StyleGAN2: NVIDIA's fixtures through the
CLI and after `convert`, the paper's schedule against the stored geometry and filters, the
input transform, conditional models and the class control, and readable refusals."""
from __future__ import annotations

import collections
import json

import numpy as np
import pytest
import torch

from fixtures_path import fixture
from foreign_files import dump_nvidia_like, persistent
from ganexplorer import cli
from ganexplorer.models.errors import CheckpointError
from ganexplorer.models.formats.nvidia_pkl import state_dict_of
from ganexplorer.models.formats.safe_pickle import PersistentObject, safe_loads
from ganexplorer.models.registry import load_model
from ganexplorer.models.stylegan3 import GEOMETRY_KEYS, StyleGAN3Generator, design_lowpass_filter

NEW_FIXTURES = ["nvidia_sg3_t_64", "nvidia_sg3_r_32", "nvidia_sg3repo_sg2_64_cond"]
SG3_FIXTURES = ["nvidia_sg3_t_64", "nvidia_sg3_r_32"]


def run_cli(argv: list[str]) -> int:
    with torch.enable_grad():   # the CLI switches autograd off for its own run
        return cli.main(argv)


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEXPLORER_CONFIG_DIR", str(tmp_path / "config"))


def generate(ckpt, tmp_path, ref, *extra: str) -> np.ndarray:
    zp, out = tmp_path / "z.npy", tmp_path / "out.npy"
    np.save(zp, ref["z"])
    argv = ["generate", str(ckpt), "--z", str(zp), "--psi", str(float(ref["psi"])), "--out", str(out),
            "--device", "cpu", *extra]
    if "c" in ref.files:
        np.save(tmp_path / "c.npy", ref["c"])
        argv += ["--c", str(tmp_path / "c.npy")]
    assert run_cli(argv) == 0
    return np.load(out)


def snapshot(stem: str) -> dict:
    return safe_loads(fixture(f"{stem}.pkl").read_bytes())


def repickle(obj):
    """A safe-loaded tree back into NVIDIA's persistent-object encoding (for doctored files)."""
    if isinstance(obj, PersistentObject):
        return persistent(obj.class_name, repickle(obj.state))
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, repickle(v)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: repickle(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [repickle(v) for v in obj]
    return obj


# ---------------------------------------------------------------- the references

@pytest.mark.parametrize("stem", NEW_FIXTURES)
def test_references_after_convert(stem, tmp_path):
    """`convert` to safetensors, then the CLI on the converted file: every reference within 1e-4."""
    dst = tmp_path / f"{stem}.safetensors"
    assert run_cli(["convert", str(fixture(f"{stem}.pkl")), str(dst)]) == 0
    m = load_model(dst)
    assert m.format == "native" and m.info["variant"] == load_model(fixture(f"{stem}.pkl")).info["variant"]
    for psi in (1.0, 0.7):
        ref = np.load(fixture(f"{stem}_psi{psi}.npz"))
        img = generate(dst, tmp_path, ref)
        assert img.shape == ref["img"].shape
        assert np.abs(img - ref["img"]).max() <= 1e-4, (stem, psi)


def test_seeds_follow_nvidia_convention_including_the_class(tmp_path):
    """--seeds 0-3 gives z = RandomState(seed).randn and class seed % c_dim, as the references."""
    ref = np.load(fixture("nvidia_sg3repo_sg2_64_cond_psi0.7.npz"))
    out = tmp_path / "s.npy"
    assert run_cli(["generate", str(fixture("nvidia_sg3repo_sg2_64_cond.pkl")), "--seeds", "0-3",
                    "--psi", "0.7", "--out", str(out), "--device", "cpu"]) == 0
    assert np.abs(np.load(out) - ref["img"]).max() <= 1e-4


# ---------------------------------------------------------------- schedule, geometry, filters

@pytest.mark.parametrize("stem", SG3_FIXTURES)
def test_paper_schedule_reproduces_stored_geometry_and_filters(stem):
    G_obj = snapshot(stem)["G_ema"]
    kwargs = dict(G_obj.state["_init_kwargs"])
    G = StyleGAN3Generator(**kwargs)        # from the kwargs alone, as for a safetensors file
    syn = G_obj.state["_modules"]["synthesis"]
    assert G.synthesis_network.layer_names == syn.state["layer_names"]
    stored_sd = state_dict_of(G_obj)
    mine = G.state_dict()
    assert set(mine) == set(stored_sd)
    for name in G.synthesis_network.layer_names:
        rec = syn.state["_modules"][name].state
        layer = getattr(G.synthesis_network, name)
        for key in GEOMETRY_KEYS:
            assert np.allclose(np.asarray(rec[key], float), np.asarray(layer.geometry[key], float),
                               rtol=0, atol=1e-12), (name, key)
        for buf in ("up_filter", "down_filter"):
            key = f"synthesis.{name}.{buf}"
            if key in stored_sd:     # designed again from the cut-off schedule (Kaiser window)
                assert mine[key].shape == stored_sd[key].shape
                assert (mine[key] - stored_sd[key]).abs().max() < 1e-6, key
    if stem.endswith("_r_32"):   # R: radial 2-D down filters except in the critically sampled layers
        radial = [n for n in syn.state["layer_names"]
                  if f"synthesis.{n}.down_filter" in mine and mine[f"synthesis.{n}.down_filter"].ndim == 2]
        assert radial == syn.state["layer_names"][:12]


def test_radial_filter_is_rotation_symmetric_with_unit_gain():
    f = design_lowpass_filter(12, cutoff=4, width=6, fs=32, radial=True).double()
    assert f.shape == (12, 12) and abs(float(f.sum()) - 1) < 1e-6
    assert torch.allclose(f, f.t()) and torch.allclose(f, f.flip(0))
    assert design_lowpass_filter(1, 4, 6, 32) is None


def test_stored_geometry_wins_over_the_schedule(tmp_path):
    """A file whose stored padding differs from the paper's schedule is built as stored."""
    snap = snapshot("nvidia_sg3_r_32")
    G_obj = snap["G_ema"]
    rec = G_obj.state["_modules"]["synthesis"].state["_modules"]["L14_32_3"].state
    rec["conv_clamp"] = 256
    L0 = G_obj.state["_modules"]["synthesis"].state["_modules"]["L0_36_32"].state
    L0["padding"] = [10, 11, 10, 11]                 # shifts L0's output by one sample
    path = tmp_path / "doctored.pkl"
    path.write_bytes(dump_nvidia_like(repickle({"G_ema": G_obj})))
    m = load_model(path)
    assert m.G.synthesis_network.L0_36_32.padding == [10, 11, 10, 11]
    assert "geometry read from the file" in m.info["note"]
    ref = np.load(fixture("nvidia_sg3_r_32_psi1.0.npz"))
    with torch.no_grad():
        img = m.G(torch.from_numpy(ref["z"])).numpy()
    assert np.abs(img - ref["img"]).max() > 1e-3     # the stored (doctored) geometry was used


# ---------------------------------------------------------------- the input transform

def test_translation_moves_the_picture_and_r_rotates_exactly():
    # StyleGAN3 is equivariant by construction (paper sec. 3): moving the input moves the
    # picture; R's radial filters make a quarter turn exact on the pixel grid.
    from ganexplorer.render.synth import input_transform, seeds_to_ws, synthesize
    R = load_model(fixture("nvidia_sg3_r_32.pkl")).G
    ws = seeds_to_ws(R, [0, 2], 0.7)
    a = synthesize(R, ws)
    assert np.array_equal(a, synthesize(R, ws, transform=input_transform((0, 0), 0)))
    b = synthesize(R, ws, transform=input_transform((0.25, 0), 0))     # a quarter: 8 px right
    assert np.abs(b[..., 8:] - a[..., :-8]).mean() < 0.01 * np.abs(a).mean()
    assert np.abs(b - a).mean() > 0.1 * np.abs(a).mean()
    r = synthesize(R, ws, transform=input_transform((0, 0), 90))      # counter-clockwise
    assert np.abs(r - np.rot90(a, 1, axes=(2, 3))).max() < 1e-4


def test_cli_translate_rotate_match_the_core_and_reach_the_metadata(tmp_path):
    from PIL import Image

    from ganexplorer.render.synth import input_transform, seeds_to_ws, synthesize
    ckpt = fixture("nvidia_sg3_r_32.pkl")
    out = tmp_path / "moved.npy"
    assert run_cli(["generate", str(ckpt), "--seeds", "3,4", "--translate", "0.1,-0.2", "--rotate", "30",
                    "--out", str(out), "--device", "cpu"]) == 0
    G = load_model(ckpt).G
    want = synthesize(G, seeds_to_ws(G, [3, 4]), transform=input_transform((0.1, -0.2), 30))
    assert np.array_equal(np.load(out), want)
    png = tmp_path / "moved.png"
    assert run_cli(["generate", str(ckpt), "--seeds", "3", "--rotate", "30", "--out", str(png),
                    "--device", "cpu"]) == 0
    text = json.dumps(dict(Image.open(png).text))
    assert '\\"rotate\\": 30.0' in text and '\\"translate\\": [0.0, 0.0]' in text


def test_translate_on_a_stylegan2_is_a_usage_error(tmp_path, capsys):
    assert run_cli(["generate", str(fixture("nvidia_sg2ada_skip_32.pkl")), "--seeds", "0", "--translate",
                    "0.1,0", "--out", str(tmp_path / "x.png"), "--device", "cpu"]) == 2
    assert "StyleGAN3 models only" in capsys.readouterr().err


# ---------------------------------------------------------------- conditional models

def test_class_option_picks_the_label(tmp_path):
    ckpt = fixture("nvidia_sg3repo_sg2_64_cond.pkl")
    G = load_model(ckpt).G
    out = tmp_path / "k.npy"
    assert run_cli(["generate", str(ckpt), "--seeds", "0-2", "--class", "3", "--out", str(out),
                    "--device", "cpu"]) == 0
    z = torch.from_numpy(np.stack([np.random.RandomState(s).randn(48) for s in range(3)]).astype(np.float32))
    c = torch.zeros(3, 4)
    c[:, 3] = 1
    with torch.no_grad():
        want = G(z, c).numpy()
    assert np.abs(np.load(out) - want).max() <= 1e-5
    default = tmp_path / "d.npy"
    assert run_cli(["generate", str(ckpt), "--seeds", "0-2", "--out", str(default), "--device", "cpu"]) == 0
    assert np.abs(np.load(default) - want).max() > 1e-2          # seeds 0, 1, 2 are classes 0, 1, 2
    assert run_cli(["generate", str(ckpt), "--seeds", "0", "--class", "4", "--out", str(out)]) == 2


def test_info_names_variant_repository_and_classes(capsys):
    expect = {"nvidia_sg3_t_64.pkl": ["variant: StyleGAN3-T", "NVlabs/stylegan3 (training.networks_stylegan3)"],
              "nvidia_sg3_r_32.pkl": ["variant: StyleGAN3-R"],
              "nvidia_sg3repo_sg2_64_cond.pkl": ["variant: StyleGAN2 (stylegan3 repository)",
                                                 "NVlabs/stylegan3 (training.networks_stylegan2)",
                                                 "classes: 4 (default: class = seed % 4)"],
              "nvidia_sg2ada_skip_32.pkl": ["variant: StyleGAN2-ADA", "stylegan2-ada-pytorch"]}
    for name, lines in expect.items():
        assert run_cli(["info", str(fixture(name))]) == 0
        out = capsys.readouterr().out
        for line in lines:
            assert line in out, (name, line)


def test_stylegan3_repository_stylegan2_reads_that_class_defaults():
    m = load_model(fixture("nvidia_sg3repo_sg2_64_cond.pkl"))
    sk = m.G.config()["synthesis_kwargs"]
    assert sk["conv_clamp"] == 256 and sk["num_fp16_res"] == 4 and (sk["channel_base"], sk["channel_max"]) == (1024, 64)
    assert m.G.num_ws == 10 and m.G.c_dim == 4
    assert m.G.mapping_network.embed.weight.shape == (64, 4)


def test_unseen_conditional_configuration_builds_and_round_trips():
    G = StyleGAN3Generator(z_dim=8, c_dim=3, w_dim=16, img_resolution=16, img_channels=1,
                           channel_base=256, channel_max=16, num_layers=6, num_critical=2,
                           mapping_kwargs={"num_layers": 1}).eval()
    assert G.num_ws == 8 and G.synthesis_network.layer_names[-1].endswith("_16_1")
    z = torch.randn(2, 8)
    c = torch.eye(3)[[0, 2]]
    with torch.no_grad():
        img = G(z, c, psi=0.5, truncation_cutoff=3)
        other = G(z, torch.eye(3)[[1, 1]], psi=0.5, truncation_cutoff=3)
    assert img.shape == (2, 1, 16, 16) and torch.isfinite(img).all()
    assert (img - other).abs().max() > 1e-4      # the label reaches the image
    H = StyleGAN3Generator(**json.loads(json.dumps(G.config())))
    H.load_state_dict(G.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(H.eval()(z, c, psi=0.5, truncation_cutoff=3), img)


def test_truncation_cutoff_and_style_mixing_by_sampling_rate():
    from ganexplorer.latent.stylemix import layer_ranges
    G = load_model(fixture("nvidia_sg3_t_64.pkl")).G
    z = torch.from_numpy(np.random.RandomState(0).randn(1, 64).astype(np.float32))
    with torch.no_grad():
        full, cut = G.mapping(z, None, 1.0), G.mapping(z, None, 0.5, truncation_cutoff=5)
    assert torch.allclose(cut[:, :5], G.w_avg + 0.5 * (full[:, :5] - G.w_avg))
    assert torch.equal(cut[:, 5:], full[:, 5:])
    rates = G.ws_sampling_rates()
    assert rates[:5] == [16.0] * 5 and rates[-1] == 64.0
    assert layer_ranges(G.num_ws, 64, rates=rates) == {"coarse": (0, 5), "middle": (5, 9), "fine": (9, 16)}


def test_sefa_uses_the_style_affines_of_every_layer_but_torgb():
    from ganexplorer.latent.directions import sefa_directions
    G = load_model(fixture("nvidia_sg3_r_32.pkl")).G
    A = G.sefa_weights()
    assert A.shape == (sum(L.in_channels for L in G.synthesis_network.layers()[:-1]), 32)
    d = sefa_directions(G, k=3, n_samples=200)
    assert d.vectors.shape == (3, 32) and np.allclose(np.linalg.norm(d.vectors, axis=1), 1, atol=1e-5)


# ---------------------------------------------------------------- refusals, one sentence each

def _doctor(tmp_path, stem: str, change) -> object:
    snap = snapshot(stem)
    change(snap["G_ema"])
    path = tmp_path / f"doctored_{stem}.pkl"
    path.write_bytes(dump_nvidia_like(repickle({"G_ema": snap["G_ema"], "G": snap["G_ema"]})))
    return path


def test_unknown_stylegan3_kwarg_is_named(tmp_path):
    path = _doctor(tmp_path, "nvidia_sg3_t_64",
                   lambda G: G.state["_init_kwargs"].update(use_fancy_gate=True))
    with pytest.raises(CheckpointError, match=r"use_fancy_gate.*\.$") as e:
        load_model(path)
    assert "StyleGAN3" in str(e.value) and "\n" not in str(e.value)


def test_weights_that_do_not_fit_name_the_layer_and_shapes(tmp_path):
    def shrink(G):
        layer = G.state["_modules"]["synthesis"].state["_modules"]["L3_36_64"].state
        layer["_parameters"]["weight"] = layer["_parameters"]["weight"][:, :, :1, :1].clone()
    path = _doctor(tmp_path, "nvidia_sg3_t_64", shrink)
    with pytest.raises(CheckpointError) as e:
        load_model(path)
    msg = str(e.value)
    assert "layer synthesis.L3_36_64.weight has shape [64, 64, 1, 1] in the file" in msg
    assert "needs [64, 64, 3, 3]" in msg and "StyleGAN3" in msg
    assert msg.endswith(".") and "\n" not in msg


def test_other_programs_generators_are_refused_with_what_was_found(tmp_path):
    from foreign_files import module_state
    G = persistent("TriPlaneGenerator", module_state(
        {}, {}, {"backbone": persistent("Backbone", module_state({"weight": torch.zeros(2, 2)}))},
        _init_args=(), _init_kwargs={"z_dim": 8}))
    path = tmp_path / "eg3d.pkl"
    path.write_bytes(dump_nvidia_like({"G_ema": G}))
    with pytest.raises(CheckpointError, match=r"TriPlaneGenerator.*neither a StyleGAN2 nor a StyleGAN3"):
        load_model(path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the float16 path runs only on a CUDA GPU")
def test_fp16_layers_on_gpu_stay_close_to_fp32():
    G = load_model(fixture("nvidia_sg3_t_64.pkl")).G.cuda()
    z = torch.from_numpy(np.random.RandomState(0).randn(2, 64).astype(np.float32)).cuda()
    with torch.no_grad():
        ws = G.mapping(z)
        a = G.synthesis(ws, force_fp32=True)
        b = G.synthesis(ws)
    assert (a - b).abs().max() < 0.05 * a.abs().max()


# ---------------------------------------------------------------- the window's renderer (no Qt)

def test_renderer_class_and_transform_equal_the_cli(tmp_path):
    """The render thread's pixels for a chosen class / StyleGAN3 transform are the CLI's."""
    from PIL import Image

    from ganexplorer.render.renderer import Renderer
    from ganexplorer.render.requests import RenderRequest, Source
    from ganexplorer.views.sample import SamplePart
    r = Renderer()
    cond = load_model(fixture("nvidia_sg3repo_sg2_64_cond.pkl"))
    res = r.render(RenderRequest(stamp=1, model=cond, psi=0.7, current=Source(seed=5), class_index=2,
                                 part=SamplePart(grid_seeds=(0, 1))))
    assert res.ok, res.error
    png = tmp_path / "k.png"
    assert run_cli(["generate", str(fixture("nvidia_sg3repo_sg2_64_cond.pkl")), "--seeds", "5", "--class", "2",
                    "--psi", "0.7", "--out", str(png), "--device", "cpu"]) == 0
    assert np.array_equal(res.image, np.asarray(Image.open(png).convert("RGB")))
    assert res.figure.meta["class"] == 2
    default = r.render(RenderRequest(stamp=2, model=cond, psi=0.7, current=Source(seed=5),
                                     part=SamplePart(grid_seeds=(0, 1))))
    assert not np.array_equal(default.image, res.image)        # seed 5 follows class 1 by default
    assert default.extra_keys["grid"] != res.extra_keys["grid"]  # the grid is not reused across classes
    sg3 = load_model(fixture("nvidia_sg3_r_32.pkl"))
    res = r.render(RenderRequest(stamp=3, model=sg3, current=Source(seed=4), translate=(0.1, -0.2), rotate=30,
                                 part=SamplePart()))
    png = tmp_path / "t.png"
    assert run_cli(["generate", str(fixture("nvidia_sg3_r_32.pkl")), "--seeds", "4", "--translate", "0.1,-0.2",
                    "--rotate", "30", "--out", str(png), "--device", "cpu"]) == 0
    assert np.array_equal(res.image, np.asarray(Image.open(png).convert("RGB")))
    assert res.figure.meta["rotate"] == 30
    bad = r.render(RenderRequest(stamp=4, model=cond, current=Source(seed=0), rotate=10, part=SamplePart()))
    assert not bad.ok and "StyleGAN3" in bad.error


def test_class_interpolation_interpolates_the_label_before_mapping():
    from ganexplorer.render.recipes import interpolation_ws
    from ganexplorer.render.renderer import Renderer
    from ganexplorer.render.requests import RenderRequest, Source
    from ganexplorer.views.interpolate import InterpolatePart
    m = load_model(fixture("nvidia_sg3repo_sg2_64_cond.pkl"))
    G = m.G
    ws = interpolation_ws(G, [3, 3], 5, class_path=(0, 2))
    z = torch.from_numpy(np.random.RandomState(3).randn(1, 48).astype(np.float32))
    with torch.no_grad():
        mid = G.mapping(z, torch.tensor([[0.5, 0, 0.5, 0]]))
        ends = G.mapping(z.repeat(2, 1), torch.eye(4)[[0, 2]])
    assert np.allclose(ws[2], mid[0].numpy(), atol=1e-6)
    assert np.allclose(ws[[0, 4]], ends.numpy(), atol=1e-6)
    assert not np.allclose(ws[2], (ws[0] + ws[4]) / 2, atol=1e-3)   # not a blend of the two ws
    res = Renderer().render(RenderRequest(stamp=1, model=m, part=InterpolatePart(
        endpoints=(Source(seed=3), Source(seed=3)), t=0.5, frames=5, classes=(0, 2))))
    assert res.ok, res.error
    assert res.figure.meta["classes"] == [0, 2]
    assert np.allclose(res.figure.ws[0], ws[2], atol=1e-6)


def test_exported_stylegan3_figure_reproduces_with_its_transform(tmp_path):
    from ganexplorer.render.figures import export_meta, reproduce
    from ganexplorer.render.renderer import Renderer
    from ganexplorer.render.requests import RenderRequest, Source
    from ganexplorer.views.sample import SamplePart
    m = load_model(fixture("nvidia_sg3_r_32.pkl"))
    res = Renderer().render(RenderRequest(stamp=1, model=m, current=Source(seed=1), translate=(0.2, 0.0), rotate=45,
                                          part=SamplePart()))
    meta = export_meta(res.figure, 2, False, None)
    assert meta["translate"] == [0.2, 0.0] and meta["rotate"] == 45
    assert np.array_equal(np.asarray(reproduce(m.G, meta, res.figure.ws).convert("RGB")), res.image)


def test_projection_runs_on_stylegan3_without_noise_inputs():
    """StyleGAN3 has no noise maps: projection in W+ optimises the latent alone and improves."""
    from ganexplorer.latent.project import ProjectConfig, project
    from ganexplorer.render.synth import seeds_to_ws, synthesize
    G = load_model(fixture("nvidia_sg3_r_32.pkl")).G
    target = np.clip(synthesize(G, seeds_to_ws(G, [7])), -1, 1)
    events = list(project(G, target, ProjectConfig(steps=2, starts=1, space="w+", scales=0)))
    assert events[-1].step == 2 and events[-1].ws.shape == (1, G.num_ws, G.w_dim)
    assert np.isfinite(events[-1].psnr) and events[-1].psnr >= events[0].psnr


def test_separable_resampling_paths_equal_the_2d_filter():
    """The per-axis dense and banded 1-D passes are the outer-product 2-D filter exactly."""
    from ganexplorer.models import layers
    x = torch.randn(2, 3, 300, 40, generator=torch.Generator().manual_seed(0))
    f = torch.rand(12, generator=torch.Generator().manual_seed(1))
    f = f / f.sum()
    for up, down, pad in ((2, 1, (11, 10)), (1, 2, (0, 0)), (1, 1, (-3, -4))):
        kw = dict(up=up, down=down, padding=pad + pad, gain=up * up)
        ref = layers.upfirdn2d(x, torch.outer(f, f), **kw)
        assert (layers.upfirdn2d(x, f, **kw) - ref).abs().max() < 1e-5     # 300: banded, 40: dense


def test_hostile_geometry_is_refused_before_anything_is_built(tmp_path):
    def huge(G):
        rec = G.state["_modules"]["synthesis"].state["_modules"]["L0_36_64"].state
        rec["up_taps"] = 10**9
        rec["padding"] = [7, 8, 7, 8]            # differs from the schedule: the stored geometry is used
    path = _doctor(tmp_path, "nvidia_sg3_t_64", huge)
    with pytest.raises(CheckpointError, match=r"up_taps=1000000000 is outside 1\.\.1024"):
        load_model(path)


def test_fp16_path_stays_close_to_fp32(monkeypatch):
    """The float16 layers (use_fp16, on a GPU) emulated on the CPU: same image to half precision."""
    from ganexplorer.models import stylegan3
    G = load_model(fixture("nvidia_sg3_r_32.pkl")).G
    z = torch.from_numpy(np.random.RandomState(0).randn(2, 32).astype(np.float32))
    with torch.no_grad():
        ws = G.mapping(z)
        a = G.synthesis(ws, force_fp32=True)
        monkeypatch.setattr(stylegan3, "FP16_DEVICES", ("cpu",))
        b = G.synthesis(ws)
        c = G.synthesis(ws, force_fp32=True)
    assert b.dtype == torch.float32 and torch.equal(a, c)
    assert 0 < (a - b).abs().max() < 0.01 * a.abs().max()
