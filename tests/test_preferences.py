"""The Preferences dialog (Edit ▸ Preferences…): chooses the render back end, saves it, and
says which back end draws the open model's image now."""
from __future__ import annotations

import shutil
import sys

from ui_support import WAIT_MS, dcgan_path, settings, window  # noqa: F401  (fixtures)

from backend_fixtures import isolated_backends, needs_openvino  # noqa: F401 (fixture)
from ganexplorer.render import backends
from ganexplorer.render.backends import graphs
from ganexplorer.render.backends import setting
from ganexplorer.ui.dialogs.preferences import PreferencesDialog


def _open(w) -> PreferencesDialog:
    w.act_preferences.trigger()                  # the menu entry
    dlg = w.findChildren(PreferencesDialog)[-1]
    assert dlg.isVisible()
    return dlg


@needs_openvino
def test_the_dialog_says_which_back_end_is_in_use_as_the_build_goes(qtbot, window, monkeypatch):
    w = window
    dlg = _open(w)
    assert dlg.choice() == "auto"
    assert dlg.in_use.text().startswith("eager (openvino is built once this model has rendered")
    G = w.current_model().G
    shape = (1, G.num_ws, G.w_dim)
    with monkeypatch.context() as m:             # a converter that never ends
        m.setattr(graphs, "child_command", lambda *a: [sys.executable, "-c", "import time; time.sleep(60)"])
        building = backends.prepare_async(G, shape)
        qtbot.waitUntil(lambda: dlg.in_use.text() == "eager (building openvino…)", timeout=WAIT_MS)
        backends.release_model(G)
        assert building.state == "cancelled"
    ready = backends.prepare_async(G, shape)     # the real one
    qtbot.waitUntil(lambda: dlg.in_use.text() == "openvino (ready)", timeout=120_000)
    backends.release_model(G)
    shutil.rmtree(ready.folder)                  # not on disk: the next build converts again
    boom = [sys.executable, "-c", "import sys; print('RuntimeError: no CPU plugin', file=sys.stderr); sys.exit(1)"]
    monkeypatch.setattr(graphs, "child_command", lambda *a: boom)
    backends.prepare_async(G, shape)
    qtbot.waitUntil(lambda: dlg.in_use.text() == "eager (openvino failed: RuntimeError: no CPU plugin)",
                    timeout=WAIT_MS)
    dlg.reject()


def test_choosing_eager_is_saved_and_used(qtbot, window, tmp_path):
    w = window
    dlg = _open(w)
    dlg.backend.setCurrentIndex(dlg.backend.findData("eager"))
    assert dlg.in_use.text().endswith("eager applies after OK")
    dlg.accept()
    assert backends.preference() == "eager"
    setting.set_preference(None)                 # a later session reads the saved choice
    assert backends.preference() == "eager"
    assert '"eager"' in (tmp_path / "config" / setting.FILE_NAME).read_text()
    again = _open(w)
    assert again.choice() == "eager" and again.in_use.text() == "eager (chosen)"
    again.reject()


def test_the_environment_override_is_shown_and_the_choice_locked(qtbot, window, monkeypatch):
    monkeypatch.setenv("GANEXPLORER_BACKEND", "eager")
    dlg = _open(window)
    assert not dlg.backend.isEnabled() and "GANEXPLORER_BACKEND=eager" in dlg.note.text()
    dlg.accept()
    monkeypatch.delenv("GANEXPLORER_BACKEND")
    assert backends.preference() == "auto"       # nothing was saved
