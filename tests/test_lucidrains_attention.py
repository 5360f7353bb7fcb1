"""lucidrains/stylegan2-pytorch models with `attn_layers`, from a file built in their key layout,
against a functional restatement of their attention block; and `generate --noise` in their
noise convention."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from foreign_files import save_lucidrains
from ganexplorer import cli
from ganexplorer.models.errors import CheckpointError
from ganexplorer.models.registry import load_model

INNER, HEADS = 512, 8   # their LinearAttention: 8 heads of 64


def attention_keys(prefix: str, block: int, chan: int, g: torch.Generator) -> dict:
    def r(*shape, scale=0.1):
        return torch.randn(*shape, generator=g) * scale
    a = f"{prefix}.attns.{block}"
    return {f"{a}.0.fn.norm.g": 1 + r(1, chan, 1, 1), f"{a}.0.fn.norm.b": r(1, chan, 1, 1),
            f"{a}.0.fn.fn.to_q.weight": r(INNER, chan, 1, 1, scale=0.3),
            f"{a}.0.fn.fn.to_kv.net.0.weight": r(chan, 1, 3, 3, scale=0.3),
            f"{a}.0.fn.fn.to_kv.net.1.weight": r(2 * INNER, chan, 1, 1, scale=0.3),
            f"{a}.0.fn.fn.to_out.weight": r(chan, INNER, 1, 1), f"{a}.0.fn.fn.to_out.bias": r(chan),
            f"{a}.1.fn.norm.g": 1 + r(1, chan, 1, 1), f"{a}.1.fn.norm.b": r(1, chan, 1, 1),
            f"{a}.1.fn.fn.0.weight": r(2 * chan, chan, 1, 1, scale=0.3), f"{a}.1.fn.fn.0.bias": r(2 * chan),
            f"{a}.1.fn.fn.2.weight": r(chan, 2 * chan, 1, 1, scale=0.3), f"{a}.1.fn.fn.2.bias": r(chan)}


def with_attention(tmp_path, attn_layers=(2,), config_layers=None):
    path, gan = save_lucidrains(tmp_path / "models", config={"image_size": 16, "attn_layers": list(
        attn_layers if config_layers is None else config_layers)})
    g = torch.Generator().manual_seed(7)
    n_blocks = 3
    ins = [16, 16, 12]          # lucidrains_gan_state's default channels (16, 12, 8): inputs per block
    for layer in attn_layers:
        i = n_blocks - layer
        for prefix in ("G", "GE"):
            gan.update(attention_keys(prefix, i, ins[i], g))
    torch.save({"GAN": gan, "version": "1.8.9"}, path)
    return path, gan


def reference_attention(gan: dict, a: str, x: torch.Tensor) -> torch.Tensor:
    """Their attn_and_ff restated: x + attn(norm(x)), then + ff(norm(.))."""
    def norm(t, pre):
        var = t.var(dim=1, unbiased=False, keepdim=True)
        return (t - t.mean(dim=1, keepdim=True)) / (var + 1e-5).sqrt() * gan[f"{pre}.g"] + gan[f"{pre}.b"]
    p = f"{a}.0.fn.fn"
    y = norm(x, f"{a}.0.fn.norm")
    N, C, H, W = y.shape
    q = F.conv2d(y, gan[f"{p}.to_q.weight"])
    kv = F.conv2d(F.conv2d(y, gan[f"{p}.to_kv.net.0.weight"], padding=1, groups=C), gan[f"{p}.to_kv.net.1.weight"])
    k, v = kv.chunk(2, dim=1)
    d = INNER // HEADS
    split = lambda t: t.reshape(N, HEADS, d, H * W).permute(0, 1, 3, 2)  # noqa: E731  [N, h, n, d]
    q, k, v = split(q).softmax(-1) * d ** -0.5, split(k).softmax(-2), split(v)
    ctx = torch.einsum("bhnd,bhne->bhde", k, v)
    out = torch.einsum("bhnd,bhde->bhne", q, ctx).permute(0, 1, 3, 2).reshape(N, INNER, H, W)
    x = x + F.conv2d(F.gelu(out), gan[f"{p}.to_out.weight"], gan[f"{p}.to_out.bias"])
    y = norm(x, f"{a}.1.fn.norm")
    f = f"{a}.1.fn.fn"
    y = F.conv2d(F.leaky_relu(F.conv2d(y, gan[f"{f}.0.weight"], gan[f"{f}.0.bias"]), 0.2),
                 gan[f"{f}.2.weight"], gan[f"{f}.2.bias"])
    return x + y


def test_attention_block_matches_their_formulation(tmp_path):
    path, gan = with_attention(tmp_path, attn_layers=(2, 3))
    m = load_model(path)
    assert m.G.attn_layers == [2, 3] and "attention" in m.info
    x = torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = m.G.GE.attns[1](x)                 # layer 2 of 3 = block 1
        ref = reference_attention(gan, "GE.attns.1", x)
    assert torch.allclose(ours, ref, atol=1e-5)
    assert (ref - x).abs().max() > 1e-2           # the block does change its input
    # the whole generator: attention changes the image, and convert keeps it exactly
    z = torch.randn(2, 24, generator=torch.Generator().manual_seed(3))
    plain = load_model(save_lucidrains(tmp_path / "plain", config={"image_size": 16})[0]).G
    with torch.no_grad():
        assert (m.G(z) - plain(z)).abs().max() > 1e-3
    dst = tmp_path / "attn.safetensors"
    with torch.enable_grad():
        assert cli.main(["convert", str(path), str(dst)]) == 0
    with torch.no_grad():
        assert torch.equal(load_model(dst).G(z), m.G(z))


def test_attention_config_disagreeing_with_weights_is_refused(tmp_path):
    path, _ = with_attention(tmp_path, attn_layers=(2,), config_layers=(1,))
    with pytest.raises(CheckpointError, match=r"attn_layers \[1\].*layer\(s\) \[2\]"):
        load_model(path)


def test_generate_with_their_noise_image(tmp_path):
    path, _ = with_attention(tmp_path, attn_layers=(1,))
    G = load_model(path).G
    noise = np.random.RandomState(0).uniform(size=(2, 16, 16, 1)).astype(np.float32)
    zp, npth, out = tmp_path / "z.npy", tmp_path / "n.npy", tmp_path / "o.npy"
    z = np.random.RandomState(1).randn(2, 24).astype(np.float32)
    np.save(zp, z)
    np.save(npth, noise)
    with torch.enable_grad():
        assert cli.main(["generate", str(path), "--z", str(zp), "--noise", str(npth), "--out", str(out),
                         "--device", "cpu"]) == 0
    with torch.no_grad():
        want = G.synthesis(G.mapping(torch.from_numpy(z)), noise=torch.from_numpy(noise)).numpy()
        const = G(torch.from_numpy(z)).numpy()
    # to float tolerance: the CLI picks its thread count by machine load, which changes the summation order
    assert np.allclose(np.load(out), want, atol=1e-5) and np.abs(want - const).max() > 1e-4
    np.save(npth, noise[:, :8])
    with torch.enable_grad():
        assert cli.main(["generate", str(path), "--z", str(zp), "--noise", str(npth), "--out", str(out)]) == 2
    meta = json.dumps(load_model(path).describe()["config"])
    assert '"attn_layers": [1]' in meta
