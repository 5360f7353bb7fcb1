"""`ganexplorer edit` and `ganexplorer project` end to end on a trained model's checkpoint."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganexplorer.cli import main
from ganexplorer.export.metadata import read_metadata
from ganexplorer.latent.strokes import ColorStroke, StrokeDocument
from ganexplorer.models.checkpoint import save_checkpoint

from edit_helpers import tiny_trained_dcgan


@pytest.fixture(autouse=True)
def one_thread():
    from edit_helpers import torch_threads
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    G, D, _ = tiny_trained_dcgan()
    return save_checkpoint(tmp_path_factory.mktemp("cli") / "tiny.safetensors", {"G": G, "D": D},
                           {"name": "tiny digits DCGAN"})


def test_cli_edit_end_to_end(ckpt, tmp_path, capsys):
    strokes = StrokeDocument((16, 16), [ColorStroke((255, 255, 255), 3, [(8, 3), (8, 13)])])
    strokes.save(tmp_path / "s.json")
    out, anim = tmp_path / "edited.png", tmp_path / "anim.gif"
    rc = main(["edit", str(ckpt), "--seed", "3", "--strokes", str(tmp_path / "s.json"), "--steps", "25",
               "--candidates", "4", "--out", str(out), "--record", str(anim), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    meta, lat = read_metadata(out)
    assert meta["edit"]["strokes"] == strokes.to_dict() and meta["seed"] == 3
    assert lat["ws"].shape == (1, 1, 16) and not np.allclose(lat["ws"], lat["ws_start"])
    img = np.asarray(Image.open(out).convert("L"), np.float32)
    assert img[3:14, 7:10].mean() > img.mean()          # the painted white bar shows
    with Image.open(anim) as im:
        assert im.n_frames >= 2   # (GIF merges the identical held frames)
    # Start again from the edited latent (what the window's Accept does).
    np.save(tmp_path / "l.npy", lat["ws"])
    rc = main(["edit", str(ckpt), "--latent", str(tmp_path / "l.npy"), "--strokes", str(tmp_path / "s.json"),
               "--steps", "3", "--out", str(tmp_path / "again.png"), "--device", "cpu"])
    assert rc == 0


def test_cli_project_end_to_end(ckpt, tmp_path, capsys):
    assert main(["generate", str(ckpt), "--seeds", "5", "--out", str(tmp_path / "x.npy"), "--device", "cpu"]) == 0
    x = np.load(tmp_path / "x.npy")[0, 0]
    pixels = np.clip((x + 1) * 127.5, 0, 255).round().astype(np.uint8)
    Image.fromarray(pixels).resize((48, 48)).save(tmp_path / "real.png")
    capsys.readouterr()
    rc = main(["project", str(ckpt), str(tmp_path / "real.png"), "--steps", "100", "--out", str(tmp_path / "r.npz"),
               "--record", str(tmp_path / "p.gif"), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    assert "PSNR" in capsys.readouterr().out
    with np.load(tmp_path / "r.npz") as d:
        assert d["ws"].shape == (1, 1, 16) and d["image"].shape == (1, 1, 16, 16)
        assert float(d["psnr"]) > 20
    rc = main(["project", str(ckpt), str(tmp_path / "real.png"), "--steps", "5", "--out", str(tmp_path / "r.png"),
               "--device", "cpu"])
    assert rc == 0
    meta, lat = read_metadata(tmp_path / "r.png")
    assert meta["projection"]["image"] == "real.png" and lat["ws"].shape == (1, 1, 16)


@pytest.mark.parametrize("argv, words", [
    (["edit", "CKPT", "--seed", "1", "--strokes", "missing.json", "--out", "o.png"], "cannot be read"),
    (["edit", "CKPT", "--seed", "1", "--strokes", "S", "--out", "o.jpg"], "--out o.jpg"),
    (["project", "CKPT", "nothing.png", "--out", "o.txt"], "--out o.txt"),
    (["project", "CKPT", "nothing.png", "--out", "o.npz"], "not an image"),
])
def test_cli_errors_are_one_line(ckpt, tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    StrokeDocument((16, 16), [ColorStroke((1, 2, 3), 2, [(1, 1)])]).save(tmp_path / "S")
    argv = [str(ckpt) if a == "CKPT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
