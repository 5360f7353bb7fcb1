"""Every foreign format: fixture references through the CLI, DCGAN variants, lucidrains,
rosinality's train.py layout, convert round trips and the bundled face sample."""
from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fixtures_path import fixture
from foreign_files import (save_dcgan, save_lucidrains, save_rosinality_train_layout,
                           stylegan3_like_pickle, tensorflow_like_pickle)
from ganexplorer import cli
from ganexplorer.models.errors import CheckpointError
from ganexplorer.models.registry import format_label, load_model
from tiny_models import save_tiny_dcgan


FIXTURE_CKPTS = {"nvidia_sg2ada_skip_32": "nvidia_sg2ada_skip_32.pkl", "rosinality_32": "rosinality_32.pt",
                 "nvidia_sg3_t_64": "nvidia_sg3_t_64.pkl", "nvidia_sg3_r_32": "nvidia_sg3_r_32.pkl",
                 "nvidia_sg3repo_sg2_64_cond": "nvidia_sg3repo_sg2_64_cond.pkl"}


def run_cli(argv: list[str]) -> int:
    """cli.main in-process; the CLI turns autograd off globally, so restore it after."""
    with torch.enable_grad():
        return cli.main(argv)


def generate_npy(ckpt, tmp_path, z: np.ndarray, psi: float, name: str = "out",
                 c: np.ndarray | None = None, extra: tuple[str, ...] = ()) -> np.ndarray:
    zp, out = tmp_path / f"{name}_z.npy", tmp_path / f"{name}.npy"
    np.save(zp, z.astype(np.float32))
    argv = ["generate", str(ckpt), "--z", str(zp), "--psi", str(psi), "--out", str(out), "--device", "cpu"]
    if c is not None:
        np.save(tmp_path / f"{name}_c.npy", c.astype(np.float32))
        argv += ["--c", str(tmp_path / f"{name}_c.npy")]
    assert run_cli(argv + list(extra)) == 0
    return np.load(out)


# ---------------------------------------------------------------- fixtures via the CLI

@pytest.mark.parametrize("stem", sorted(FIXTURE_CKPTS))
@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_fixture_reproduces_reference_through_cli(stem, psi, tmp_path):
    ckpt = fixture(FIXTURE_CKPTS[stem])
    ref = np.load(fixture(f"{stem}_psi{psi}.npz"))
    assert float(ref["psi"]) == psi
    img = generate_npy(ckpt, tmp_path, ref["z"], psi, c=ref["c"] if "c" in ref.files else None)
    assert img.shape == ref["img"].shape
    assert np.abs(img - ref["img"]).max() <= 1e-4


def test_formats_are_sniffed_by_content_not_name(tmp_path):
    renamed_pkl = tmp_path / "model.pt"
    renamed_pt = tmp_path / "model.pkl"
    shutil.copy(fixture("nvidia_sg2ada_skip_32.pkl"), renamed_pkl)
    shutil.copy(fixture("rosinality_32.pt"), renamed_pt)
    assert load_model(renamed_pkl).format == "nvidia-pkl"
    assert load_model(renamed_pt).format == "rosinality"


def test_info_names_the_format(tmp_path, capsys):
    expected = {fixture("nvidia_sg2ada_skip_32.pkl"): "NVIDIA StyleGAN2/StyleGAN3 network pickle",
                fixture("rosinality_32.pt"): "rosinality StyleGAN2 checkpoint"}
    dc = tmp_path / "netG_epoch_3.pth"
    save_dcgan(dc, "bare")
    expected[dc] = format_label("torch-dcgan")
    luc, _ = save_lucidrains(tmp_path / "models", config={"image_size": 16, "lr_mlp": 0.1})
    expected[luc] = format_label("lucidrains")
    for path, label in expected.items():
        assert run_cli(["info", str(path)]) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[0] == f"{path.name}: {label}"
        assert "config:" in out


def test_nvidia_pickle_reports_its_configuration():
    m = load_model(fixture("nvidia_sg2ada_skip_32.pkl"))
    cfg = m.G.config()
    assert cfg["synthesis_kwargs"] == {"channel_base": 256, "channel_max": 32, "num_fp16_res": 2,
                                       "conv_clamp": 256}
    assert m.info["generator_key"] == "G_ema"
    assert (m.G.num_ws, m.G.z_dim, m.G.img_resolution) == (8, 32, 32)


def test_incomplete_stylegan3_and_tensorflow_pickles_are_refused_by_name(tmp_path):
    # A StyleGAN3 snapshot stripped of its dimensions: recognised by its keys, refused in a sentence.
    sg3 = tmp_path / "stylegan3-t.pkl"
    sg3.write_bytes(stylegan3_like_pickle())
    with pytest.raises(CheckpointError, match=r"StyleGAN3 generator does not record w_dim.*\.$"):
        load_model(sg3)
    tf = tmp_path / "karras2019stylegan-ffhq-1024x1024.pkl"
    tf.write_bytes(tensorflow_like_pickle())
    with pytest.raises(CheckpointError, match="TensorFlow"):
        load_model(tf)


# ---------------------------------------------------------------- rosinality train.py layout

def test_rosinality_train_layout_estimates_latent_avg(tmp_path):
    path = tmp_path / "100000.pt"
    save_rosinality_train_layout(fixture("rosinality_32.pt"), path)
    m = load_model(path)
    assert m.format == "rosinality" and "train.py" in m.info["provenance"]
    assert "estimated" in m.info["truncation_center"]
    assert m.info["train_args"]["n_mlp"] == 2
    ref = np.load(fixture("rosinality_32_psi1.0.npz"))
    with torch.no_grad():
        img = m.G(torch.from_numpy(ref["z"]), None, psi=1.0).numpy()
    assert np.abs(img - ref["img"]).max() <= 1e-4
    stored = torch.load(fixture("rosinality_32.pt"), weights_only=True)["latent_avg"]
    # 10,000 seeded samples against the file's 100,000: the same centre within sampling error.
    assert (m.G.w_avg - stored).abs().max() < 0.1


# ---------------------------------------------------------------- pytorch DCGAN

DCGAN_VARIANTS = ["bare", "netG_state_dict", "state_dict", "generator", "module", "dropout", "bias"]


@pytest.mark.parametrize("variant", DCGAN_VARIANTS)
def test_dcgan_variants_load_exactly(variant, tmp_path):
    path = tmp_path / f"{variant}.pth"
    G = save_dcgan(path, variant, seed=3)
    m = load_model(path)
    assert m.format == "torch-dcgan"
    assert m.G.config()["bias"] == (variant == "bias")
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(m.G(z), G(z))


def test_dcgan_legacy_torch_save_loads(tmp_path):
    path = tmp_path / "netG_epoch_24.pth"
    G = save_dcgan(path, "bare", seed=4, legacy=True)
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(load_model(path).G(z), G(z))


def test_dcgan_inference_of_shapes(tmp_path):
    path = tmp_path / "g.pth"
    save_dcgan(path, "bare", img_resolution=32, img_channels=1, ngf=4, z_dim=7)
    G = load_model(path).G
    assert (G.z_dim, G.img_resolution, G.img_channels, G.channels) == (7, 32, 1, [16, 8, 4])


def _sd(tmp_path, sd, name="odd.pth"):
    path = tmp_path / name
    torch.save(sd, path)
    return path


def test_dcgan_unfamiliar_layouts_are_refused_with_what_was_found(tmp_path):
    from foreign_files import dcgan_state
    _, sd = dcgan_state(0)
    extra = dict(sd)
    extra["main.13.weight"] = torch.randn(3, 3, 3, 3)   # a stride-1 3x3 conv after the last layer
    with pytest.raises(CheckpointError, match=r"read as CBCBCC"):
        load_model(_sd(tmp_path, extra, "extra.pth"))
    no_affine = {k: v for k, v in sd.items() if not (k.startswith("main.1.") and k[7:] in ("weight", "bias"))}
    with pytest.raises(CheckpointError, match="affine"):
        load_model(_sd(tmp_path, no_affine, "noaffine.pth"))
    linear = dict(sd)
    linear["fc.weight"] = torch.zeros(4, 4)
    with pytest.raises(CheckpointError, match="fc.weight"):
        load_model(_sd(tmp_path, linear, "linear.pth"))
    with pytest.raises(CheckpointError, match=r"PyTorch file.*found keys alpha"):
        load_model(_sd(tmp_path, {"alpha": torch.zeros(2)}, "unknown.pth"))


def test_conditional_dcgan_input_is_read_as_z_and_said(tmp_path):
    path = tmp_path / "cond.pth"
    save_dcgan(path, "bare", z_dim=16 + 10)   # nz + n_classes inputs look like a wider z
    m = load_model(path)
    assert m.G.z_dim == 26 and "conditional" in m.info["note"]


# ---------------------------------------------------------------- lucidrains

def _modconv(x, weight, s, demod):
    """Per-sample reference: W' = W * (s + 1), demodulated per output channel."""
    outs = []
    for n in range(x.shape[0]):
        w = weight * (s[n][None, :, None, None] + 1)
        if demod:
            w = w * torch.rsqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        outs.append(F.conv2d(x[n:n + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(outs)


def lucidrains_reference(gan: dict, z: torch.Tensor, inoise: torch.Tensor, lr_mlp: float) -> torch.Tensor:
    """Their Generator(StyleVectorizer(z)) restated functionally from the layout, EMA keys."""
    x = F.normalize(z, dim=1)
    i = 0
    while f"SE.net.{2 * i}.weight" in gan:
        x = F.leaky_relu(F.linear(x, gan[f"SE.net.{2 * i}.weight"] * lr_mlp, gan[f"SE.net.{2 * i}.bias"] * lr_mlp), 0.2)
        i += 1
    w = x
    h = gan["GE.initial_block"].expand(len(z), -1, -1, -1)
    h = F.conv2d(h, gan["GE.initial_conv.weight"], gan["GE.initial_conv.bias"], padding=1)
    n_blocks = sum(1 for k in gan if k.startswith("GE.blocks.") and k.endswith(".conv1.weight"))
    rgb = None
    blur = torch.tensor([1.0, 2.0, 1.0])
    blur = (blur[None] * blur[:, None]) / 16
    for b in range(n_blocks):
        p = lambda name, b=b: gan[f"GE.blocks.{b}.{name}"]  # noqa: E731
        if b:
            h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        n = inoise[:, :h.shape[2], :h.shape[3], :]
        noise1 = F.linear(n, p("to_noise1.weight"), p("to_noise1.bias")).permute(0, 3, 2, 1)
        noise2 = F.linear(n, p("to_noise2.weight"), p("to_noise2.bias")).permute(0, 3, 2, 1)
        s1 = F.linear(w, p("to_style1.weight"), p("to_style1.bias"))
        h = F.leaky_relu(_modconv(h, p("conv1.weight"), s1, True) + noise1, 0.2)
        s2 = F.linear(w, p("to_style2.weight"), p("to_style2.bias"))
        h = F.leaky_relu(_modconv(h, p("conv2.weight"), s2, True) + noise2, 0.2)
        y = _modconv(h, p("to_rgb.conv.weight"), F.linear(w, p("to_rgb.to_style.weight"), p("to_rgb.to_style.bias")),
                     False)
        rgb = y if rgb is None else y + rgb
        if b != n_blocks - 1:
            rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            rgb = F.conv2d(F.pad(rgb, [1, 1, 1, 1], mode="reflect"), blur[None, None].expand(3, 1, 3, 3), groups=3)
    return rgb


@pytest.mark.parametrize("lr_mlp", [0.1, 0.5])
def test_lucidrains_constructed_checkpoint(lr_mlp, tmp_path):
    # No public lucidrains file is among the fixtures: this one is built from their key layout.
    path, gan = save_lucidrains(tmp_path / "models", name="flowers", num=7,
                                config={"image_size": 16, "network_capacity": 4, "transparent": False,
                                        "attn_layers": [], "no_const": False, "lr_mlp": lr_mlp})
    m = load_model(path)
    assert m.format == "lucidrains" and m.info["name"] == "flowers/model_7"
    G = m.G
    assert (G.z_dim, G.num_ws, G.img_resolution) == (24, 3, 16)
    z = torch.randn(3, 24, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ours = G(z, None, psi=1.0, noise_mode="const")
        inoise = G.noise_const[None, :, :, None].expand(3, 16, 16, 1)
        ref = lucidrains_reference(gan, z, inoise, lr_mlp) * 2 - 1
    assert torch.allclose(ours, ref, atol=1e-5)
    # The EMA copies were used, not the training ones.
    assert torch.equal(G.SE.net[0].weight, gan["SE.net.0.weight"])
    assert not torch.equal(G.SE.net[0].weight, gan["S.net.0.weight"])


def test_lucidrains_without_config_assumes_default_lr_mlp(tmp_path):
    path, _ = save_lucidrains(tmp_path / "models", config=None)
    m = load_model(path)
    assert m.G.lr_mlp == 0.1 and "assumed" in str(m.info["lr_mlp"])


def test_lucidrains_attention_config_without_attention_weights_is_refused(tmp_path):
    # Attention itself is read (test_lucidrains_attention.py); a config that promises it for
    # weights without it is a mismatch, said in a sentence.
    path, gan = save_lucidrains(tmp_path / "models", config={"image_size": 16, "attn_layers": [1]})
    with pytest.raises(CheckpointError, match=r"config says attn_layers \[1\] but the weights hold attention"):
        load_model(path)


# ---------------------------------------------------------------- convert round trips

def _all_format_files(tmp_path):
    files = {"nvidia": fixture("nvidia_sg2ada_skip_32.pkl"), "rosinality": fixture("rosinality_32.pt")}
    files["dcgan"] = tmp_path / "netG.pth"
    save_dcgan(files["dcgan"], "netG_state_dict")
    files["lucidrains"], _ = save_lucidrains(tmp_path / "models", config={"image_size": 16})
    files["native"] = save_tiny_dcgan(tmp_path / "tiny.safetensors")
    return files


def test_convert_round_trip_gives_identical_images(tmp_path):
    for name, src in _all_format_files(tmp_path).items():
        dst = tmp_path / f"{name}.safetensors"
        assert run_cli(["convert", str(src), str(dst)]) == 0, name
        a, b = load_model(src), load_model(dst)
        assert b.format == "native" and type(b.G) is type(a.G)
        assert b.info["converted_from"]["sha256"] == a.sha256
        z = np.random.RandomState(5).randn(3, a.G.z_dim).astype(np.float32)
        ia = generate_npy(src, tmp_path, z, 0.7, f"{name}_a")
        ib = generate_npy(dst, tmp_path, z, 0.7, f"{name}_b")
        assert np.array_equal(ia, ib), name


# ---------------------------------------------------------------- the face sample

def test_face_sample_loads_with_credit_and_licence():
    from ganexplorer.models.samples import list_sample_models
    samples = [s for s in list_sample_models() if s.path.name == "weights.tar"]
    if not samples:
        pytest.skip("gan-face-generate is not installed (make setup installs it with --no-deps)")
    assert "gan_face_generate" not in sys.modules   # found through metadata, never imported
    m = load_model(samples[0].path)
    assert m.format == "torch-dcgan"
    assert "DigiFace-1M" in m.info["credit"] and "non-commercial" in m.info["licence"]
    assert "MIT" in m.info["licence"]
    G = m.G
    assert (G.z_dim, G.img_resolution, G.img_channels) == (100, 64, 3)
    with torch.no_grad():
        img = G(torch.randn(4, 100, generator=torch.Generator().manual_seed(0)))
    assert img.abs().max() <= 1 and img.std() > 0.1
    assert "gan_face_generate" not in sys.modules
