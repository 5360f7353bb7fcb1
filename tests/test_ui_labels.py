"""The Labels panel in the window: mark thumbnails as having / lacking an attribute, learn
the direction off the GUI thread, find it as a Directions slider with its accuracy."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from ui_support import WAIT_MS, dcgan_path, settings, settle, window  # noqa: F401  (fixtures)

from ganexplorer.render.synth import seeds_to_ws, synthesize
from ganexplorer.views import View


def upper_brightness(G, seeds):
    img = synthesize(G, seeds_to_ws(G, seeds))
    return img[:, :, : img.shape[-1] // 2].mean(axis=(1, 2, 3))


@pytest.fixture
def panel(window, qtbot):  # noqa: F811
    w = window
    w.set_view(View.LABELS)
    p = w.panel_for(View.LABELS)
    settle(qtbot, w)
    qtbot.waitUntil(lambda: p.grid.count() == p.sub.page_size and p.grid.item(0).icon().isNull() is False,
                    timeout=WAIT_MS)
    return p


def click_item(qtbot, grid, i):
    rect = grid.visualItemRect(grid.item(i))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_mark_learn_and_find_the_slider_with_its_accuracy(qtbot, window, panel, monkeypatch):  # noqa: F811
    w, p = window, panel
    p.attribute.setText("bright top")
    p.attribute.editingFinished.emit()
    assert p.sub.attribute == "bright top"
    # a real click marks +, a second click −, a third unmarks
    n = len(w.history)
    click_item(qtbot, p.grid, 0)
    assert p.sub.mark(seed=0) is True and p.grid.item(0).text().startswith("+")
    click_item(qtbot, p.grid, 0)
    assert p.sub.mark(seed=0) is False and p.grid.item(0).text().startswith("−")
    click_item(qtbot, p.grid, 0)
    assert p.sub.mark(seed=0) is None and len(w.history) == n + 3
    # label the page by the pictures themselves: the brightest upper halves +, the darkest −
    seeds = list(range(p.sub.page_size))
    a = upper_brightness(w.current_model().G, seeds)
    order = np.argsort(a)
    for i in list(order[:8]) + list(order[-8:]):
        p.toggle(("seed", int(i)))                          # what a click does
    for i in order[:8]:
        p.toggle(("seed", int(i)))                          # second click: −
    assert p.sub.counts() == (8, 8)
    assert "8 marked with bright top, 8 without" in p.counts.text()
    threads = []
    from ganexplorer.ui.panels import labels as labels_mod
    real = labels_mod.learn
    monkeypatch.setattr(labels_mod, "learn", lambda *a: (threads.append(threading.current_thread()), real(*a))[1])
    with qtbot.waitSignal(p.learned, timeout=WAIT_MS) as sig:
        p.learn_btn.click()
    assert sig.args == ["bright top"]
    assert threads and threads[0] is not threading.main_thread()      # fitted off the GUI thread
    d = w.state.saved_directions[-1]
    assert d.name == "bright top" and d.accuracy is not None and 0.0 <= d.accuracy <= 1.0
    assert abs(np.linalg.norm(d.vector) - 1) < 1e-5 and d.scale > 0
    assert f"held-out accuracy {d.accuracy:.2f}" in p.status.text()
    # the direction raises the attribute it was learned from
    G = w.current_model().G
    ws = seeds_to_ws(G, seeds)
    up = synthesize(G, ws + 2 * d.scale * d.vector)[:, :, :8].mean()
    down = synthesize(G, ws - 2 * d.scale * d.vector)[:, :, :8].mean()
    assert up > down
    # it is a slider in Directions ▸ Saved directions, its accuracy beside it
    w.show_panel(w.dir_panel)
    w.dir_panel.method.setCurrentIndex(w.dir_panel.method.findData("saved"))
    row = next(r for r in w.dir_panel.rows if r.name == "bright top")
    assert row.accuracy_label is not None and f"{d.accuracy:.2f}" in row.accuracy_label.text()
    # the Labels view walks the current latent along it
    w.set_view(View.LABELS)
    settle(qtbot, w)
    sections = w.core.last_result.figure.composition["sections"]
    assert [s["n"] for s in sections] == [8, 8, 5] and "along bright top" in sections[2]["title"]


def test_conditional_direction_and_attribute_file(qtbot, window, panel, tmp_path):  # noqa: F811
    w, p = window, panel
    errors = []
    w.error_box = lambda title, message: errors.append(message)
    bad = tmp_path / "bad.csv"
    bad.write_text("seed,label\n1,maybe\n")
    p.import_file(str(bad))
    assert errors and "line 2" in errors[0] and p.sub.marks == ()
    f = tmp_path / "labels.csv"
    f.write_text("seed,label\n" + "".join(f"{s},{int(s % 2 == 0)}\n" for s in range(12)))
    n = len(w.history)
    p.import_file(str(f))
    assert p.sub.counts() == (6, 6) and len(w.history) == n + 1       # one undo step
    # keep a saved direction fixed: the learned one is orthogonal to it
    from ganexplorer.session.state import SavedDirection
    G = w.current_model().G
    keep = np.zeros(G.w_dim, np.float32)
    keep[0] = 1.0
    w.change("gender", None, saved_directions=(SavedDirection("gender", keep, 1.0),))
    assert p.keep.count() == 1
    p.keep.item(0).setCheckState(Qt.CheckState.Checked)
    assert p.sub.orthogonal_to == ("gender",)
    with qtbot.waitSignal(p.learned, timeout=WAIT_MS):
        p.learn_btn.click()
    d = w.state.saved_directions[-1]
    assert d.name == "attribute" and abs(float(d.vector @ keep)) < 1e-5
    assert "orthogonal to 1 kept direction" in p.status.text()
    # too few marks: says how many are missing, starts nothing
    p.clear_btn.click()
    p.learn_btn.click()
    assert "at least 2" in p.status.text() and "now 0 and 0" in p.status.text()
