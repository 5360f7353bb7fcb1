"""iGAN-style constrained optimisation on trained DCGANs: colour, sketch, warp, cancel."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from ganexplorer.latent.edit import (EditConfig, EditProgress, Recording, edit_latent, hog_features,
                                     image_gradients, run_edit, to_grey)
from ganexplorer.latent.strokes import (ColorStroke, SketchStroke, StrokeDocument, WarpStroke,
                                        rasterize)
from ganexplorer.render.synth import seeds_to_ws, synthesize

from edit_helpers import face_dcgan, shipped_dcgan, shipped_dcgan_path, tiny_trained_dcgan

FAST = dict(steps=40, candidates=4)


@pytest.fixture(autouse=True)
def one_thread():
    from edit_helpers import torch_threads
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def face():
    G = face_dcgan()
    if G is None:
        pytest.skip("the sample face DCGAN (package gan-face-generate) is not installed")
    return G


def _redness(x: np.ndarray, mask: np.ndarray) -> float:
    """Mean of R - (G + B) / 2 over mask; x [1, 3, H, W]."""
    r = x[0, 0] - (x[0, 1] + x[0, 2]) / 2
    return float(r[mask].mean())


@pytest.fixture(scope="module", params=["face", "shipped"])
def trained(request):
    """(G, D) of a trained DCGAN: the sample faces (64 px RGB) or the shipped one (32 px grey)."""
    if request.param == "face":
        G = face_dcgan()
        if G is None:
            pytest.skip("the sample face DCGAN (package gan-face-generate) is not installed")
        return G, None
    if shipped_dcgan_path() is None:
        pytest.skip("no shipped DCGAN in resources/models yet (the trainer's mnist5k model)")
    model = shipped_dcgan()
    return model.G, model.D


def test_red_blob_moves_masked_colour_towards_red(trained):
    G, D = trained
    R = G.img_resolution
    ws = seeds_to_ws(G, [7])
    cons = rasterize(StrokeDocument((64, 64), [ColorStroke((255, 0, 0), 10, [(20, 44), (28, 46)])]), R)
    x0 = synthesize(G, ws)
    ev = run_edit(G, ws, cons, EditConfig(**FAST), D=D)
    x1 = synthesize(G, ev.best_ws)
    np.testing.assert_allclose(x1, ev.best_image, atol=1e-4)   # the reported image is G(best_ws)
    assert ev.done and not ev.cancelled
    m = cons.color_mask > 0.5
    red = cons.color_target[:, m][:, :1]                        # [3, 1] = (1, -1, -1)
    if G.img_channels == 1:                                     # a grey model aims at red's luma
        red = (np.array([0.299, 0.587, 0.114]) @ red)[None]
    d0 = np.abs(x0[0][:, m] - red).mean()
    d1 = np.abs(x1[0][:, m] - red).mean()
    assert d1 < 0.75 * d0, (d0, d1)                             # masked colour moves towards red
    if G.img_channels == 3:
        gain_in = _redness(x1, m) - _redness(x0, m)
        gain_out = _redness(x1, ~m) - _redness(x0, ~m)
        assert gain_in > 0.3 and gain_in > 1.5 * gain_out, (gain_in, gain_out)
    change_in = np.abs(x1 - x0)[0][:, m].mean()
    change_out = np.abs(x1 - x0)[0][:, ~m].mean()
    assert change_out < change_in, (change_in, change_out)     # unmasked region changes less


def test_sketch_stroke_creates_an_edge_along_it(trained):
    G, D = trained
    R = G.img_resolution
    s = R / 64
    ws = seeds_to_ws(G, [7])
    doc = StrokeDocument((64, 64), [SketchStroke(2, [(12, 34), (52, 34)])])
    cons = rasterize(doc, R)
    events = list(edit_latent(G, ws, cons, EditConfig(**FAST), D=D))
    ev = events[-1]
    x0, x1 = (torch.from_numpy(synthesize(G, w)) for w in (ws, ev.best_ws))

    def edge(x):   # horizontal-edge energy |d/dy| (what a horizontal line is made of)
        _, gy = image_gradients(to_grey(x))
        return gy.abs()[0, 0].numpy()

    region = np.zeros((R, R), bool)
    region[int(32 * s):int(37 * s) + 1, int(12 * s):int(53 * s)] = True
    e0, e1 = edge(x0), edge(x1)
    gain_in = e1[region].mean() - e0[region].mean()
    gain_out = e1[~region].mean() - e0[~region].mean()
    assert gain_in > 0.02 and gain_in > 3 * gain_out, (gain_in, gain_out)
    assert ev.terms["sketch"] < 0.8 * events[0].terms["sketch"]


def test_warp_moves_the_patch(trained):
    G, D = trained
    R = G.img_resolution
    s = R // 64 if R >= 64 else 1
    k = 64 // R if R < 64 else 1          # canvas 64 -> R
    ws = seeds_to_ws(G, [7])
    x0 = synthesize(G, ws)
    doc = StrokeDocument((64, 64), [WarpStroke((16, 20, 32, 16), (0, 8))])
    cons = rasterize(doc, R)
    (w,) = cons.warps
    assert w.src == (16 * s // k, 20 * s // k, 48 * s // k, 36 * s // k) and (w.dx, w.dy) == (0, 8 * s // k)
    x_0, y_0, x_1, y_1 = w.src
    dy = w.dy
    ev = run_edit(G, ws, cons, EditConfig(**FAST), D=D)
    x1 = synthesize(G, ev.best_ws)
    patch = x0[0][:, y_0:y_1, x_0:x_1]
    dst = lambda x: x[0][:, y_0 + dy:y_1 + dy, x_0:x_1]
    before = ((dst(x0) - patch) ** 2).mean()
    after = ((dst(x1) - patch) ** 2).mean()
    assert after < 0.6 * before, (before, after)
    outside = np.ones((R, R), bool)
    outside[y_0:y_1 + dy, x_0:x_1] = False
    assert np.abs(x1 - x0)[0][:, outside].mean() < np.abs(dst(x1) - dst(x0)).mean()


def test_progress_events_and_dcgan_shell(face):
    G = face
    ws = seeds_to_ws(G, [3])
    cons = rasterize(StrokeDocument((64, 64), [ColorStroke((0, 0, 255), 8, [(5, 5), (60, 5)])]), 64)
    events = list(edit_latent(G, ws, cons, EditConfig(steps=5, candidates=3, top_k=2)))
    assert [e.step for e in events] == [0, 1, 2, 3, 4, 5]
    assert events[-1].done and not any(e.done for e in events[:-1])
    e = events[2]
    assert isinstance(e, EditProgress)
    assert e.best_ws.shape == (1, 1, 100) and e.best_image.shape == (1, 3, 64, 64)
    assert e.top_ws.shape == (2, 1, 100) and e.top_images.shape == (2, 3, 64, 64)
    assert e.loss.shape == (3,) and e.top_loss[0] == e.loss.min()
    # Every event keeps its own latents (no views of the tensors Adam updates in place).
    assert not np.allclose(events[1].best_ws, events[-2].best_ws)
    np.testing.assert_allclose(synthesize(G, e.best_ws), e.best_image, atol=1e-4)
    np.testing.assert_allclose(e.ws[e.best_index], e.best_ws[0])
    # Step 0's first candidate is the start itself; z stays on the start's shell.
    r = np.linalg.norm(ws)
    for ev in events:
        np.testing.assert_allclose(np.linalg.norm(ev.top_ws, axis=-1), r, rtol=1e-4)
    assert events[-1].best_loss == min(float(ev.loss.min()) for ev in events)
    # Seeded: the same request gives the same result.
    again = list(edit_latent(G, ws, cons, EditConfig(steps=5, candidates=3, top_k=2)))
    np.testing.assert_array_equal(again[-1].best_ws, events[-1].best_ws)


def test_cancellation_stops_the_generator(face):
    G = face
    ws = seeds_to_ws(G, [3])
    cons = rasterize(StrokeDocument((64, 64), [ColorStroke((0, 255, 0), 8, [(5, 5), (60, 60)])]), 64)
    flag = threading.Event()
    steps = []
    for ev in edit_latent(G, ws, cons, EditConfig(steps=1000, candidates=2), cancel=flag):
        steps.append(ev.step)
        if ev.step == 3:
            flag.set()
    assert steps == [0, 1, 2, 3, 4] and ev.done and ev.cancelled
    assert ev.best_ws.shape == (1, 1, 100)
    # A callable works too, and closing the generator stops it at once.
    gen = edit_latent(G, ws, cons, EditConfig(steps=1000, candidates=2), cancel=lambda: False)
    next(gen)
    gen.close()


def test_realism_term_with_a_discriminator():
    G, D, _ = tiny_trained_dcgan()
    ws = seeds_to_ws(G, [1])
    cons = rasterize(StrokeDocument((16, 16), [ColorStroke((255, 255, 255), 3, [(8, 4), (8, 12)])]), 16)
    ev = run_edit(G, ws, cons, EditConfig(steps=20, candidates=4, lambda_realism=0.05), D=D)
    assert "realism" in ev.terms and np.isfinite(ev.terms["realism"])
    m = cons.color_mask > 0.5
    assert ev.best_image[0, 0][m].mean() > synthesize(G, ws)[0, 0][m].mean() + 0.3


def test_recording_follows_the_winner(face):
    G = face
    ws = seeds_to_ws(G, [7])
    cons = rasterize(StrokeDocument((64, 64), [ColorStroke((255, 0, 0), 10, [(20, 44), (28, 46)])]), 64)
    rec = Recording([ws])
    for ev in edit_latent(G, ws, cons, EditConfig(steps=12, candidates=4)):
        rec.add(ev)
    frames = rec.frames_ws(max_frames=100, hold=0)
    np.testing.assert_allclose(frames[0], ws[0], atol=1e-6)          # starts at the start
    np.testing.assert_allclose(frames[-1], ev.best_ws[0], atol=1e-6)  # ends at the result
    steps = np.linalg.norm(np.diff(frames.reshape(len(frames), -1), axis=0), axis=1)
    assert steps.max() < 0.5 * np.linalg.norm(frames[-1] - frames[0]) + 1e-6   # no jumps


def test_recording_frames():
    rec = Recording([np.zeros((1, 1, 4), np.float32)])
    for i in range(1, 100):
        rec.add_ws(np.full((1, 1, 4), i, np.float32))
    f = rec.frames_ws(max_frames=10, hold=3)
    assert f.shape == (13, 1, 4) and f[0, 0, 0] == 0 and (f[-4:, 0, 0] == 99).all()


def test_hog_features_see_orientation():
    x = torch.full((1, 1, 16, 16), -1.0)
    x[..., 8:, :] = 1                       # a horizontal edge: gradient along y (θ = 90°)
    h = hog_features(x, bins=8)[0, :, 8, 8]
    assert int(h.argmax()) == 4             # bin 4 of 8 = 90°
