"""Preferences: which render back end draws the images (auto / eager / openvino), saved for
later sessions, and which one is in use for the open model right now ("openvino (ready)",
"eager (building openvino…)", "eager (openvino failed: …)"), refreshed while the dialog is open.

The choice is the one `ganexplorer.render.backends.preference()` reads, shared with the CLI
(`--backend`); $GANEXPLORER_BACKEND overrides both, and the dialog says so.
"""
from __future__ import annotations

import os
from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from ...models.loaded import LoadedModel
from ...render.backends import CHOICES, describe, preference, save_preference
from ...render.backends.setting import BACKEND_ENV
from ...session.state import SessionState

EXPLAIN = {
    "auto": "auto: a compiled graph once it is built and checked against PyTorch, PyTorch until then",
    "eager": "eager: plain PyTorch, always",
    "openvino": "openvino: build the OpenVINO graph at the first image (PyTorch renders meanwhile)",
}
REFRESH_MS = 500          # how often "in use" is read again while the dialog is open


class PreferencesContext(Protocol):
    """What the dialog reads of the window."""

    def current_model(self) -> LoadedModel | None: ...

    @property
    def state(self) -> SessionState: ...


class PreferencesDialog(QDialog):
    def __init__(self, ctx: PreferencesContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Preferences")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.backend = QComboBox()
        for name in CHOICES:
            self.backend.addItem(EXPLAIN.get(name, name), name)
        self.backend.setToolTip("How images are rendered on the CPU; every choice gives the same "
                                "image to 1e-4 (a graph that differs more is discarded)")
        self.backend.setCurrentIndex(max(0, self.backend.findData(preference())))
        self.backend.currentIndexChanged.connect(lambda _i: self.refresh())
        form.addRow("Render back end", self.backend)
        self.in_use = QLabel()
        self.in_use.setWordWrap(True)
        self.in_use.setToolTip("The back end drawing the open model's image now, and why")
        form.addRow("In use now", self.in_use)
        lay.addLayout(form)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        env = os.environ.get(BACKEND_ENV)
        if env:
            self.backend.setEnabled(False)
            self.note.setText(f"{BACKEND_ENV}={env} is set in the environment and overrides this choice.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def choice(self) -> str:
        return str(self.backend.currentData())

    def in_use_text(self) -> str:
        """What renders the open model's image now (with the choice the dialog shows)."""
        model = self.ctx.current_model()
        if model is None:
            return "no model is open"
        G = model.G
        text = describe(G, (1, G.num_ws, G.w_dim), self.ctx.state.noise_mode, choice=preference())
        if self.choice() != preference():
            text += f"; {self.choice()} applies after OK"
        return text

    def refresh(self) -> None:
        self.in_use.setText(self.in_use_text())

    def accept(self) -> None:
        if self.backend.isEnabled():
            save_preference(self.choice())
        self._timer.stop()
        super().accept()

    def reject(self) -> None:
        self._timer.stop()
        super().reject()


def open_preferences(window) -> PreferencesDialog:
    """Show the dialog for `window` (non-modal); returns it (tests drive it)."""
    dlg = PreferencesDialog(window, window)
    dlg.open()
    return dlg
