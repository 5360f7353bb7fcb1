"""Native checkpoint round trips and readable errors for damaged files."""

import numpy as np
import pytest
import torch

from ganexplorer.models.checkpoint import load_checkpoint, save_checkpoint
from ganexplorer.models.dcgan import DCGANGenerator, dcgan_channels
from ganexplorer.models.errors import CheckpointError
from ganexplorer.models.registry import load_model
from ganexplorer.render.synth import seeds_to_ws, synthesize
from tiny_models import rewrite_native_header, save_tiny_dcgan, tiny_dcgan


@pytest.mark.parametrize("res,channels", [(16, 1), (32, 3), (64, 3), (128, 1), (256, 3)])
def test_dcgan_any_resolution(res, channels):
    G = DCGANGenerator(z_dim=8, img_resolution=res, img_channels=channels, ngf=4, channel_max=32)
    img = G(torch.randn(2, 8))
    assert img.shape == (2, channels, res, res)
    assert img.abs().max() <= 1  # tanh output


def test_dcgan_layout_matches_pytorch_examples():
    # pytorch/examples dcgan: ConvT at 0, 3, 6, 9, 12; BatchNorm at 1, 4, 7, 10; (nz, ngf*8, 4, 4) first.
    G = DCGANGenerator(z_dim=100, img_resolution=64, ngf=64)
    sd = G.state_dict()
    assert sd["main.0.weight"].shape == (100, 512, 4, 4)
    assert sd["main.12.weight"].shape == (64, 3, 4, 4)
    assert {f"main.{i}.running_var" for i in (1, 4, 7, 10)} <= set(sd)
    assert dcgan_channels(64, 64, 512) == [512, 256, 128, 64]


def test_dcgan_rejects_bad_shapes():
    with pytest.raises(ValueError, match="power of two"):
        DCGANGenerator(img_resolution=48)
    G = tiny_dcgan()
    with pytest.raises(ValueError, match=r"z must be \[N, 16\]"):
        G.mapping(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="ws must be"):
        G.synthesis(torch.zeros(1, 2, 16))


def test_truncation_toward_prior_mean():
    G = tiny_dcgan()
    z = torch.randn(3, 16)
    np.testing.assert_allclose(G.mapping(z, psi=0.5)[:, 0].numpy(), 0.5 * z.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(G.mapping(z, psi=1)[:, 0].numpy(), z.numpy())


def test_round_trip_identical_images(tmp_path):
    path = save_tiny_dcgan(tmp_path / "m.safetensors", seed=3)
    model = load_model(path)
    assert model.format == "native" and model.info["name"] == "tiny test DCGAN"
    G0 = tiny_dcgan(3)
    ws = seeds_to_ws(G0, [0, 1, 2], psi=0.7)
    np.testing.assert_array_equal(synthesize(model.G, ws), synthesize(G0, ws))
    assert not any(p.requires_grad for p in model.G.parameters())


def test_conditional_dcgan_round_trip(tmp_path):
    G = DCGANGenerator(z_dim=8, c_dim=3, img_resolution=16, ngf=4)
    save_checkpoint(tmp_path / "c.safetensors", {"G": G})
    G2 = load_checkpoint(tmp_path / "c.safetensors").nets["G"]
    assert G2.c_dim == 3 and G2.w_dim == 11
    ws = seeds_to_ws(G2, [0, 1, 2])
    np.testing.assert_array_equal(ws[:, 0, 8:].argmax(1), [0, 1, 2])  # label = seed % c_dim, never truncated


def test_no_temporary_files_left(tmp_path):
    save_tiny_dcgan(tmp_path / "m.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_failed_save_leaves_old_file(tmp_path, monkeypatch):
    path = save_tiny_dcgan(tmp_path / "m.safetensors", seed=1)
    before = path.read_bytes()
    import ganexplorer.models.checkpoint as ck

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(ck, "save_file", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_tiny_dcgan(path, seed=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]




@pytest.mark.parametrize("damage,words", [
    ("missing", "no such file"),
    ("dir", "is a folder"),
    ("empty", "is empty"),
    ("truncated", "truncated or damaged"),
    ("mismatch", r"layer main\.\d+\.weight has shape \[\d+(, \d+)*\] in the file but the "
                 r"architecture needs \[\d+(, \d+)*\]\.$"),
    ("badclass", "unknown class"),
    ("text", "not a checkpoint format"),
    ("newer", "newer GAN Explorer"),
])
def test_bad_files_give_readable_errors(tmp_path, damage, words):
    path = tmp_path / "m.safetensors"
    if damage == "missing":
        path = tmp_path / "nothing.safetensors"
    elif damage == "dir":
        path = tmp_path
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("hello, I am not a model")
    else:
        save_tiny_dcgan(path)
        if damage == "truncated":
            path.write_bytes(path.read_bytes()[:-300])
        elif damage == "mismatch":
            rewrite_native_header(path, lambda m: m["nets"]["G"]["kwargs"].update(ngf=16, channels=None))
        elif damage == "badclass":
            rewrite_native_header(path, lambda m: m["nets"]["G"].update(class_name="os.system"))
        elif damage == "newer":
            rewrite_native_header(path, lambda m: m.update(version=99))
    with pytest.raises(CheckpointError, match=words):
        load_model(path)
