"""The Labels view without Qt: marks in the sub-state, the training set they make, the
figure (has / lacks / along the learned direction) and the page of thumbnails."""
from __future__ import annotations

import numpy as np
from core_fixtures import core, model  # noqa: F401 (pytest fixtures)

from ganexplorer.latent.directions import apply_direction
from ganexplorer.render.renderer import Renderer
from ganexplorer.render.synth import seeds_to_ws
from ganexplorer.session.io import load_session, save_session
from ganexplorer.session.state import SavedDirection, SessionState
from ganexplorer.views import View
from ganexplorer.views.labels import WALK_STEPS, LabelsState, Mark, training_set

RENDERER = Renderer(cpu_threads=1)


def show(core):
    """Render the newest request as the render thread would, hand it to the core, return it."""
    r = RENDERER.render(core.sent[-1])
    core.accept(r)
    return r


def test_a_click_cycles_unmarked_plus_minus_unmarked():
    s = LabelsState()
    s1 = s.cycled(seed=4)
    assert s1.mark(seed=4) is True and s1.counts() == (1, 0)
    s2 = s1.cycled(seed=4)
    assert s2.mark(seed=4) is False and s2.counts() == (0, 1)
    assert s2.cycled(seed=4).mark(seed=4) is None and s2.cycled(seed=4).marks == ()
    # a pin and the seed of the same number are different samples
    s3 = s2.cycled(pin_id=4)
    assert s3.mark(pin_id=4) is True and s3.mark(seed=4) is False
    assert s3.without_pins(frozenset({4})).marks == (Mark(False, seed=4),)
    assert s3.without_pins(None).counts() == (0, 1)
    # an attribute file: each listed seed takes its label, others stay
    s4 = s3.with_seed_labels([4, 7], [8])
    assert (s4.mark(seed=4), s4.mark(seed=7), s4.mark(seed=8), s4.mark(pin_id=4)) == (True, True, False, True)
    assert s4.for_new_model().marks == () and s4.for_new_model().attribute == s4.attribute


def test_training_set_uses_seeds_and_the_w_of_edited_pins(model):
    G = model.G
    s = SessionState()
    s = s.add_pin(seeds_to_ws(G, [5], 0.7), "seed 5", 5, 0.7)                    # pin 1: from seed 5
    edited = seeds_to_ws(G, [6]) + 0.5
    s = s.add_pin(edited, "edited", None)                                      # pin 2: no seed
    sub = (LabelsState().with_mark(True, seed=1).with_mark(True, pin_id=1).with_mark(True, seed=5)
           .with_mark(False, pin_id=2).with_mark(False, seed=2).with_mark(False, pin_id=99))   # pin 99 is gone
    ts = training_set(sub, s, G.w_dim)
    assert ts.pos_seeds == (1, 5) and ts.neg_seeds == (2,)                     # seed 5 once, untruncated
    assert ts.pos_latents.shape == (0, G.w_dim)
    np.testing.assert_allclose(ts.neg_latents, edited.reshape(-1, G.w_dim).mean(0, keepdims=True))
    assert ts.counts == (2, 2)


def test_the_figure_shows_the_marked_samples_and_the_walk_along_a_learned_direction(core, model):
    G = model.G
    core.set_view(View.LABELS)
    core.change_sub(View.LABELS, "setup", None, attribute="bright", page_start=10, page_size=6,
                    marks=(Mark(True, seed=1), Mark(True, seed=2), Mark(False, seed=3)))
    r = show(core)
    assert r.error is None, r.error
    fig = r.figure
    assert fig.composition["kind"] == "sections"
    titles = [s["title"] for s in fig.composition["sections"]]
    assert titles == ["has bright: 2", "lacks bright: 1"]
    assert np.array_equal(fig.ws, seeds_to_ws(G, [1, 2, 3]))
    page = r.extras["labels_page"]
    assert page.meta["seeds"] == list(range(10, 16)) and len(page.tiles) == 6
    # once a direction named like the attribute is saved, the figure walks the current latent along it
    v = np.zeros(G.w_dim, np.float32)
    v[0] = 1.0
    core.change("learn", None, saved_directions=(SavedDirection("bright", v, 0.8, 0.95),))
    r = show(core)
    sec = r.figure.composition["sections"]
    assert len(sec) == 3 and sec[2]["n"] == len(WALK_STEPS) and "along bright" in sec[2]["title"]
    walk = r.figure.ws[3:]
    want = np.concatenate([apply_direction(r.current_ws, v, a * 0.8) for a in WALK_STEPS])
    np.testing.assert_allclose(walk, want, atol=1e-6)
    img = r.image
    assert img.shape[1] >= 320 and img.shape[0] > 3 * 64            # three captioned rows of 64-px tiles


def test_no_marks_yet_says_what_to_do_and_a_foreign_direction_is_refused(core, model):
    core.set_view(View.LABELS)
    r = show(core)
    assert r.error is None and "click thumbnails in the Labels panel" in r.figure.composition["sections"][0]["title"]
    from ganexplorer.render.figures import export_meta, reproduce       # a figure of captions only exports too
    again = reproduce(model.G, export_meta(r.figure, 2, False, None), r.figure.ws)
    assert len(r.figure.ws) == 0 and np.array_equal(np.asarray(again), r.image)
    core.change("foreign", None, saved_directions=(SavedDirection("attribute", np.ones(7, np.float32), 1.0),))
    r = show(core)
    assert r.error is not None and "learned on another model" in r.error


def test_marks_are_saved_with_the_session(tmp_path):
    state = SessionState().change_sub(View.LABELS, attribute="smiling", orthogonal_to=("gender",),
                                      marks=(Mark(True, seed=3), Mark(False, pin_id=2)))
    path = save_session(tmp_path / "s.json", None, state)
    sub = load_session(path)[1].sub(View.LABELS)
    assert sub.attribute == "smiling" and sub.orthogonal_to == ("gender",)
    assert sub.marks == (Mark(True, seed=3), Mark(False, pin_id=2))


def test_an_imported_file_of_hundreds_draws_the_first_few(core):
    core.set_view(View.LABELS)
    sub = LabelsState().with_seed_labels(list(range(100, 140)), [1, 2])
    core.change_sub(View.LABELS, "import", None, marks=sub.marks)
    r = show(core)
    sec = r.figure.composition["sections"]
    assert sec[0]["n"] == 16 and "attribute: 40 (the first 16 shown)" in sec[0]["title"]
    assert sec[1]["n"] == 2 and sec[1]["captions"] == ["seed 1", "seed 2"]
