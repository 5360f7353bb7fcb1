"""Qt-free parts of "no work is ever lost" (issue 11): the throttled autosave, finding what a
dead process left, and the history's dirty flag and no-op rule."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from ganexplorer.session.history import History
from ganexplorer.session.io import load_session
from ganexplorer.session.recovery import Autosaver, data_dir, discard, orphans
from ganexplorer.session.state import Edit, ModelRef, SessionState


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def _pinned(n: int) -> SessionState:
    s = SessionState()
    for i in range(n):
        s = s.add_pin(np.full((1, 2, 4), i, np.float32), f"pin {i}", i)
    return s


def test_autosave_is_throttled_but_keeps_the_newest_state(tmp_path):
    clock = Clock()
    a = Autosaver(folder=tmp_path, interval=2.0, clock=clock)
    ref = ModelRef("/m.safetensors", "ab" * 32)
    a.changed(ref, _pinned(1))                   # first step: written at once
    assert a.writes == 1 and len(load_session(a.path)[1].pins) == 1
    clock.t += 0.5
    a.changed(ref, _pinned(2))                   # too soon: remembered, not written
    a.changed(ref, _pinned(3))
    assert a.writes == 1 and a.pending and not a.flush_due()
    clock.t += 2.0
    assert a.flush_due() and a.writes == 2       # the newest state, once the interval is over
    model, state = load_session(a.path)
    assert len(state.pins) == 3 and model.sha256 == ref.sha256
    a.finish()                                   # a clean exit leaves nothing to recover
    assert not a.path.exists()


def test_only_files_of_dead_processes_are_offered(tmp_path):
    mine = Autosaver(folder=tmp_path)
    mine.changed(None, _pinned(1))
    assert orphans(tmp_path) == []               # this process is alive: not an orphan
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    left = tmp_path / f"recovery-{dead}.ganexplorer.json"
    left.write_text(mine.path.read_text())
    (tmp_path / "recovery-999999999.ganexplorer.json").write_text("{ damaged")   # skipped
    found = orphans(tmp_path)
    assert [o.path for o in found] == [left]
    assert "1 pin(s)" in found[0].summary()
    discard(found[0])
    assert not left.exists()


def test_data_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert data_dir() == tmp_path / "ganexplorer"
    assert Autosaver().path.parent == tmp_path / "ganexplorer"
    assert Autosaver().path.name == f"recovery-{os.getpid()}.ganexplorer.json"


def same(a, b):
    return a.same_as(b)


def test_every_history_entry_changes_something():
    h = History(SessionState(), same=same)
    assert not h.push(SessionState(), "cutoff all")         # equal to what is shown: no entry
    assert h.push(SessionState().replace(cutoff=4), "cutoff 4")
    assert not h.push(SessionState().replace(cutoff=4), "cutoff 4")   # the same twice: once
    e = Edit("PCA 0", np.ones(4, np.float32), 0.5, 0, 9)
    s = h.state.with_edit(e)
    assert h.push(s, "PCA 0 layers 0–8")
    assert not h.push(h.state.with_edit(Edit("PCA 0", np.ones(4, np.float32), 0.5, 0, 9)), "again")
    assert h.labels() == ["start", "cutoff 4", "PCA 0 layers 0–8"]


def test_a_drag_back_to_the_start_leaves_no_step():
    h = History(SessionState(), same=same)
    g = object()
    h.push(SessionState(psi=0.5), "psi 0.50", g)
    h.push(SessionState(psi=0.7), "psi 0.70", g)
    assert len(h) == 2
    h.push(SessionState(psi=1.0), "psi 1.00", g)            # back where it started
    assert h.labels() == ["start"]
    h.push(SessionState(psi=0.9), "psi 0.90", g)            # the same drag goes on
    assert h.labels() == ["start", "psi 0.90"]


def test_dirty_until_saved():
    h = History(SessionState(), same=same)
    assert not h.dirty
    h.push(SessionState(seed=1), "seed 1")
    assert h.dirty
    h.mark_saved()
    assert not h.dirty
    g = object()
    h.push(SessionState(seed=1, psi=0.5), "psi", g)
    h.mark_saved()
    h.push(SessionState(seed=1, psi=0.4), "psi", g)          # merged into the saved entry
    assert h.dirty
    h.undo()
    assert h.dirty                                           # not the saved one either
    h.reset(SessionState(seed=3), "restored", saved=False)  # a recovery is not in any file
    assert h.dirty
