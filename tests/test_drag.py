"""Drag editing (DragGAN, ganexplorer.latent.drag) and `ganexplorer drag`, on the bundled
64-px StyleGAN2 (real weights: features there mean something, unlike a random network's)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganexplorer.cli import main
from ganexplorer.export.metadata import read_metadata
from ganexplorer.latent.drag import (DragConfig, disc_offsets, drag_steps, feature_layer, run_drag,
                                     sample_features, track_points)

from edit_helpers import bundled_stylegan2_path, torch_threads


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


_sg2_path = bundled_stylegan2_path


@pytest.fixture(scope="module")
def sg2():
    from ganexplorer.models.registry import load_model
    return load_model(_sg2_path()).G.eval()


def _ws(G, seed):
    from ganexplorer.render.synth import seeds_to_ws
    return seeds_to_ws(G, [seed])


# A handle on the mouth of seed 2, dragged 8 px to the left (x, y image pixels).
HANDLE, TARGET = (30.0, 43.0), (22.0, 43.0)


# ---------------------------------------------------------------- sampling and tracking

def test_sample_features_equals_resized_map():
    torch.manual_seed(0)
    feat = torch.randn(1, 5, 8, 8)
    R = 32
    resized = F.interpolate(feat, size=(R, R), mode="bilinear", align_corners=False)
    pts = torch.tensor([[0.0, 0.0], [3.0, 17.0], [31.0, 31.0], [12.0, 5.0]])
    got = sample_features(feat, pts, R)                                    # [4, 5]
    want = resized[0, :, pts[:, 1].long(), pts[:, 0].long()].t()
    assert torch.allclose(got, want, atol=1e-5)


def test_tracking_returns_the_exact_position_on_unchanged_features():
    torch.manual_seed(1)
    feat = torch.randn(1, 16, 32, 32)
    p = torch.tensor([[10.25, 20.75], [40.0, 41.0], [0.0, 63.0]])
    f0 = sample_features(feat, p, 64)
    assert torch.equal(track_points(feat, f0, p, r2=6, resolution=64), p)


def test_tracking_follows_a_moved_feature():
    torch.manual_seed(2)
    feat = torch.randn(1, 16, 32, 32)                  # at the image's resolution
    p = torch.tensor([[10.0, 12.0], [20.0, 8.0]])
    f0 = sample_features(feat, p, 32)
    moved = torch.roll(feat, shifts=(2, -3), dims=(2, 3))     # content moves 3 left, 2 down
    got = track_points(moved, f0, p, r2=4, resolution=32)
    assert torch.equal(got, p + torch.tensor([-3.0, 2.0]))
    # Outside the search window it cannot be found.
    far = torch.roll(feat, shifts=(0, 9), dims=(2, 3))
    assert not torch.equal(track_points(far, f0, p, r2=4, resolution=32), p + torch.tensor([9.0, 0.0]))


def test_disc_offsets_are_the_pixels_of_the_circle():
    d = disc_offsets(1.0)
    assert sorted(map(tuple, d.tolist())) == sorted([(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)])
    assert len(disc_offsets(3.0)) == 29


# ---------------------------------------------------------------- the drag

def test_the_handle_moves_to_the_target(sg2):
    assert feature_layer(sg2) == "b32"             # the block before the last on a 64-px model
    steps = run_drag(sg2, _ws(sg2, 2), [HANDLE], [TARGET], cfg=DragConfig(steps=100))
    d = np.array([s.distances[0] for s in steps])
    assert d[-1] <= 1.0 and steps[-1].reached and steps[-1].done
    assert len(steps) < 100                        # stopped when it arrived
    # Toward the target over the steps, not by one lucky jump.
    half = len(d) // 2
    assert d[:half].mean() > d[half:].mean()
    assert np.all(np.diff(d[::5]) <= 1.5)
    ws0 = _ws(sg2, 2)
    # The paper's w+: only the first 6 rows move.
    assert not np.allclose(steps[-1].ws[0, :6], ws0[0, :6])
    assert np.array_equal(steps[-1].ws[0, 6:], ws0[0, 6:])


def _change_outside(steps, img0, keep):
    diff = np.abs(steps[-1].image[0] - img0[0]).mean(axis=0)            # [R, R]
    return float((diff * keep).sum() / keep.sum())


def test_the_mask_term_keeps_the_unmasked_region(sg2):
    from ganexplorer.render.synth import synthesize
    R = sg2.img_resolution
    yy, xx = np.mgrid[:R, :R]
    handle, target = [(23.0, 24.0)], [(15.5, 22.0)]
    mask = (((xx - 19) ** 2 + (yy - 23) ** 2) <= 10 ** 2).astype(np.float32)   # around the drag
    # Same number of steps for both (a target half a pixel off the grid is never hit
    # exactly, and stop_distance 0 never stops early); the paper's λ = 20. How much the
    # term keeps depends on what lies under the handle, so over four latents: each keeps
    # more than the free drag, and on average the change outside falls by more than a third.
    cfg = DragConfig(steps=40, stop_distance=0.0)
    ratios = {}
    for seed in (3, 4, 5, 6):
        ws0 = _ws(sg2, seed)
        img0 = synthesize(sg2, ws0)
        free = run_drag(sg2, ws0, handle, target, cfg=cfg)
        kept = run_drag(sg2, ws0, handle, target, mask=mask, cfg=cfg)
        assert len(free) == len(kept) == 40
        assert kept[-1].terms["mask"] > 0 and free[-1].terms["mask"] == 0
        ratios[seed] = _change_outside(kept, img0, 1 - mask) / _change_outside(free, img0, 1 - mask)
        if seed == 4:
            start = np.hypot(23 - 15.5, 24 - 22)
            assert kept[-1].distances[0] < start - 2        # the masked drag still moves the handle
    assert max(ratios.values()) < 1 and np.mean(list(ratios.values())) < 0.65, ratios


def test_cancel_stops_between_steps(sg2):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) >= 3

    steps = list(drag_steps(sg2, _ws(sg2, 2), [HANDLE], [TARGET], cfg=DragConfig(steps=50), cancel=cancel))
    assert len(steps) == 3 and steps[-1].cancelled and steps[-1].done
    assert all(not s.done for s in steps[:-1])


def test_bad_points_and_shapes_are_named(sg2):
    ws = _ws(sg2, 0)
    with pytest.raises(ValueError, match="between 0 and 63"):
        run_drag(sg2, ws, [(70, 10)], [(60, 10)])
    with pytest.raises(ValueError, match="one target per handle"):
        run_drag(sg2, ws, [(10, 10), (20, 20)], [(12, 10)])
    with pytest.raises(ValueError, match="mask must be 64x64"):
        run_drag(sg2, ws, [(10, 10)], [(12, 10)], mask=np.ones((32, 32)))
    with pytest.raises(ValueError, match="lr"):
        run_drag(sg2, ws, [(10, 10)], [(12, 10)], cfg=DragConfig(lr=-1))


def test_stylegan3_margins_are_cropped_and_a_dcgan_drags_in_z():
    from ganexplorer.latent.drag import feature_margin
    from ganexplorer.models.stylegan3 import StyleGAN3Generator

    from tiny_models import tiny_dcgan
    torch.manual_seed(0)
    G = StyleGAN3Generator(z_dim=16, w_dim=16, img_resolution=16, img_channels=3, channel_base=256,
                           channel_max=16, num_layers=6).eval()
    margins = {name: feature_margin(G, name) for name in G.feature_layers()}
    # Every map but the critically sampled last one is 16 + 2 x 10 px wide; only the middle is the image.
    assert margins == {name: (10 if not name.endswith("_16_16") else 0) for name in G.feature_layers()}
    ws = G.mapping(torch.randn(1, 16)).detach().numpy()
    steps = run_drag(G, ws, [(6, 6)], [(9, 6)], cfg=DragConfig(steps=3, lr=0.05))
    assert len(steps) >= 1 and np.all((steps[-1].handles >= 0) & (steps[-1].handles <= 15))
    D = tiny_dcgan()
    ws = D.mapping(torch.randn(1, D.z_dim)).detach().numpy()         # [1, 1, z_dim]: w is z
    steps = run_drag(D, ws, [(8, 8)], [(11, 8)], cfg=DragConfig(steps=3, lr=0.05, stop_distance=0.0))
    assert len(steps) == 3 and not np.allclose(steps[-1].ws, ws)


# ---------------------------------------------------------------- CLI

def test_cli_drag_writes_image_and_track(tmp_path, capsys):
    ckpt = _sg2_path()
    out, track, anim = tmp_path / "out.png", tmp_path / "track.json", tmp_path / "anim.gif"
    rc = main(["drag", str(ckpt), "--seed", "2", "--points", "30,43>22.5,43; 10,12>12.5,12",
               "--steps", "6", "--stop-distance", "0", "--out", str(out), "--json", str(track),
               "--record", str(anim), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size == (64, 64)
    meta, lat = read_metadata(out)
    assert meta["seed"] == 2 and meta["drag"]["steps"] == 6
    assert meta["drag"]["targets"] == [[22.5, 43.0], [12.5, 12.0]]
    assert lat["ws"].shape == (1, 10, 128) and not np.allclose(lat["ws"], lat["ws_start"])
    t = json.loads(track.read_text())
    assert [e["step"] for e in t["track"]] == [1, 2, 3, 4, 5, 6]
    assert all(len(e["handles"]) == 2 for e in t["track"])
    assert t["track"][-1]["handles"] == meta["drag"]["final_handles"]
    with Image.open(anim) as im:
        assert im.n_frames >= 2
    # Start again from the result's latents (a drag continued).
    np.save(tmp_path / "l.npy", lat["ws"])
    rc = main(["drag", str(ckpt), "--latent", str(tmp_path / "l.npy"), "--points", "30,43>22,43",
               "--steps", "2", "--out", str(tmp_path / "again.png"), "--device", "cpu"])
    assert rc == 0


def test_cli_drag_with_a_mask(tmp_path, capsys):
    ckpt = _sg2_path()
    m = np.zeros((128, 128), np.uint8)                 # painted at twice the size: resized
    m[60:100, 30:80] = 255
    Image.fromarray(m).save(tmp_path / "m.png")
    rc = main(["drag", str(ckpt), "--seed", "2", "--points", "30,43>22,43", "--mask", str(tmp_path / "m.png"),
               "--steps", "3", "--out", str(tmp_path / "o.png"), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    meta, _ = read_metadata(tmp_path / "o.png")
    assert meta["drag"]["mask"] == "m.png" and meta["drag"]["lambda_mask"] == 20.0
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "black.png")
    capsys.readouterr()
    rc = main(["drag", str(ckpt), "--seed", "2", "--points", "30,43>22,43", "--mask", str(tmp_path / "black.png"),
               "--out", str(tmp_path / "o2.png"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 2 and "black everywhere" in err and err.count("\n") == 1


@pytest.mark.parametrize("points, words", [
    ("30,43-22,43", "handle>target pairs"),
    ("30,43>22", "handle>target pairs"),
    ("a,b>c,d", "handle>target pairs"),
    (";", "at least one pair"),
    ("30,43>80,43", "outside the 64x64 image"),
])
def test_cli_drag_bad_points_exit_2_with_one_line(tmp_path, capsys, points, words):
    try:   # argparse's own errors leave by SystemExit(2), the command's by returning 2
        rc = main(["drag", str(_sg2_path()), "--seed", "1", "--points", points,
                   "--out", str(tmp_path / "o.png"), "--device", "cpu"])
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and words in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.png").exists()


def test_cli_drag_records_the_points_and_drags_in_w(tmp_path, capsys):
    ckpt = _sg2_path()
    anim, plain = tmp_path / "anim.gif", tmp_path / "plain.gif"
    args = ["drag", str(ckpt), "--seed", "2", "--points", "30,43>22,43", "--steps", "3", "--stop-distance", "0",
            "--space", "w", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path / "a.png"), "--record", str(anim)]) == 0, capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "b.png"), "--record", str(plain), "--no-markers"]) == 0
    meta, lat = read_metadata(tmp_path / "a.png")
    assert meta["drag"]["space"] == "w"
    delta = lat["ws"] - lat["ws_start"]
    assert np.abs(delta).max() > 0 and np.allclose(delta, delta[:, :1])   # one offset on every row
    side = json.loads((tmp_path / "anim.json").read_text())              # what reproduces the recording
    assert side["seed"] == 2 and side["targets"] == [[22.0, 43.0]] and len(side["track"]) == 3

    with Image.open(anim) as im, Image.open(plain) as im2:
        marked, bare = np.asarray(im.convert("RGB"), np.int32), np.asarray(im2.convert("RGB"), np.int32)
    s = marked.shape[0] // 64                       # frames enlarged so the markers fit
    assert bare.shape[0] == 64 and s > 1
    hx, hy, tx = (int((v + 0.5) * s) for v in (30, 43, 22))
    r, g, b = marked[hy, hx]
    assert r > g + 80 and r > b + 80                # a red handle dot (GIF palettes shift the exact colour)
    r, g, b = marked[hy, tx]
    assert b > r + 80 and b > g + 50                # a blue target dot (TARGET_RGB before the GIF palette)
