"""StyleGAN2Generator: NVIDIA's fixture outputs, NVIDIA's names, trainability, the protocol."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fixtures_path import fixture
from ganexplorer.models.stylegan2 import StyleGAN2Generator, setup_filter, upsample2d


def tiny(arch: str = "skip", c_dim: int = 0, res: int = 16, seed: int = 0, **synth) -> StyleGAN2Generator:
    torch.manual_seed(seed)
    kw = dict(channel_base=256, channel_max=16, architecture=arch, conv_clamp=256, num_fp16_res=1)
    kw.update(synth)
    G = StyleGAN2Generator(z_dim=12, c_dim=c_dim, w_dim=10, img_resolution=res, img_channels=3,
                           mapping_kwargs=dict(num_layers=2), synthesis_kwargs=kw)
    with torch.no_grad():   # non-trivial constants so that every path shows in the output
        for name, p in G.named_parameters():
            if name.endswith("bias") or name.endswith("noise_strength"):
                p.normal_(0, 0.3)
        G.mapping_network.w_avg.normal_(0, 0.5)
    return G.eval()


def z_of(n: int, dim: int, seed: int = 1) -> torch.Tensor:
    return torch.from_numpy(np.random.RandomState(seed).randn(n, dim).astype(np.float32))


@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_reproduces_nvidia_fixture(psi):
    from ganexplorer.models.registry import load_model
    G = load_model(fixture("nvidia_sg2ada_skip_32.pkl")).G
    ref = np.load(fixture(f"nvidia_sg2ada_skip_32_psi{psi}.npz"))
    with torch.no_grad():
        img = G(torch.from_numpy(ref["z"]), None, psi=psi, noise_mode="const").numpy()
        one = np.concatenate([G(torch.from_numpy(ref["z"][i:i + 1]), None, psi=psi).numpy()
                              for i in range(len(ref["z"]))])
    assert np.abs(img - ref["img"]).max() <= 1e-4
    assert np.abs(one - ref["img"]).max() <= 1e-4   # batch of 1: the same path per sample


def test_state_dict_names_are_nvidias():
    from ganexplorer.models.formats.nvidia_pkl import state_dict_of
    from ganexplorer.models.formats.safe_pickle import safe_loads
    snap = safe_loads(fixture("nvidia_sg2ada_skip_32.pkl").read_bytes())
    theirs = state_dict_of(snap["G_ema"])
    kwargs = dict(snap["G_ema"].state["_init_kwargs"])
    G = StyleGAN2Generator(**kwargs)
    assert len(theirs) == 75
    assert set(G.state_dict()) == set(theirs)
    G.load_state_dict(theirs, strict=True)   # key for key, shape for shape


def test_truncation_matches_nvidia_lerp_and_cutoff():
    G = tiny()
    z = z_of(3, 12)
    with torch.no_grad():
        ws = G.mapping(z, None)
        wt = G.mapping(z, None, psi=0.5)
        wc = G.mapping(z, None, psi=0.5, truncation_cutoff=2)
    w_avg = G.w_avg
    assert torch.allclose(wt, w_avg.lerp(ws, 0.5), atol=1e-6)   # NVIDIA: w_avg.lerp(x, psi)
    assert torch.allclose(wc[:, :2], wt[:, :2]) and torch.equal(wc[:, 2:], ws[:, 2:])
    assert ws.shape == (3, G.num_ws, 10)


@pytest.mark.parametrize("arch,num_ws,n_keys_torgb", [("orig", 6, 1), ("skip", 6, 3), ("resnet", 6, 1)])
def test_architectures_train_and_match_inference(arch, num_ws, n_keys_torgb):
    G = tiny(arch)
    assert G.num_ws == num_ws
    assert sum(1 for k in G.state_dict() if k.endswith("torgb.weight")) == n_keys_torgb
    if arch == "resnet":
        assert "synthesis.b8.skip.weight" in G.state_dict()
    z = z_of(4, 12)
    with torch.no_grad():
        ws = G.mapping(z, None, psi=0.8)
        fused = G.synthesis(ws)                          # eval: grouped convolutions
        G.train()
        shared = G.synthesis(ws)                         # training: shared-weight convolutions
        G.eval()
    assert torch.allclose(fused, shared, atol=1e-5)      # training path computes the same image
    G.train()
    G.requires_grad_(True)
    ws = G.mapping(z, None)
    mixed = torch.cat([ws[:, :2], ws.flip(0)[:, 2:]], dim=1)   # style mixing is the caller's job
    img = G.synthesis(mixed, noise_mode="random", generator=torch.Generator().manual_seed(0))
    img.square().mean().backward()
    missing = [n for n, p in G.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


def test_w_avg_tracks_only_in_training():
    G = tiny()
    before = G.w_avg.clone()
    with torch.no_grad():
        G.mapping(z_of(8, 12), None)
    assert torch.equal(G.w_avg, before)
    G.train()
    with torch.no_grad():
        w = G.mapping_network(z_of(8, 12), None)
    assert torch.allclose(G.w_avg, w.mean(0).lerp(before, 0.995), atol=1e-6)


def test_noise_modes():
    G = tiny()
    ws = G.mapping(z_of(2, 12), None)
    with torch.no_grad():
        const1, const2 = G.synthesis(ws, "const"), G.synthesis(ws, "const")
        r1 = G.synthesis(ws, "random", generator=torch.Generator().manual_seed(5))
        r2 = G.synthesis(ws, "random", generator=torch.Generator().manual_seed(5))
        none = G.synthesis(ws, "none")
    assert torch.equal(const1, const2) and torch.equal(r1, r2)
    assert not torch.allclose(const1, r1) and not torch.allclose(const1, none)
    with pytest.raises(ValueError):
        G.synthesis(ws, "loud")


def test_conditional_mapping_uses_the_label():
    G = tiny(c_dim=4)
    assert "mapping.embed.weight" in G.state_dict()
    z = z_of(2, 12)
    c0, c1 = torch.eye(4)[[0, 0]], torch.eye(4)[[1, 1]]
    with torch.no_grad():
        assert not torch.allclose(G.mapping(z, c0), G.mapping(z, c1))
    with pytest.raises(ValueError):
        G.mapping(z, None)


def test_config_is_json_and_rebuilds():
    G = tiny("resnet")
    cfg = json.loads(json.dumps(G.config()))
    H = StyleGAN2Generator(**cfg)
    H.load_state_dict(G.state_dict(), strict=True)
    H.eval()
    z = z_of(2, 12)
    with torch.no_grad():
        assert torch.equal(G(z, None, psi=0.6), H(z, None, psi=0.6))
    assert cfg["synthesis_kwargs"]["architecture"] == "resnet"


def test_explicit_channels_and_sefa_weights():
    G = StyleGAN2Generator(z_dim=8, w_dim=8, img_resolution=16, img_channels=1,
                           mapping_kwargs=dict(num_layers=1),
                           synthesis_kwargs=dict(channels=[6, 5, 4]))
    assert G.synthesis_network.b8.conv0.weight.shape == (5, 6, 3, 3)
    A = G.sefa_weights()
    # conv inputs: b4.conv1 6, b8.conv0 6, b8.conv1 5, b16.conv0 5, b16.conv1 4
    assert A.shape == (26, 8)
    a = G.synthesis_network.b4.conv1.affine
    assert torch.allclose(A[:6], a.weight * a.weight_gain)
    with torch.no_grad():
        assert G(z_of(1, 8), None).shape == (1, 1, 16, 16)


def test_fir_upsampling_keeps_flat_images_flat():
    f = setup_filter([1, 3, 3, 1])
    assert torch.isclose(f.sum(), torch.tensor(1.0))
    x = torch.ones(1, 2, 4, 4)
    y = upsample2d(x, f)
    assert y.shape == (1, 2, 8, 8)
    assert torch.allclose(y[:, :, 1:-1, 1:-1], torch.ones(1, 2, 6, 6))   # gain 4 restores the level


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 blocks run only on a CUDA GPU")
def test_fp16_blocks_on_gpu_stay_close_to_fp32():
    G = tiny(num_fp16_res=2).cuda()
    ws = G.mapping(z_of(4, 12).cuda(), None)
    with torch.no_grad():
        half = G.synthesis(ws)
        full = G.synthesis(ws, force_fp32=True)
    assert half.dtype == torch.float32
    assert (half - full).abs().max() < 0.05 * full.abs().max()
