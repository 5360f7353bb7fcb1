"""Edit and projection on a StyleGAN2 model: w / w+ spaces, noise maps left as they were.

The shared fixture is a small StyleGAN2 with random weights, so these check the mechanics
(shapes, spaces, the noise optimisation restoring the model), not quality.
"""
from __future__ import annotations

import pytest

import numpy as np
import torch
from fixtures_path import fixture

from ganexplorer.latent.edit import EditConfig, run_edit
from ganexplorer.latent.project import ProjectConfig, noise_regularisation, run_projection
from ganexplorer.latent.strokes import ColorStroke, StrokeDocument, rasterize
from ganexplorer.models.registry import load_model
from ganexplorer.render.synth import seeds_to_ws, synthesize


@pytest.fixture(autouse=True)
def one_thread():
    from edit_helpers import torch_threads
    with torch_threads(1):
        yield


def test_stylegan_edit_in_w_and_w_plus():
    G = load_model(fixture("nvidia_sg2ada_skip_32.pkl")).G
    ws = seeds_to_ws(G, [1])
    cons = rasterize(StrokeDocument((32, 32), [ColorStroke((255, 0, 0), 6, [(8, 8), (20, 10)])]), 32)
    m = cons.color_mask > 0.5
    before = synthesize(G, ws)[0, 0][m].mean()
    ev = run_edit(G, ws, cons, EditConfig(steps=10, candidates=3))          # auto: one w for all layers
    assert ev.best_ws.shape == (1, G.num_ws, G.w_dim)
    assert np.allclose(ev.best_ws[0, 0], ev.best_ws[0, -1])
    assert ev.best_image[0, 0][m].mean() > before
    ev = run_edit(G, ws, cons, EditConfig(steps=10, candidates=3, space="w+"))
    assert not np.allclose(ev.best_ws[0, 0], ev.best_ws[0, -1])            # layers move apart


def test_stylegan_projection_restores_the_noise_maps():
    G = load_model(fixture("nvidia_sg2ada_skip_32.pkl")).G
    noise = {k: v.clone() for k, v in G.named_buffers() if "noise_const" in k}
    assert noise
    z = torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        tgt = G.synthesis(G.mapping(z)).clamp(-1, 1).numpy()
    ev = run_projection(G, tgt, ProjectConfig(steps=15))
    assert ev.done and ev.ws.shape == (1, G.num_ws, G.w_dim) and set(ev.noise) == set(noise)
    buffers = dict(G.named_buffers())
    assert all(torch.equal(buffers[k], v) for k, v in noise.items())
    # NVIDIA's noise penalty: white noise scores low, smooth maps high.
    white = [torch.randn(16, 16, generator=torch.Generator().manual_seed(0))]
    smooth = [torch.ones(16, 16)]
    assert noise_regularisation(white) < 0.01 < noise_regularisation(smooth)
