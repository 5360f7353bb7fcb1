"""Labelled directions (InterFaceGAN, ganexplorer.latent.labelled) and
`ganexplorer directions --method labelled`, on the bundled models."""
from __future__ import annotations

import numpy as np
import pytest

from ganexplorer.cli import main
from ganexplorer.latent.directions import Directions, apply_direction
from ganexplorer.latent.labelled import (fit_boundary, labelled_direction, project_out, read_label_csv,
                                         seed_latents)
from ganexplorer.resources import bundled_models

from edit_helpers import torch_threads


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def _bundled(kind: str):
    found = [p for p in bundled_models() if kind in p.name.lower()]
    if not found:
        pytest.skip(f"no bundled {kind} model in resources/models")
    return found[0]


@pytest.fixture(scope="module")
def dcgan():
    from ganexplorer.models.registry import load_model
    return load_model(_bundled("dcgan")).G.eval()


def upper_brightness(G, ws: np.ndarray) -> np.ndarray:
    """The attribute, from the pictures themselves: mean brightness of the upper half."""
    from ganexplorer.render.synth import synthesize
    img = synthesize(G, ws)                                   # [N, C, R, R]
    return img[:, :, : img.shape[-1] // 2].mean(axis=(1, 2, 3))


def _attribute_of_seeds(G, seeds):
    from ganexplorer.render.synth import seeds_to_ws
    return upper_brightness(G, seeds_to_ws(G, seeds))


@pytest.fixture(scope="module")
def labelled(dcgan):
    """InterFaceGAN's protocol on 1000 seeds: the 100 with the brightest upper half are
    positive, the 100 darkest negative (200 labelled seeds; the ambiguous middle is not
    labelled)."""
    seeds = list(range(1000))
    a = _attribute_of_seeds(dcgan, seeds)
    order = np.argsort(a)
    neg, pos = [seeds[i] for i in order[:100]], [seeds[i] for i in order[-100:]]
    return pos, neg, float(a[order[99]]), float(a[order[-100]])


def test_learned_direction_predicts_held_out_seeds_and_raises_the_attribute(dcgan, labelled):
    pos, neg, lo, hi = labelled
    d = labelled_direction(dcgan, pos, neg, name="bright top", n_samples=2000)
    assert d.n_pos == d.n_neg == 100 and d.folds == 5
    assert d.accuracy >= 0.9, d.accuracy                 # cross-validated on the 200
    assert abs(np.linalg.norm(d.direction) - 1) < 1e-6
    # Fresh seeds never seen in the fit, labelled by the same rule (thresholds).
    fresh = list(range(5000, 6000))
    a = _attribute_of_seeds(dcgan, fresh)
    lat = seed_latents(dcgan, fresh)
    sel = (a <= lo) | (a >= hi)
    assert sel.sum() >= 100
    acc = float((d.predict(lat[sel]) == (a[sel] >= hi)).mean())
    assert acc >= 0.9, acc
    # Walking along it raises the attribute step after step (averaged over seeds).
    from ganexplorer.render.synth import seeds_to_ws
    ws = seeds_to_ws(dcgan, fresh[:40])
    means = [upper_brightness(dcgan, apply_direction(ws, d.direction, alpha * d.scale)).mean()
             for alpha in (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5)]
    assert np.all(np.diff(means) > 0), means
    assert means[-1] - means[0] > 0.1


def test_fit_boundary_finds_a_planted_normal():
    rng = np.random.RandomState(0)
    x = rng.randn(400, 12) + 3.0                     # far from the origin (centred inside)
    n = np.zeros(12)
    n[3], n[7] = 0.6, 0.8
    y = (x - 3.0) @ n > 0.2
    normal, offset, center, acc, k = fit_boundary(x, y, C=1.0)
    assert normal @ n > 0.95 and acc > 0.9 and k == 5
    with pytest.raises(ValueError, match="at least 2 positive and 2 negative"):
        fit_boundary(x[:5], np.array([True, False, False, False, False]))


def test_project_out_is_gram_schmidt():
    rng = np.random.RandomState(1)
    n1 = rng.randn(16)
    others = rng.randn(3, 16)
    n = project_out(n1, others)
    assert abs(np.linalg.norm(n) - 1) < 1e-9
    assert np.abs(others @ n).max() < 1e-9
    # One condition: InterFaceGAN's n1 - (n1·n2) n2 with unit n1, n2.
    u1, u2 = n1 / np.linalg.norm(n1), others[0] / np.linalg.norm(others[0])
    want = u1 - (u1 @ u2) * u2
    assert np.allclose(project_out(u1, u2[None]), want / np.linalg.norm(want))
    with pytest.raises(ValueError, match="span"):
        project_out(others[0] + 2 * others[1], others)


def test_conditional_direction_is_orthogonal_to_the_kept_ones(dcgan, labelled):
    pos, neg, _, _ = labelled
    from ganexplorer.latent.directions import find_directions
    keep = find_directions(dcgan, "pca", 2, 2000).vectors
    d = labelled_direction(dcgan, pos, neg, orthogonal_to=keep, n_samples=2000)
    assert np.abs(keep @ d.direction).max() < 1e-5 and d.conditioned_on == 2
    # Still on the attribute's side: it classifies the labelled seeds well above chance.
    lat = seed_latents(dcgan, pos + neg)
    assert (d.predict(lat) == np.r_[np.ones(100, bool), np.zeros(100, bool)]).mean() > 0.75


def test_read_label_csv(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_text("seed,label\n1,1\n2, no\n# a comment\n\n3,yes\n4,-\n5,true\n")
    assert read_label_csv(f) == ([1, 3, 5], [2, 4])
    (tmp_path / "bad.csv").write_text("1,1\n2,maybe\n")
    with pytest.raises(ValueError, match="line 2: label 'maybe'"):
        read_label_csv(tmp_path / "bad.csv")


# ---------------------------------------------------------------- CLI

def test_cli_labelled_direction_files_load_like_the_others(tmp_path, capsys, labelled):
    pos, neg, _, _ = labelled
    ckpt = _bundled("dcgan")
    out = tmp_path / "bright.npz"
    csv = tmp_path / "more.csv"
    csv.write_text("".join(f"{s},0\n" for s in neg[50:]))
    rc = main(["directions", str(ckpt), "--method", "labelled", "--pos", ",".join(map(str, pos)),
               "--neg", ",".join(map(str, neg[:50])), "--csv", str(csv), "--samples", "2000",
               "--out", str(out), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    msg = capsys.readouterr().out
    assert "100 positive and 100 negative" in msg and "held-out accuracy" in msg
    d = Directions.load(out)
    assert d.method == "labelled" and d.names == ["bright"] and d.vectors.shape == (1, 100)   # Z of the z_dim-100 DCGAN
    assert d.accuracy is not None and d.accuracy[0] >= 0.9
    # Conditional: orthogonal to the directions of another file.
    assert main(["directions", str(ckpt), "--method", "pca", "--k", "3", "--samples", "2000",
                 "--out", str(tmp_path / "pca.npz"), "--device", "cpu"]) == 0
    assert Directions.load(tmp_path / "pca.npz").accuracy is None
    rc = main(["directions", str(ckpt), "--method", "labelled", "--csv", str(csv), "--pos",
               ",".join(map(str, pos)), "--orthogonal-to", str(tmp_path / "pca.npz"), "--samples", "2000",
               "--out", str(tmp_path / "cond.npz"), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    cond = Directions.load(tmp_path / "cond.npz").vectors[0]
    assert np.abs(Directions.load(tmp_path / "pca.npz").vectors @ cond).max() < 1e-5


def test_cli_labelled_on_a_stylegan_works_in_w(tmp_path, capsys):
    rc = main(["directions", str(_bundled("stylegan2")), "--method", "labelled", "--pos", "0-5",
               "--neg", "6-11", "--samples", "500", "--out", str(tmp_path / "d.npz"), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    assert "in W" in capsys.readouterr().out
    assert Directions.load(tmp_path / "d.npz").vectors.shape == (1, 128)


@pytest.mark.parametrize("args, words", [
    (["--method", "labelled", "--pos", "1,2,3"], "needs positive and negative seeds"),
    (["--method", "labelled", "--pos", "1,2", "--neg", "2,3"], "seed 2 is marked both"),
    (["--method", "labelled", "--pos", "1", "--neg", "2,3"], "at least 2 positive"),
    (["--method", "sefa", "--pos", "1,2"], "--pos only apply to --method labelled"),
    (["--method", "labelled", "--pos", "1,2", "--neg", "3,4", "--orthogonal-to", "nope.npz"],
     "--orthogonal-to nope.npz"),
])
def test_cli_labelled_errors_are_one_line(tmp_path, capsys, args, words):
    rc = main(["directions", str(_bundled("dcgan")), *args, "--samples", "100",
               "--out", str(tmp_path / "d.npz"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 2 and words in err and err.count("\n") == 1, err
