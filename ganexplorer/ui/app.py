"""Start the window: `python -m ganexplorer [CHECKPOINT]` and the desktop launcher."""
from __future__ import annotations

import argparse
import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .. import resources


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ganexplorer", description="Open the GAN Explorer window.")
    p.add_argument("checkpoint", nargs="?", help="a checkpoint or a saved session (.json) to open")
    p.add_argument("--device", choices=("cpu", "cuda"), help="run the generator on this device")
    return p.parse_args(argv)


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("ganexplorer")
    app.setApplicationName("GAN Explorer")
    app.setDesktopFileName("ganexplorer")
    app.setWindowIcon(QIcon(str(resources.resources_dir() / "icons" / "ganexplorer.svg")))
    from .main_window import MainWindow, default_model
    win = MainWindow(device="cuda:0" if args.device == "cuda" else args.device)
    win.show()
    if args.checkpoint:
        if args.checkpoint.endswith(".json"):
            win.open_session(args.checkpoint)
        else:
            win.open_model(args.checkpoint)
    else:
        path = default_model()
        if path is not None:
            win.open_model(str(path))
    return app.exec()
