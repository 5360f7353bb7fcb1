"""Render every page of the training wizard into PNGs (docs/screenshots/wizard_*.png).

    QT_QPA_PLATFORM=offscreen python -m ganexplorer.ui.training.screenshots [OUT_DIR]
    QT_QPA_PLATFORM=offscreen python -m ganexplorer.ui.training.screenshots OUT_DIR --reopen RUN

It drives the real wizard with the real trainer: `digits` on the CPU, a short DCGAN-32
run, then a SIGKILL to show the failure message (one to two minutes on 2 cores). With
`--reopen RUN` it only shows an earlier run folder on the live page (wizard_reopened.png).
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWizard


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        QTest.qWait(50)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    reopen = None
    if "--reopen" in argv:
        i = argv.index("--reopen")
        reopen = Path(argv[i + 1])
        del argv[i:i + 2]
    out = Path(argv[0] if argv else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from ..dialogs.train_wizard import TrainWizard
    from . import controller as C

    if reopen is not None:
        w = TrainWizard(runs_root=reopen.parent)
        w.resize(1000, 760)
        w.open_run(reopen)           # before show(): the wizard starts on the live page
        w.show()
        wait_until(lambda: w.live_page.monitor.grid_label.pixmap() is not None
                   and not w.live_page.monitor.grid_label.pixmap().isNull(), 30, "the sample grid")
        QTest.qWait(300)
        w.grab().save(str(out / "wizard_reopened.png"))
        print("wrote", out / "wizard_reopened.png")
        return 0

    work = Path(tempfile.mkdtemp(prefix="wizard-shots-"))
    w = TrainWizard(runs_root=work / "runs")
    w.resize(1000, 760)
    w.show()

    def shot(name: str) -> None:
        QTest.qWait(300)
        w.grab().save(str(out / f"wizard_{name}.png"))
        print("wrote", out / f"wizard_{name}.png")

    page = w.data_page
    empty = work / "holiday photos"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    (empty / "IMG_0001.jpg").write_bytes(b"this is not a jpeg")
    page.set_source(str(empty))
    wait_until(lambda: not page.checking, 120, "the empty-folder dry run")
    shot("data_problem")

    page.set_source("digits")
    wait_until(lambda: page.isComplete() and page.thumbs.count() > 0, 120, "the digits dry run")
    shot("data")
    w.button(QWizard.WizardButton.NextButton).click()
    shot("model")
    w.button(QWizard.WizardButton.NextButton).click()
    w.budget_page.kimg_spin.setValue(3)
    w.budget_page.extra_edit.setText("--batch 32 --tick-seconds 1 --snap-kimg 0.5 --grid-size 36")
    shot("budget")
    w.button(QWizard.WizardButton.NextButton).click()
    wait_until(w.summary_page.isComplete, 120, "the summary dry run")
    shot("summary")
    w.button(QWizard.WizardButton.CommitButton).click()
    ctl = w.controller
    wait_until(lambda: len(ctl.history.losses.get("loss_G", [])) >= 25 and ctl.history.grids
               or ctl.state not in C.ACTIVE, 300, "25 ticks and a sample grid")
    shot("live")
    os.kill(ctl.process.pid(), signal.SIGKILL)
    wait_until(lambda: ctl.state == C.FAILED, 60, "the failure message")
    shot("live_failed")
    w.controller.tailer.stop()
    w.hide()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
