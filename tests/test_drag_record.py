"""Drag editing in W (one offset for every row) and the drag recording (bounded trajectory,
markers drawn on the frames): latent.drag's `space` and latent.drag_record."""
from __future__ import annotations

import numpy as np
import pytest

from edit_helpers import torch_threads
from ganexplorer.latent.drag import DragConfig, run_drag
from ganexplorer.latent.drag_record import HANDLE_RGB, TARGET_RGB, DragRecording, draw_markers
from ganexplorer.resources import bundled_models

HANDLE, TARGET = (30.0, 43.0), (22.0, 43.0)     # seed 2's mouth, 8 px left (as test_drag.py)


@pytest.fixture(scope="module")
def sg2():
    found = [p for p in bundled_models() if "stylegan2" in p.name.lower()]
    if not found:
        pytest.skip("no bundled StyleGAN2 in resources/models")
    from ganexplorer.models.registry import load_model
    return load_model(found[0]).G.eval()


def _ws(G, seed):
    from ganexplorer.render.synth import seeds_to_ws
    return seeds_to_ws(G, [seed])


def test_w_space_moves_every_row_together_and_w_plus_only_the_first(sg2):
    ws0 = _ws(sg2, 2)
    with torch_threads(1):
        w_steps = run_drag(sg2, ws0, [HANDLE], [TARGET], cfg=DragConfig(steps=40, space="w"))
        p_steps = run_drag(sg2, ws0, [HANDLE], [TARGET], cfg=DragConfig(steps=5, n_ws=3))
    ws_w = w_steps[-1].ws[0]                                   # [num_ws, w_dim]
    assert np.allclose(ws_w, ws_w[:1], atol=1e-6)              # a seed's latent stays in W
    assert not np.allclose(ws_w, ws0[0])
    assert w_steps[-1].distances[0] < 8 - 3                    # and the handle still moves
    ws_p = p_steps[-1].ws[0]
    assert np.array_equal(ws_p[3:], ws0[0, 3:]) and not np.allclose(ws_p[:3], ws0[0, :3])


def test_bad_space_is_named():
    assert any("space" in p for p in DragConfig(space="z").validate())


def test_recording_stays_bounded_and_spread():
    ws0 = np.zeros((1, 4, 8), np.float32)
    rec = DragRecording(ws0, [(1, 1)], [(5, 1)], max_kept=16)
    for s in range(1, 1001):
        rec.add(s, np.full((1, 4, 8), s, np.float32), [(1 + s / 250, 1)])
    assert len(rec) <= 16 + 1 and rec.steps[0] == 1 and rec.steps[-1] == 1000
    gaps = np.diff(rec.steps)
    assert len(set(gaps[:-1])) == 1 and gaps[-1] <= gaps[0]    # an even spread of the whole drag
    assert rec.steps[-2] > 1000 - gaps[0]                      # up to its end
    ws = rec.frames_ws(max_frames=8, hold=3)
    assert ws.shape == (8 + 3, 4, 8) and ws[0].max() == 0 and (ws[-4:] == 1000).all()
    hs = rec.frame_handles(max_frames=8, hold=3)
    assert len(hs) == 11 and hs[0][0, 0] == 1 and hs[-1][0, 0] == pytest.approx(5.0)
    track = rec.track()
    assert track[-1]["step"] == 1000 and track[-1]["distance"] == [0.0]


def test_markers_are_drawn_where_the_points_are():
    frames = np.full((2, 64, 64, 3), 128, np.uint8)
    out = draw_markers(frames, [np.array([[10.0, 20.0]]), np.array([[40.0, 20.0]])], np.array([[50.0, 20.0]]))
    s = out.shape[1] // 64
    assert s >= 4 and out.shape == (2, 64 * s, 64 * s, 3)

    def px(i, x, y):
        return tuple(out[i, int((y + 0.5) * s), int((x + 0.5) * s)])

    assert px(0, 10, 20) == HANDLE_RGB and px(0, 50, 20) == TARGET_RGB
    assert px(1, 40, 20) == HANDLE_RGB and px(1, 10, 20) == (128, 128, 128)   # the handle moved on
    assert px(0, 30, 20) != (128, 128, 128)                    # the arrow between them
    assert px(0, 30, 50) == (128, 128, 128)                    # nothing elsewhere
