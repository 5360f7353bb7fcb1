"""Every headless command end to end on a tiny model made here, and its bad-input behaviour."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganexplorer.cli import main
from ganexplorer.export.metadata import read_metadata
from ganexplorer.latent.directions import Directions
from ganexplorer.models.registry import load_model
from ganexplorer.render.recipes import arithmetic_ws
from ganexplorer.render.synth import synthesize
from tiny_models import save_tiny_dcgan


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return save_tiny_dcgan(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", seed=5)


def run(*argv):
    return main([str(a) for a in argv])


def test_info_json(ckpt, capsys):
    assert run("info", ckpt, "--json") == 0
    d = json.loads(capsys.readouterr().out)
    assert d["kind"] == "dcgan" and d["z_dim"] == 16 and d["num_ws"] == 1 and d["format"] == "native"
    assert len(d["sha256"]) == 64


def test_generate_npy_is_deterministic_and_uses_nvidia_seeds(ckpt, tmp_path):
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    assert run("generate", ckpt, "--seeds", "0-3", "--out", a) == 0
    assert run("generate", ckpt, "--seeds", "0-3", "--out", b) == 0
    x = np.load(a)
    assert x.shape == (4, 3, 16, 16) and x.dtype == np.float32
    np.testing.assert_array_equal(x, np.load(b))
    # seed s means z = RandomState(s).randn(z_dim)
    z = np.stack([np.random.RandomState(s).randn(16) for s in range(4)]).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    assert run("generate", ckpt, "--z", tmp_path / "z.npy", "--out", c) == 0
    np.testing.assert_array_equal(np.load(c), x)


def test_generate_psi_changes_output(ckpt, tmp_path):
    run("generate", ckpt, "--seeds", "1", "--out", tmp_path / "a.npy")
    run("generate", ckpt, "--seeds", "1", "--psi", "0.3", "--out", tmp_path / "b.npy")
    assert not np.allclose(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_generate_grid_png_carries_metadata(ckpt, tmp_path):
    out = tmp_path / "g.png"
    assert run("generate", ckpt, "--seeds", "0-5", "--psi", "0.7", "--cols", "3", "--out", out) == 0
    im = Image.open(out)
    assert im.size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)
    meta, lat = read_metadata(out)
    model = load_model(ckpt)
    assert meta["checkpoint_sha256"] == model.sha256 and meta["seeds"] == list(range(6)) and meta["psi"] == 0.7
    # the stored latents reproduce the first tile exactly
    tile = np.asarray(im)[2:18, 2:18]
    img = synthesize(model.G, lat["ws"][:1])
    expected = np.clip(np.rint((img[0] + 1) * 127.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(tile, expected)


@pytest.mark.parametrize("suffix", [".png", ".gif", ".mp4"])
def test_interpolate_outputs(ckpt, tmp_path, suffix):
    out = tmp_path / f"i{suffix}"
    assert run("interpolate", ckpt, "--seeds", "1,2,3", "--steps", "5", "--slerp", "--out", out) == 0
    assert out.stat().st_size > 0
    if suffix == ".gif":
        assert Image.open(out).n_frames == 5
    if suffix == ".png":
        assert Image.open(out).size[0] == 5 * 16 + 6 * 2


def test_arithmetic_grid_matches_recipe(ckpt, tmp_path):
    out = tmp_path / "a.png"
    assert run("arithmetic", ckpt, "--group", "+1,2,3", "--group", "-4,5,6", "--group", "+7,8,9",
               "--neighbours", "4", "--sigma", "0.3", "--out", out) == 0
    meta, lat = read_metadata(out)
    assert meta["signs"] == [1, -1, 1] and meta["groups"] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    G = load_model(ckpt).G
    r = arithmetic_ws(G, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [1, -1, 1], "z", 1.0, 4, 0.3)
    np.testing.assert_array_equal(lat["result"], r.result)
    # In Z for a DCGAN the result is mean(A) - mean(B) + mean(C) of the seeds' z.
    z = lambda s: np.random.RandomState(s).randn(16)
    expected = np.mean([z(1), z(2), z(3)], 0) - np.mean([z(4), z(5), z(6)], 0) + np.mean([z(7), z(8), z(9)], 0)
    np.testing.assert_allclose(lat["result"][0, 0], expected, atol=1e-5)
    assert lat["neighbours"].shape == (4, 1, 16)


def test_mix_refuses_models_without_styles(ckpt, tmp_path, capsys):
    assert run("mix", ckpt, "--rows", "1,2", "--cols", "3", "--out", tmp_path / "m.png") == 2
    assert "no per-layer styles" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize("method", ["pca", "sefa"])
def test_directions(ckpt, tmp_path, method):
    out = tmp_path / "d.npz"
    assert run("directions", ckpt, "--method", method, "--k", "5", "--samples", "2000", "--out", out) == 0
    d = Directions.load(out)
    assert d.vectors.shape == (5, 16) and d.method == method
    np.testing.assert_allclose(np.linalg.norm(d.vectors, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(d.vectors @ d.vectors.T, np.eye(5), atol=1e-4)  # orthonormal
    if method == "pca":  # DCGAN w = z ~ N(0, I): every axis has std ~1
        np.testing.assert_allclose(d.scales, 1, atol=0.15)


def test_convert_round_trip(ckpt, tmp_path):
    out = tmp_path / "c.safetensors"
    assert run("convert", ckpt, out) == 0
    m = load_model(out)
    assert m.info["converted_from"]["sha256"] == load_model(ckpt).sha256
    run("generate", ckpt, "--seeds", "0-1", "--out", tmp_path / "a.npy")
    run("generate", out, "--seeds", "0-1", "--out", tmp_path / "b.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


@pytest.mark.parametrize("argv,words", [
    (["generate", "{ckpt}", "--seeds", "5-2", "--out", "{tmp}/o.npy"], "runs backwards"),
    (["generate", "{ckpt}", "--seeds", "1", "--psi", "abc", "--out", "{tmp}/o.npy"], "--psi must be a number"),
    (["generate", "{tmp}/missing.pt", "--seeds", "1", "--out", "{tmp}/o.npy"], "no such file"),
    (["generate", "{tmp}", "--seeds", "1", "--out", "{tmp}/o.npy"], "is a folder"),
    (["generate", "{ckpt}", "--seeds", "1", "--out", "{tmp}/o.txt"], "must end in"),
    (["generate", "{ckpt}", "--seeds", "1", "--out", "{tmp}/nodir/o.npy"], "does not exist"),
    (["interpolate", "{ckpt}", "--seeds", "1", "--out", "{tmp}/o.gif"], "at least two"),
    (["generate", "{ckpt}", "--z", "{tmp}/zbad.npy", "--out", "{tmp}/o.npy"], "expected shape"),
])
def test_bad_input_exit_2_one_line_no_output(ckpt, tmp_path, capsys, argv, words):
    np.save(tmp_path / "zbad.npy", np.zeros((2, 5), np.float32))
    argv = [a.format(ckpt=ckpt, tmp=tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o.npy").exists() and not (tmp_path / "o.gif").exists()
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


def test_real_process_exit_status_and_debug(ckpt, tmp_path):
    bad = tmp_path / "empty.pt"
    bad.write_bytes(b"")
    r = subprocess.run([sys.executable, "-m", "ganexplorer.cli", "info", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "is empty" in r.stderr
    r = subprocess.run([sys.executable, "-m", "ganexplorer.cli", "--debug", "info", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr
