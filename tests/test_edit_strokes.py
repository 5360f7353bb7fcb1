"""The strokes document: JSON round trip, readable errors, rasterisation to masks/targets."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ganexplorer.latent.strokes import (ColorStroke, EraserStroke, SketchStroke, StrokeDocument,
                                        StrokesError, WarpStroke, rasterize)


def _doc() -> StrokeDocument:
    return StrokeDocument((128, 128), [
        ColorStroke((255, 0, 0), 12.0, [(20.0, 20.0), (60.0, 24.5)]),
        SketchStroke(3.0, [(10.0, 100.0), (118.0, 100.0)]),
        WarpStroke((32.0, 32.0, 40.0, 20.0), (8.0, -16.0)),
        EraserStroke(10.0, [(60.0, 24.0)]),
    ])


def test_json_round_trip(tmp_path):
    doc = _doc()
    path = doc.save(tmp_path / "s.json")
    back = StrokeDocument.load(path)
    assert back == doc
    assert back.to_dict() == doc.to_dict()
    assert json.loads(path.read_text())["format"] == "ganexplorer-strokes"


@pytest.mark.parametrize("bad, words", [
    ({"format": "other"}, "not a GAN Explorer strokes file"),
    ({"format": "ganexplorer-strokes", "canvas": [0, 5]}, "canvas"),
    ({"format": "ganexplorer-strokes", "canvas": [8, 8], "strokes": [{"type": "blur"}]}, "unknown type"),
    ({"format": "ganexplorer-strokes", "canvas": [8, 8],
      "strokes": [{"type": "color", "color": [300, 0, 0], "width": 2, "points": [[1, 1]]}]}, "0-255"),
    ({"format": "ganexplorer-strokes", "canvas": [8, 8],
      "strokes": [{"type": "sketch", "width": 2, "points": []}]}, "at least one point"),
    ({"format": "ganexplorer-strokes", "canvas": [8, 8],
      "strokes": [{"type": "warp", "rect": [0, 0, 0, 2], "offset": [1, 1]}]}, "w, h > 0"),
    ({"format": "ganexplorer-strokes", "canvas": [8, 8], "strokes": [{"type": "color"}]}, "malformed"),
])
def test_bad_documents_say_what_is_wrong(bad, words):
    with pytest.raises(StrokesError, match=words):
        StrokeDocument.from_dict(bad)


def test_not_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{nope")
    with pytest.raises(StrokesError, match="not valid JSON"):
        StrokeDocument.load(p)


def test_rasterize_scales_canvas_to_model_resolution():
    doc = StrokeDocument((128, 128), [ColorStroke((255, 0, 0), 16.0, [(64.0, 64.0)])])
    c = rasterize(doc, 32)
    assert c.color_mask.shape == (32, 32) and c.color_target.shape == (3, 32, 32)
    # A 16-px disc on a 128 canvas is a 4-px disc at 32: area pi * 2^2.
    assert c.color_mask.sum() == pytest.approx(np.pi * 4, rel=0.1)
    assert c.color_mask[16, 16] == 1.0
    np.testing.assert_allclose(c.color_target[:, 16, 16], [1, -1, -1])
    assert c.sketch_mask.sum() == 0 and not c.warps


def test_eraser_removes_earlier_strokes_only():
    doc = _doc()
    c = rasterize(doc, 128)
    assert c.color_mask[24, 60] == 0          # erased at the end of the colour stroke
    assert c.color_mask[20, 22] > 0.9         # the start of the stroke stays
    doc.add(ColorStroke((0, 0, 255), 4.0, [(60.0, 24.0)]))
    c2 = rasterize(doc, 128)
    assert c2.color_mask[24, 60] > 0.9        # painting after the eraser counts again
    np.testing.assert_allclose(c2.color_target[:, 24, 60], [-1, -1, 1], atol=1e-5)


def test_warp_rasterises_to_integer_shift():
    c = rasterize(_doc(), 64)
    (w,) = c.warps
    assert w.src == (16, 16, 36, 26) and (w.dx, w.dy) == (4, -8)
    assert c.sketch_mask[50, 5:59].min() > 0.5


def test_empty_and_undo():
    doc = StrokeDocument((64, 64))
    assert doc.is_empty() and rasterize(doc, 16).is_empty()
    doc.add(EraserStroke(4, [(1, 1)]))
    assert doc.is_empty()
    doc.add(SketchStroke(2, [(1, 1), (9, 9)]))
    assert not doc.is_empty()
    assert isinstance(doc.undo(), SketchStroke)
    doc.clear()
    assert doc.strokes == []
