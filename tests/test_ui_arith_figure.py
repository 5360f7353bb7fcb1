"""The window's arithmetic figure: groups named in the panel are captioned in the figure, and
the window shows the very pixels `ganexplorer arithmetic` writes for the same named groups."""
from __future__ import annotations

import numpy as np
from PIL import Image
from ui_support import dcgan_path, settings, settle, window  # noqa: F401  (fixtures)

from ganexplorer import cli
from ganexplorer.latent.arithmetic import DEFAULT_SIGMA
from ganexplorer.views import View


def test_named_groups_are_captioned_and_match_the_cli(qtbot, window, dcgan_path, tmp_path):  # noqa: F811
    w = window
    for seed in (1, 2, 3, 4):
        w.pin_seed(seed)
    ids = {p.seed: p.id for p in w.state.pins}
    panel = w.panel_for(View.ARITHMETIC)
    w.show_panel(panel)
    for i, seeds in enumerate(([1, 2], [3], [4])):
        for s in seeds:
            panel.boxes[i].members.pinDropped.emit(ids[s])
    panel.boxes[1].sign.setCurrentIndex(1)
    box = panel.boxes[0].concept
    box.setText("smiling woman")
    box.editingFinished.emit()
    panel.boxes[0].sign.setCurrentIndex(1)                  # a later sign change keeps the name ...
    panel.boxes[0].sign.setCurrentIndex(0)
    groups = w.state.sub(View.ARITHMETIC).groups
    assert [g.name for g in groups] == ["smiling woman", "", ""] and groups[0].pin_ids == (ids[1], ids[2])
    settle(qtbot, w)
    fig = w.core.last_result.figure
    assert fig.composition["names"] == ["smiling woman", "B", "C"]
    assert fig.composition["sigma"] == DEFAULT_SIGMA == w.state.sub(View.ARITHMETIC).sigma
    assert fig.composition["member_labels"] == [["seed 1", "seed 2"], ["seed 3"], ["seed 4"]]
    out = tmp_path / "a.png"
    assert cli.main(["arithmetic", str(dcgan_path), "--group", "smiling woman=+1,2", "--group", "-3",
                     "--group", "+4", "--device", "cpu", "--out", str(out)]) == 0
    with Image.open(out) as im:
        want = np.asarray(im.convert("RGB"))
    assert np.array_equal(np.array(w.image_view.image(), copy=True), want)
    w.undo()                                                 # ... and the name is one undo step
    w.undo()
    w.undo()
    assert w.state.sub(View.ARITHMETIC).groups[0].name == ""
