"""The Generator protocol (every model class), one sample_ws, one SeFa unit. No Qt."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import tiny_dcgan

from ganexplorer.latent.directions import find_directions, pca_directions, sefa_directions
from ganexplorer.latent.sampling import sample_ws
from ganexplorer.models.lucidrains_stylegan2 import LucidrainsGenerator
from ganexplorer.models.protocol import Generator, GeneratorBase
from ganexplorer.models.stylegan2 import StyleGAN2Generator


def tiny_stylegan2(c_dim: int = 0) -> StyleGAN2Generator:
    torch.manual_seed(0)
    return StyleGAN2Generator(z_dim=12, c_dim=c_dim, w_dim=10, img_resolution=16, img_channels=3,
                              mapping_kwargs=dict(num_layers=2),
                              synthesis_kwargs=dict(channel_base=256, channel_max=16)).eval()


def tiny_lucidrains() -> LucidrainsGenerator:
    torch.manual_seed(0)
    return LucidrainsGenerator(image_size=16, latent_dim=8, network_capacity=2, style_depth=2).eval()


MODELS = {"dcgan": lambda: tiny_dcgan(), "dcgan-conditional": lambda: tiny_dcgan(c_dim=3),
          "stylegan2": tiny_stylegan2, "lucidrains": tiny_lucidrains}
# (has_styles, ws_per_resolution, feature layers) as each paper's network defines them.
EXPECTED = {"dcgan": (False, 2, ("b4", "b8")), "dcgan-conditional": (False, 2, ("b4", "b8")),
            "stylegan2": (True, 2, ("b4", "b8", "b16")), "lucidrains": (True, 1, ("b4", "b8", "b16"))}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_class_is_a_complete_generator(name):
    G = MODELS[name]()
    styles, per_res, layers = EXPECTED[name]
    assert isinstance(G, Generator) and isinstance(G, GeneratorBase)
    assert (G.has_styles, G.ws_per_resolution, G.feature_layers()) == (styles, per_res, layers)
    assert G.device == torch.device("cpu")
    A = G.sefa_weights()
    # A DCGAN's label columns are left out of SeFa's map: directions never move the class.
    assert A.ndim == 2 and A.shape[1] == (G.w_dim if G.has_styles else G.z_dim)
    with pytest.raises(ValueError, match=rf"ws must be \[N, {G.num_ws}, {G.w_dim}\]"):
        G.check_ws(torch.zeros(1, G.num_ws + 1, G.w_dim))


@pytest.mark.parametrize("name", list(MODELS))
def test_synthesis_features_are_the_maps_behind_the_image_and_carry_gradients(name):
    G = MODELS[name]()
    c = torch.eye(G.c_dim)[:2] if G.c_dim else None
    ws = G.mapping(torch.randn(2, G.z_dim, generator=torch.Generator().manual_seed(1)), c)
    ws = ws.detach().requires_grad_(True)
    layers = G.feature_layers()
    img, feats = G.synthesis_features(ws, [layers[-1], layers[0]])
    assert list(feats) == [layers[-1], layers[0]]           # in the order asked
    for layer, f in feats.items():
        r = int(layer[1:])
        assert f.shape[0] == 2 and f.shape[2:] == (r, r), (layer, f.shape)
    with torch.no_grad():
        assert torch.equal(img, G.synthesis(ws))            # the same pass as plain synthesis
    feats[layers[0]].square().mean().backward()
    assert ws.grad is not None and ws.grad.abs().sum() > 0
    # The hooks are gone afterwards: a plain synthesis is not slowed or changed by them.
    assert not any(m._forward_hooks for m in G.modules())
    with pytest.raises(ValueError, match="no feature layer 'b1024'"):
        G.synthesis_features(ws, ["b1024"])


def test_sample_ws_is_seeded_and_draws_the_z_of_estimate_w_avg():
    G = tiny_stylegan2()
    a, b = sample_ws(G, 300, seed=7), sample_ws(G, 300, seed=7)
    assert a.shape == (300, G.w_dim) and torch.equal(a, b)
    assert not torch.equal(a, sample_ws(G, 300, seed=8))
    torch.testing.assert_close(a.mean(0), G.estimate_w_avg(300, seed=7))
    # batching does not change the draw
    torch.testing.assert_close(sample_ws(G, 300, seed=7, batch=64), a)
    with pytest.raises(ValueError, match="n must be at least 1"):
        sample_ws(G, 0, seed=0)


def test_sample_ws_gives_a_conditional_model_uniform_one_hot_labels():
    G = tiny_dcgan(c_dim=3)
    w = sample_ws(G, 3000, seed=0).numpy()
    labels = w[:, G.z_dim:]
    assert set(np.unique(labels)) == {0.0, 1.0} and np.all(labels.sum(1) == 1)
    counts = labels.sum(0)
    assert counts.min() > 900, counts        # each of 3 classes about 1000 times


@pytest.mark.parametrize("method", ["pca", "sefa"])
def test_direction_scales_are_the_std_of_sampled_w_for_both_methods(method):
    G = tiny_stylegan2()
    d = find_directions(G, method, k=4, n_samples=4000, seed=3)
    w = sample_ws(G, 4000, seed=3).double().numpy()
    proj = (w - w.mean(0)) @ d.vectors.T.astype(np.float64)
    np.testing.assert_allclose(d.scales, proj.std(0), rtol=2e-3)


def test_sefa_scales_are_one_sigma_not_singular_values():
    G = tiny_dcgan()     # w = z ~ N(0, I): one sigma along any unit direction is 1
    d = sefa_directions(G, k=5)
    np.testing.assert_allclose(d.scales, 1, atol=0.05)
    A = G.sefa_weights().detach().double().numpy()
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    singular = np.linalg.svd(A, compute_uv=False)[:5]
    assert np.abs(singular - 1).max() > 0.2         # the unit we chose is not the other one
    # PCA and SeFa agree on the unit: the same population, the same std.
    p = pca_directions(G, k=5)
    np.testing.assert_allclose(p.scales, 1, atol=0.05)


def test_unknown_direction_method_is_named():
    with pytest.raises(ValueError, match="unknown direction method 'ica'; use one of pca, sefa"):
        find_directions(tiny_dcgan(), "ica")
