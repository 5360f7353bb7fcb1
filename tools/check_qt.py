"""Fail the set-up loudly when the installed PySide6 leaks references to None.

PySide6 6.12.0 (shiboken6 6.12.0) drops one reference to `None` on every call of a void Qt
method (`QLabel.setText`, `repaint`, ...). On CPython 3.10 and 3.11 `None` is an ordinary
refcounted object, so after a few thousand calls its count reaches zero and the interpreter
aborts ("Fatal Python error: none_dealloc"); from 3.12 on `None` is immortal and the loss is
harmless (measured for 6.11.3 and 6.12.0 on 3.10.13, 3.11.7, 3.12.1 and 3.13.0). pyproject.toml
keeps such a version out; this check catches one that got in anyway (a user's own pip run, a
wheel cache, a later release with the same fault) by measuring the leak itself.

Run by `make setup`; exit 0 when fine, 1 with one line saying what to install otherwise.
"""
from __future__ import annotations

import os
import sys

CALLS = 2000          # well below the ~5,000 references None starts with: measuring never aborts


def none_loss_per_call(calls: int = CALLS) -> float:
    """References to None lost per `QLabel.setText` call (0.0 on a good build)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QLabel
    app = QApplication.instance() or QApplication([sys.argv[0]])
    label = QLabel()
    label.setText("warm-up")          # first call may intern strings, load plugins
    before = sys.getrefcount(None)
    for _ in range(calls):
        label.setText("x")
    after = sys.getrefcount(None)
    del label, app
    return (before - after) / calls


def none_is_immortal() -> bool:
    """From CPython 3.12 (PEP 683) None's count never changes, so a loss cannot abort."""
    return sys.version_info >= (3, 12)


def main() -> int:
    import PySide6
    version = PySide6.__version__
    if none_is_immortal():
        print(f"check_qt: PySide6 {version} on Python {sys.version.split()[0]}: None is immortal, "
              "no reference leak can abort", flush=True)
        return 0
    loss = none_loss_per_call()
    if loss > 0.1:
        print(f"check_qt: PySide6 {version} loses {loss:.2f} references to None per Qt call on Python "
              f"{sys.version.split()[0]}, which aborts the app within minutes; install a good one: "
              f"{sys.executable} -m pip install 'PySide6-Essentials>=6.6,<6.12'", file=sys.stderr, flush=True)
        # None is now short of references it really has: a normal interpreter shutdown would
        # release them all and abort with none_dealloc, hiding this message behind a crash.
        os._exit(1)
    print(f"check_qt: PySide6 {version} on Python {sys.version.split()[0]}: no reference leak "
          f"({loss:.3f} per call)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
