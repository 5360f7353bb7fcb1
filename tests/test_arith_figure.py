"""The arithmetic figure reads like the DCGAN paper's fig. 7: each group's members in a
column over its mean, the signs between the means, "=", the result and its neighbours,
every part captioned; at the default sigma the neighbours visibly differ from the result."""
import numpy as np
import pytest

from ganexplorer import resources
from ganexplorer.latent.arithmetic import DEFAULT_SIGMA
from ganexplorer.models.registry import load_model
from ganexplorer.render.layouts import arithmetic_layout
from ganexplorer.render.figures import arithmetic_figure, export_meta, reproduce
from ganexplorer.render.recipes import arithmetic_ws

GROUPS = [[1, 2, 3], [4, 5], [7]]
SIGNS = [1.0, -1.0, 1.0]
NAMES = ["smiling woman", "neutral woman", "neutral man"]


@pytest.fixture(scope="module")
def mnist():
    path = resources.resources_dir() / "models" / "mnist5k-dcgan32.safetensors"
    return load_model(path).G


def _inside(inner, outer) -> bool:
    return inner.x >= outer.x and inner.bottom <= outer.y + outer.h and inner.x + inner.w <= outer.x + outer.w


def test_layout_puts_each_mean_below_its_members_and_the_signs_between_the_means():
    lay = arithmetic_layout([3, 2, 1], SIGNS, 8, 64, 2, NAMES, [[str(s) for s in g] for g in GROUPS], 0.5)
    assert len(lay.tiles) == 3 + 1 + 2 + 1 + 1 + 1 + 1 + 8     # members + mean per group, result, neighbours
    means = lay.mean_boxes
    assert len({b.y for b in means}) == 1                     # the means share one row ...
    for col, mean in zip(lay.member_boxes, means):
        assert all(b.x == mean.x for b in col)                # ... each under its own members' column
        assert mean.y >= max(b.bottom for b in col) + lay.font_size   # set apart: a caption and a gap above
    assert means[0].x < means[1].x < means[2].x
    rule = lay.rules[0]
    assert max(b.bottom for col in lay.member_boxes for b in col) < rule.y < means[0].y
    # the signs: '-' then '+' between the means, '=' before the result, all on the means' row
    kinds = [k for _, k in lay.signs]
    assert kinds == ["-", "+", "="]
    for (box, _), left, right in zip(lay.signs, means, means[1:] + [lay.result_box]):
        assert box.y == means[0].y and left.x + left.w <= box.x and box.x + box.w <= right.x
    assert lay.result_box.y == means[0].y and lay.result_box.x > means[-1].x
    # the neighbours: a block right of the result whose last row is the result's row
    assert min(b.x for b in lay.neighbour_boxes) > lay.result_box.x + lay.result_box.w
    assert max(b.y for b in lay.neighbour_boxes) == lay.result_box.y
    # nothing overlaps, everything is on the canvas
    for i, a in enumerate(lay.tiles):
        assert 0 <= a.x and a.x + a.w <= lay.width and 0 <= a.y and a.bottom <= lay.height
        for b in lay.tiles[i + 1:]:
            assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.bottom <= b.y or b.bottom <= a.y


def test_a_subtracted_first_group_gets_a_leading_minus():
    lay = arithmetic_layout([1, 1], [-1.0, 1.0], 0, 32)
    assert [k for _, k in lay.signs] == ["-", "+", "="]
    assert lay.signs[0][0].x + lay.signs[0][0].w <= lay.mean_boxes[0].x
    assert not lay.neighbour_boxes and lay.captions[0].text == "A"   # default names A, B, ...


def test_every_part_is_captioned(mnist):
    r = arithmetic_ws(mnist, GROUPS, SIGNS, "z", 1.0, 8, DEFAULT_SIGMA, 0)
    labels = [[f"seed {s}" for s in g] for g in GROUPS]
    fig = arithmetic_figure(mnist, r, SIGNS, labels, names=NAMES, sigma=DEFAULT_SIGMA)
    c = fig.composition
    lay = arithmetic_layout(c["sizes"], c["signs"], c["neighbours"], 64, 2, c["names"], c["member_labels"],
                            c["sigma"])
    texts = [c.text for c in lay.captions]
    for want in NAMES + ["seed 1", "seed 5", "seed 7", "result", f"neighbours σ={DEFAULT_SIGMA:.2f}"]:
        assert want in texts
    assert texts.count("mean") == 3
    img = np.asarray(fig.image())                              # 32-px tiles are drawn at 64 px
    assert img.shape[:2] == (lay.height, lay.width)
    for box, text, *_ in lay.captions:                         # ink where each caption is
        patch = img[box.y:box.bottom, max(box.x, 0):box.x + box.w]
        assert (patch.min(axis=2) < 128).sum() > 8, text
    # the pixels in each tile box are that tile, enlarged (nearest)
    for tile, box in zip(fig.tiles, lay.tiles):
        np.testing.assert_array_equal(img[box.y:box.bottom, box.x:box.x + box.w],
                                      tile.repeat(2, axis=0).repeat(2, axis=1))
    # what the tile order means: the mean tile is the mean latent's image, the result the result's
    assert np.array_equal(fig.ws[3], r.means[0]) and np.array_equal(fig.ws[len(fig.ws) - 9], r.result[0])


def test_neighbours_visibly_differ_from_the_result_at_the_default_sigma(mnist):
    groups = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]                  # the CLI's example
    r = arithmetic_ws(mnist, groups, SIGNS, "z", 1.0, 8, DEFAULT_SIGMA, 0)
    fig = arithmetic_figure(mnist, r, SIGNS, [[""] * 3] * 3, sigma=DEFAULT_SIGMA)
    tiles = fig.tiles.astype(np.float32)
    result, neighbours = tiles[-9], tiles[-8:]
    change = np.abs(neighbours - result).mean(axis=(1, 2, 3))   # of 255 levels
    # Looked at: with sigma 0.25 (mean change 9, least 7 levels here) the neighbours read as
    # copies of the result; with 0.5 (17 and 13) strokes visibly move.
    assert change.mean() > 12 and change.min() > 10, change
    assert len({t.tobytes() for t in fig.tiles[-8:]}) == 8      # and they differ from each other


def test_the_composed_figure_reproduces_from_its_metadata(mnist):
    r = arithmetic_ws(mnist, [[1], [2, 3]], [1.0, -1.0], "w", 0.7, 3, 0.4, 5)
    fig = arithmetic_figure(mnist, r, [1.0, -1.0], [["a"], ["b", "c"]], names=["x", "y"], sigma=0.4)
    meta = export_meta(fig, padding=3, labels=False, tile_size=40)
    again = reproduce(mnist, meta, fig.ws)
    assert np.array_equal(np.asarray(again), np.asarray(fig.image(3, False, 40)))


def test_the_cli_names_groups_and_draws_the_same_figure(mnist, tmp_path):
    from PIL import Image

    from ganexplorer import cli
    from ganexplorer.export.metadata import read_metadata
    ckpt = resources.resources_dir() / "models" / "mnist5k-dcgan32.safetensors"
    out = tmp_path / "a.png"
    assert cli.main(["arithmetic", str(ckpt), "--group", "smiling woman=+1,2,3", "--group", "-4,5",
                     "--group", "+7", "--device", "cpu", "--out", str(out)]) == 0
    meta, _ = read_metadata(out)
    assert meta["names"] == ["smiling woman", "B", "C"] and meta["sigma"] == DEFAULT_SIGMA
    r = arithmetic_ws(mnist, GROUPS, SIGNS, "z", 1.0, 8, DEFAULT_SIGMA, 0)
    fig = arithmetic_figure(mnist, r, SIGNS, [[f"seed {s}" for s in g] for g in GROUPS],
                            names=["smiling woman", "B", "C"], sigma=DEFAULT_SIGMA)
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(fig.image()))
