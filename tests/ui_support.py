"""Shared set-up for the window tests: offscreen Qt, settings in a temporary folder, a window
on a tiny model, and waits on the window's own signals (never on sleep)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from tiny_models import save_tiny_dcgan  # noqa: E402

WAIT_MS = 20_000


@pytest.fixture
def settings(tmp_path, qapp):
    from PySide6.QtCore import QSettings
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def dcgan_path(tmp_path_factory):
    return save_tiny_dcgan(tmp_path_factory.mktemp("models") / "tiny.safetensors")


def make_window(qtbot, settings):
    from pathlib import Path

    from ganexplorer.ui.main_window import MainWindow
    # Recovery files beside the temporary settings, never in the user's data folder; the
    # unsaved-work question answered "discard" (pytest-qt closes the window at teardown).
    w = MainWindow(settings=settings, recovery_dir=Path(settings.fileName()).parent / "recovery")
    w.ask_discard = lambda what: "discard"
    w.ask_restore = lambda orphan: False
    qtbot.addWidget(w)
    w.resize(1100, 760)
    return w


def open_and_wait(qtbot, w, path):
    with qtbot.waitSignal(w.modelChanged, timeout=WAIT_MS):
        w.open_model(str(path))
    settle(qtbot, w)


def settle(qtbot, w):
    """Wait until the newest request so far is answered and on screen."""
    target = w.core.gate.latest
    qtbot.waitUntil(lambda: w.core.gate.shown >= target, timeout=WAIT_MS)


@pytest.fixture
def window(qtbot, settings, dcgan_path):
    w = make_window(qtbot, settings)
    open_and_wait(qtbot, w, dcgan_path)
    yield w
    w.shutdown()


def drag(slider, values):
    """A real drag on a QSlider: press, move through `values`, release."""
    slider.setSliderDown(True)
    for v in values:
        slider.setValue(v)
    slider.setSliderDown(False)
