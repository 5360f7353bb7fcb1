"""Loss functions, penalties, EMA and augmentation: values the papers define."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ganexplorer.models.discriminator import DCGANDiscriminator, StyleGAN2Discriminator
from trainer import losses
from trainer.augment import Augment


def test_ns_is_dcgan_bce():
    real, fake = torch.randn(16, 1), torch.randn(16, 1)
    bce = F.binary_cross_entropy(torch.sigmoid(real), torch.ones_like(real)) + \
        F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros_like(fake))
    assert torch.allclose(losses.d_loss("ns", real, fake), bce, atol=1e-5)
    assert torch.allclose(losses.g_loss("ns", fake),
                          F.binary_cross_entropy(torch.sigmoid(fake), torch.ones_like(fake)), atol=1e-5)


def test_other_losses_values():
    one, zero = torch.ones(4, 1), torch.zeros(4, 1)
    assert losses.d_loss("lsgan", one, zero) == 0            # perfect D
    assert losses.g_loss("lsgan", one) == 0
    assert losses.d_loss("hinge", one * 2, -one * 2) == 0     # beyond the margin
    assert losses.d_loss("wgan-gp", one * 3, one) == -2
    assert losses.g_loss("hinge", one * 3) == -3


def test_r1_on_linear_D():
    # D(x) = sum(w * x): grad is w for every image, so R1 = ||w||^2.
    w = torch.randn(1, 3, 4, 4)

    class Lin(nn.Module):
        def forward(self, x):
            return (x * w).sum(dim=[1, 2, 3]).unsqueeze(1)
    pen, logits = losses.r1_penalty(Lin(), torch.randn(5, 3, 4, 4))
    assert torch.allclose(pen, w.square().sum(), rtol=1e-5) and logits.shape == (5, 1)


def test_gradient_penalty_zero_for_unit_slope():
    class Lin(nn.Module):   # ||grad|| = 1 everywhere
        def forward(self, x):
            return x[:, 0, 0, :1]
    gp = losses.gradient_penalty(Lin(), torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    assert gp.abs() < 1e-6


def test_ema_update_and_beta():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    ema = copy.deepcopy(a)
    losses.update_ema(ema, b, 0.0)
    assert torch.equal(ema.weight, b.weight)
    ema = copy.deepcopy(a)
    losses.update_ema(ema, b, 1.0)
    assert torch.equal(ema.weight, a.weight)
    assert abs(losses.ema_beta(32, 10**9, 10.0, 0.0) - 0.5 ** (32 / 10000)) < 1e-12


def test_discriminators_shapes_and_configs():
    for D in (DCGANDiscriminator(32, 1, ndf=8), StyleGAN2Discriminator(img_resolution=32, img_channels=3,
                                                                       channel_base=256, channel_max=32)):
        x = torch.randn(4, D.img_channels, 32, 32)
        assert D(x).shape == (4, 1)
        assert type(D)(**D.config()).config() == D.config()


def test_bn_groups_equal_two_calls():
    torch.manual_seed(0)
    D1 = DCGANDiscriminator(16, 1, ndf=8).train()
    D2 = copy.deepcopy(D1)
    a, b = torch.randn(6, 1, 16, 16), torch.randn(6, 1, 16, 16)
    torch.testing.assert_close(torch.cat([D1(a), D1(b)]), D2(torch.cat([a, b]), bn_groups=2))
    for x, y in zip(D1.buffers(), D2.buffers()):
        torch.testing.assert_close(x, y)


def test_diffaug_differentiable_and_ada_steering():
    g = torch.Generator().manual_seed(0)
    aug = Augment("diffaug", "color,translation,cutout", torch.device("cpu"), g)
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    y = aug(x)
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad is not None
    ada = Augment("ada", "color", torch.device("cpu"), g, target=0.6, speed=0.1)
    assert torch.equal(ada(x), x)                      # p = 0: identity
    ada.accumulate(torch.ones(8, 1))                   # D sure of every real: overfitting
    ada.adjust()
    assert abs(ada.p.item() - 0.1) < 1e-6
    ada.accumulate(-torch.ones(8, 1))
    ada.adjust()
    assert ada.p.item() < 1e-6


def test_rpgan_relativistic_pairing_loss():
    """R3GAN (Huang et al. 2024), eq. 2: L_D = E f(D(G(z)) - D(x)), L_G = E f(D(x) - D(G(z))),
    f = softplus, each real paired with one fake."""
    real, fake = torch.tensor([[2.0], [0.0], [-1.0]]), torch.tensor([[0.0], [1.0], [-1.0]])
    by_hand = (torch.log1p(torch.exp(torch.tensor(-2.0))) + torch.log1p(torch.exp(torch.tensor(1.0)))
               + torch.log(torch.tensor(2.0))) / 3
    assert torch.allclose(losses.d_loss_paired("rpgan", real, fake), by_hand)
    # G's loss is D's with the roles swapped
    assert torch.allclose(losses.g_loss_paired("rpgan", real, fake), losses.d_loss_paired("rpgan", fake, real))
    # relativistic: only differences count, a shift of all logits changes nothing
    assert torch.allclose(losses.d_loss_paired("rpgan", real + 5, fake + 5), by_hand)
    # pairing: D's gradient on pair i is sigmoid(f_i - r_i) / N (and its negative on the real)
    r, f = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
    losses.d_loss_paired("rpgan", r, f).backward()
    assert torch.allclose(f.grad, torch.sigmoid(fake - real) / 3) and torch.allclose(r.grad, -f.grad)
    assert losses.uses_r1("rpgan", 1.0) and not losses.uses_r1("rpgan", 0.0)


def test_r2_is_r1_on_fakes_exact_for_a_linear_d():
    """R1 and R2 are E||grad_x D(x)||^2 on reals and on fakes; for D(x) = <w, x> it is ||w||^2."""
    w = torch.randn(1, 3, 4, 4)

    def D(x):
        return (x * w).flatten(1).sum(1, keepdim=True)
    fakes = torch.randn(5, 3, 4, 4)
    pen, logits = losses.r1_penalty(D, fakes)
    assert torch.allclose(pen, w.square().sum()) and logits.shape == (5, 1)
