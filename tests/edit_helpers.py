"""Models for the edit/projection tests: the shipped DCGAN, the sample face DCGAN, a tiny one.

A randomly initialised generator is no test of editing or projection (its images are
smooth noise that any latent reproduces), so every model here is trained.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import time

import numpy as np
import torch
import torch.nn.functional as F

from ganexplorer.models.dcgan import DCGANGenerator


@contextlib.contextmanager
def torch_threads(n: int = 1):
    """Run with n torch CPU threads: these small models are faster on one thread than on two
    contended ones (the CI box has 2 shared cores)."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@functools.lru_cache(maxsize=None)
def shipped_dcgan_path():
    """resources/models/*dcgan*.safetensors (the trainer's shipped model), or None.

    GANEXPLORER_TEST_DCGAN=path points these tests at another trained DCGAN checkpoint.
    """
    import os
    from pathlib import Path

    from ganexplorer.resources import bundled_models
    if os.environ.get("GANEXPLORER_TEST_DCGAN"):
        return Path(os.environ["GANEXPLORER_TEST_DCGAN"])
    found = [p for p in bundled_models() if "dcgan" in p.name.lower()]
    return found[0] if found else None


def shipped_dcgan():
    from ganexplorer.models.registry import load_model
    path = shipped_dcgan_path()
    return load_model(path) if path else None


@functools.lru_cache(maxsize=None)
def face_weights_path():
    """gan-face-generate's trained 64x64 RGB face DCGAN (pytorch tutorial layout), or None."""
    try:
        files = importlib.metadata.files("gan-face-generate") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == "weights.tar":
            return f.locate()
    return None


@functools.lru_cache(maxsize=None)
def face_dcgan() -> DCGANGenerator | None:
    path = face_weights_path()
    if path is None:
        return None
    G = DCGANGenerator(z_dim=100, img_resolution=64, img_channels=3, ngf=64)
    state = torch.load(path, map_location="cpu", weights_only=True)["netG_state_dict"]
    G.load_state_dict(state)
    return G.eval().requires_grad_(False)


def digits_16() -> torch.Tensor:
    """scikit-learn's 1797 handwritten digits, 8x8 -> 16x16 grey in [-1, 1]: [N, 1, 16, 16]."""
    from sklearn.datasets import load_digits
    x = torch.from_numpy(load_digits().images.astype(np.float32) / 16.0)[:, None]
    x = F.interpolate(x, size=16, mode="bilinear", align_corners=False)
    return x.clamp(0, 1) * 2 - 1


@functools.lru_cache(maxsize=None)
def tiny_trained_dcgan(steps: int = 400, seed: int = 0) -> tuple[DCGANGenerator, torch.nn.Module, float]:
    """A 16x16 grey DCGAN trained for `steps` on the digits (non-saturating loss, Adam 2e-4, β1 0.5).

    Returns (G, D, seconds). Seeded; about 10-20 s on one CPU core.
    """
    from ganexplorer.models.discriminator import DCGANDiscriminator
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = digits_16()
    G = DCGANGenerator(z_dim=16, img_resolution=16, img_channels=1, ngf=32)
    D = DCGANDiscriminator(img_resolution=16, img_channels=1, ndf=32)
    for m in list(G.modules()) + list(D.modules()):   # DCGAN paper init
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(m.weight, 0, 0.02)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1, 0.02)
            torch.nn.init.zeros_(m.bias)
    optG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    G.train(), D.train()
    with torch.enable_grad(), torch_threads(1):
        for _ in range(steps):
            real = data[torch.randint(len(data), (64,), generator=gen)]
            z = torch.randn(64, 16, generator=gen)
            fake = G(z)
            lossD = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
            optD.zero_grad()
            lossD.backward()
            optD.step()
            lossG = F.softplus(-D(fake)).mean()
            optG.zero_grad()
            lossG.backward()
            optG.step()
    G.eval().requires_grad_(False)
    D.eval().requires_grad_(False)
    return G, D, time.perf_counter() - t0


def bundled_stylegan2_path():
    """resources/models/*stylegan2*.safetensors (the shipped 64-px model); skips the test when
    it is missing."""
    import pytest

    from ganexplorer.resources import bundled_models
    found = [p for p in bundled_models() if "stylegan2" in p.name.lower()]
    if not found:
        pytest.skip("no bundled StyleGAN2 in resources/models")
    return found[0]
