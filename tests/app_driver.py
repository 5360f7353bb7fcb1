"""Drive the real app in a subprocess for tests/test_ui_recovery.py (through the entry point
`python -m ganexplorer` uses; the dialogs are the real ones, clicked here).

    python tests/app_driver.py build MODEL      pins and a group, then wait to be killed
    python tests/app_driver.py restore          start again, click Restore, report the state
    python tests/app_driver.py slow-exit MODEL  quit (Ctrl+Q) while a 30 s render is running

Prints one JSON object per line (flushed).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def say(**kw) -> None:
    print(json.dumps(kw), flush=True)


def main() -> int:
    mode, rest = sys.argv[1], sys.argv[2:]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    import ganexplorer.__main__ as entry
    from ganexplorer.session.state import Group, View
    from ganexplorer.ui.main_window import MainWindow

    app = QApplication(["ganexplorer"])
    t0 = time.monotonic()

    def window() -> MainWindow | None:
        return next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)

    def poll(pred, then, timeout=60.0):
        """Call `then()` once `pred()` holds, checking every 20 ms inside the event loop."""
        def tick():
            if pred():
                then()
            elif time.monotonic() - t0 > timeout:
                say(error=f"timed out in {mode}")
                os._exit(3)
            else:
                QTimer.singleShot(20, tick)
        QTimer.singleShot(20, tick)

    if mode == "build":
        def build():
            w = window()
            w.act_pin.trigger()                                  # pin seed 0
            w.sample_panel.next.click()                          # seed 1
            poll(lambda: w.current_ws() is not None and w.core.gate.shown >= w.core.gate.latest, pin_two)

        def pin_two():
            w = window()
            w.act_pin.trigger()
            ids = tuple(p.id for p in w.state.pins)
            w.change_sub(View.ARITHMETIC, "group", None, groups=(Group(1.0, ids), Group(-1.0, ()), Group(1.0, ())))
            poll(lambda: saved_pins(w) == 2, lambda: say(ready=True, pid=os.getpid(),
                                                        file=str(w.autosave.path)))

        def saved_pins(w) -> int:
            try:
                from ganexplorer.session.io import load_session
                return len(load_session(w.autosave.path)[1].pins)
            except Exception:                                    # not written yet
                return -1

        poll(lambda: window() is not None and window().current_ws() is not None, build)
        return entry.main(rest)

    if mode == "restore":
        def click_restore():
            box = app.activeModalWidget()
            say(dialog=box.objectName(), text=box.text())
            box.button(QMessageBox.StandardButton.Yes).click()
            poll(lambda: window().current_model() is not None and window().state.pins, report)

        def report():
            w = window()
            s = w.state
            say(pins=[p.label for p in s.pins], groups=[list(g.pin_ids) for g in s.sub(View.ARITHMETIC).groups],
                model=os.path.basename(str(w.current_model().path)), dirty=w.dirty,
                history=w.history.labels(), recovery_left=[f for f in os.listdir(w.autosave.folder)])
            w.mark_saved()
            w.close()

        poll(lambda: isinstance(app.activeModalWidget(), QMessageBox)
             and app.activeModalWidget().objectName() == "restore-dialog", click_restore)
        return entry.main([])

    if mode == "slow-exit":
        from ganexplorer.render.renderer import Renderer
        started = threading.Event()
        fast = Renderer.render

        def slow_render(self, req):          # a deliberately slow render: 30 s once asked for
            if req.psi != 1.0:
                started.set()
                time.sleep(30)
            return fast(self, req)
        Renderer.render = slow_render

        def go():
            w = window()
            w.mark_saved()
            w.change("psi 0.5", None, psi=0.5)
            w.mark_saved()                   # nothing to ask about: the point is the thread
            poll(started.is_set, quit_now)

        def quit_now():
            say(quitting=True, t=round(time.monotonic() - t0, 2))
            window().act_quit.trigger()      # Ctrl+Q

        poll(lambda: window() is not None and window().current_ws() is not None, go)
        rc = entry.main(rest)
        say(exited=rc, t=round(time.monotonic() - t0, 2))
        return rc
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
