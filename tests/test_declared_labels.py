"""Conditional DCGANs whose files do not say so: `--c-dim K` declares the label size, GAN
Explorer remembers it per file (sha256) in the user's configuration folder, `--class` picks
the class, and `convert` writes it into our format."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fixtures_path import fixture
from ganexplorer import cli
from ganexplorer.models import declared
from ganexplorer.models.dcgan import DCGANGenerator
from ganexplorer.models.registry import load_model


def run_cli(argv: list[str]) -> int:
    with torch.enable_grad():
        return cli.main(argv)


@pytest.fixture()
def cond_dcgan(tmp_path, monkeypatch):
    """A 16x16 DCGAN with 10 noise + 3 label inputs, saved as a bare state dict (as netG.pth)."""
    monkeypatch.setenv("GANEXPLORER_CONFIG_DIR", str(tmp_path / "config"))
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=10, c_dim=3, img_resolution=16, img_channels=3, ngf=8).eval()
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, torch.nn.BatchNorm2d):   # non-trivial running statistics
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "netG_epoch_9.pth"
    torch.save(G.state_dict(), path)
    return path, G


def test_declared_label_size_is_used_remembered_and_converted(cond_dcgan, tmp_path, capsys):
    path, G = cond_dcgan
    assert load_model(path).G.c_dim == 0                 # the file alone reads as 13 noise inputs
    out = tmp_path / "k.npy"
    assert run_cli(["generate", str(path), "--c-dim", "3", "--seeds", "0-3", "--class", "2",
                    "--out", str(out), "--device", "cpu"]) == 0
    z = torch.from_numpy(np.stack([np.random.RandomState(s).randn(10) for s in range(4)]).astype(np.float32))
    with torch.no_grad():
        want = G(z, torch.eye(3)[[2, 2, 2, 2]]).numpy()
    assert np.abs(np.load(out) - want).max() <= 1e-6
    # remembered by sha256: the next command needs no --c-dim, and says where it came from
    capsys.readouterr()
    assert run_cli(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "c_dim 3" in text and "declared by the user" in text and "class = seed % 3" in text
    assert declared.remembered_c_dim(load_model(path).sha256) == 3
    # convert writes it into our format, which then needs no memory at all
    dst = tmp_path / "cond.safetensors"
    assert run_cli(["convert", str(path), str(dst)]) == 0
    declared.remember_c_dim(load_model(path).sha256, None)
    m = load_model(dst)
    assert (m.G.z_dim, m.G.c_dim) == (10, 3)
    with torch.no_grad():
        assert torch.allclose(m.G(z, torch.eye(3)[[2, 2, 2, 2]]), torch.from_numpy(want), atol=1e-6)


def test_bad_declarations_are_one_sentence(cond_dcgan, tmp_path, capsys):
    path, _ = cond_dcgan
    out = str(tmp_path / "x.png")
    assert run_cli(["generate", str(path), "--c-dim", "13", "--seeds", "0", "--out", out]) == 2
    assert "between 1 and 12 (or 0 for none)" in capsys.readouterr().err
    assert run_cli(["generate", str(fixture("nvidia_sg2ada_skip_32.pkl")), "--c-dim", "2", "--seeds", "0",
                    "--out", out]) == 2
    err = capsys.readouterr().err
    assert "only for a DCGAN" in err and err.strip().endswith(".")


def test_c_dim_zero_forgets_the_declaration(cond_dcgan, tmp_path):
    path, _ = cond_dcgan
    out = str(tmp_path / "x.npy")
    assert run_cli(["generate", str(path), "--c-dim", "3", "--seeds", "0", "--out", out]) == 0
    assert run_cli(["generate", str(path), "--c-dim", "0", "--seeds", "0", "--out", out]) == 0
    assert declared.remembered_c_dim(load_model(path).sha256) is None


def test_a_damaged_memory_file_never_blocks_opening(cond_dcgan):
    path, _ = cond_dcgan
    declared.config_dir().mkdir(parents=True, exist_ok=True)
    (declared.config_dir() / declared.FILE_NAME).write_text("{not json")
    assert load_model(path).G.c_dim == 0
    declared.remember_c_dim("abc", 4)
    assert declared.remembered_c_dim("abc") == 4
