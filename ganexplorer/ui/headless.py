"""Drive the window without a person: used by tools/screenshots.py and bench/ui_latency.py.

Runs under QT_QPA_PLATFORM=offscreen or Xvfb. Waiting spins the Qt event loop (never a
bare sleep), so queued render results and jobs arrive while we wait.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow, default_model


def application() -> QApplication:
    from .app import make_app
    return make_app()


def wait_until(pred: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Run the event loop until pred() is true; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: loop.quit() if pred() or time.monotonic() > deadline else None)
    timer.start()
    if not pred():
        loop.exec()
    timer.stop()
    if not pred():
        raise TimeoutError(f"timed out waiting for {what}")


def settle(w: MainWindow, timeout: float = 60.0) -> None:
    """Wait until the newest request is rendered and on screen."""
    target = w.core.gate.latest
    wait_until(lambda: w.core.gate.shown >= target, timeout, "the newest frame")


def open_window(model: str | Path | None = None, size: tuple[int, int] = (1280, 800)) -> MainWindow:
    """A shown window with throw-away settings, on `model` (default: the app's default model)."""
    application()
    settings = QSettings(str(Path(tempfile.mkdtemp(prefix="ganexplorer-")) / "settings.ini"),
                         QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, recovery_dir=Path(settings.fileName()).parent / "recovery")
    w.ask_discard = lambda what: "discard"       # a script has nobody to ask
    w.resize(*size)
    w.show()
    path = model or default_model()
    if path is not None:
        w.open_model(str(path))
        wait_until(lambda: w.current_model() is not None or w.last_error, 120, "the model")
        if w.last_error:
            raise RuntimeError(w.last_error)
        settle(w)
    return w


def tiny_dcgan64(folder: str | Path) -> Path:
    """A DCGAN-64 with random weights (for benches when no trained model is at hand)."""
    import torch

    from ..models.checkpoint import save_checkpoint
    from ..models.dcgan import DCGANGenerator
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=100, img_resolution=64, ngf=64)
    return save_checkpoint(Path(folder) / "dcgan64-random.safetensors", {"G": G.eval()},
                           {"name": "DCGAN-64 (random weights)"})
