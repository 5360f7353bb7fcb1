"""The CLI never opens a window by mistake, and `generate` writes one seed's exact image (issue 11)."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganexplorer.cli import main
from ganexplorer.export.images import to_uint8
from ganexplorer.export.metadata import read_metadata
from ganexplorer.models.registry import load_model
from ganexplorer.render.synth import seeds_to_ws, synthesize
from tiny_models import save_tiny_dcgan


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return save_tiny_dcgan(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", seed=5)


def _cli(*argv, env=None):
    # A subprocess without any display: had the CLI tried to open the window, Qt would abort
    # or the display check would answer instead of the command check.
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run([sys.executable, "-m", "ganexplorer.cli", *map(str, argv)], capture_output=True,
                          text=True, timeout=120, env=env)


def test_typo_names_the_command_and_opens_nothing():
    r = _cli("genrate", "x")
    assert r.returncode == 2
    assert r.stderr.strip() == "ganexplorer: error: unknown command 'genrate' (did you mean 'generate'?)"
    assert "PySide6" not in r.stderr


def test_unknown_word_and_missing_file(tmp_path):
    r = _cli("zzzz")
    assert r.returncode == 2 and "unknown command 'zzzz'; commands: arithmetic" in r.stderr
    r = _cli(tmp_path / "nope.pkl")
    assert r.returncode == 2 and "nope.pkl: no such file" in r.stderr


def test_an_existing_file_goes_to_the_window(tmp_path, monkeypatch):
    """Only an existing file reaches the GUI entry point (checked without starting Qt)."""
    import ganexplorer.__main__ as gui
    seen = []
    monkeypatch.setattr(gui, "main", lambda argv: seen.append(argv) or 0)
    f = tmp_path / "model.pkl"
    f.write_bytes(b"x")
    assert main([str(f)]) == 0 and seen == [[str(f)]]
    assert main([str(tmp_path / "missing.pkl")]) == 2 and len(seen) == 1


def _tile(ckpt, seed):
    m = load_model(ckpt)
    return to_uint8(synthesize(m.G, seeds_to_ws(m.G, [seed], 1.0, None), "const"))[0]


def test_one_seed_is_the_exact_image(ckpt, tmp_path):
    out = tmp_path / "a.png"
    assert main(["generate", str(ckpt), "--seeds", "7", "--out", str(out)]) == 0
    im = np.asarray(Image.open(out).convert("RGB"))
    assert im.shape == (16, 16, 3)                        # the model's resolution, no frame
    np.testing.assert_array_equal(im, _tile(ckpt, 7))
    meta, lat = read_metadata(out)
    assert meta["seeds"] == [7] and lat["ws"].shape[0] == 1


def test_several_seeds_still_make_a_grid(ckpt, tmp_path):
    out = tmp_path / "g.png"
    assert main(["generate", str(ckpt), "--seeds", "7,8", "--out", str(out)]) == 0
    assert Image.open(out).size == (2 * 16 + 3 * 2, 16 + 2 * 2)


def test_per_seed_files(ckpt, tmp_path):
    pattern = str(tmp_path / "{seed}.png")
    assert main(["generate", str(ckpt), "--seeds", "3-5", "--out", pattern]) == 0
    for s in (3, 4, 5):
        im = np.asarray(Image.open(tmp_path / f"{s}.png").convert("RGB"))
        np.testing.assert_array_equal(im, _tile(ckpt, s))
        assert read_metadata(tmp_path / f"{s}.png")[0]["seeds"] == [s]


def test_per_seed_needs_seeds_and_an_existing_folder(ckpt, tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.zeros((1, 16), np.float32))
    assert main(["generate", str(ckpt), "--z", str(tmp_path / "z.npy"), "--out", str(tmp_path / "{seed}.png")]) == 2
    assert "{seed} in the file name needs --seeds" in capsys.readouterr().err
    assert main(["generate", str(ckpt), "--seeds", "1", "--out", str(tmp_path / "no" / "{seed}.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
