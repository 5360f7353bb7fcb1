"""The window's file commands: open a model by dialog, the model picker and recent files,
open/save a session, save the latent, copy the image, export (dialog and strip).

A mixin of `MainWindow` (ui/main_window.py), which provides what these methods use:
`settings`, `core` (the Explorer), `jobs`, `picker`, `recent_menu`, `image_view`,
`open_model`, `may_discard`, `set_view`, `error_box` and the status bar.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from .. import resources
from ..models.samples import list_sample_models
from ..render.figures import Figure
from ..session.io import SUFFIX as SESSION_SUFFIX
from ..session.io import SessionError
from .widgets.common import to_qimage

MODEL_FILTER = "Checkpoints (*.safetensors *.pkl *.pt *.pth *.ckpt);;All files (*)"
RECENT_MAX = 10


def sample_models() -> list[tuple[str, Path]]:
    """(label, path) of the sample models found in installed packages."""
    return [(s.name, s.path) for s in list_sample_models()]


def default_model() -> Path | None:
    """The first bundled model, else the first sample model, else None."""
    bundled = resources.bundled_models()
    if bundled:
        return bundled[0]
    samples = sample_models()
    return samples[0][1] if samples else None


class FileActions:
    """Open, save and export, as the window's menu and toolbar run them."""

    def open_model_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
            self.open_model(path)

    def recent_files(self) -> list[str]:
        v = self.settings.value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or []) if x]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", recent[:RECENT_MAX])

    def _fill_picker(self) -> None:
        self.picker.blockSignals(True)
        self.picker.clear()
        m = self.core.model
        current = str(m.path.resolve()) if m is not None else None
        seen: set[str] = set()

        def add(label: str, path: Path | str, tip: str) -> None:
            p = str(Path(path).resolve())
            if p in seen:
                return
            seen.add(p)
            self.picker.addItem(label, p)
            self.picker.setItemData(self.picker.count() - 1, f"{tip}\n{p}", Qt.ItemDataRole.ToolTipRole)

        if current is None:
            self.picker.addItem("— no model open —", None)
        for p in resources.bundled_models():
            add(f"Bundled: {p.stem}", p, "A model shipped with GAN Explorer")
        for name, p in sample_models():
            add(f"Sample: {name}", p, "A sample model found in an installed package")
        for p in self.recent_files():
            if Path(p).exists():
                add(f"Recent: {Path(p).name}", p, "Opened recently")
        if current is not None and current not in seen:
            add(Path(current).name, current, "The open model")
        self.picker.insertSeparator(self.picker.count())
        self.picker.addItem("Open…", "__open__")
        i = self.picker.findData(current) if current is not None else 0
        self.picker.setCurrentIndex(max(i, 0))
        self.picker.blockSignals(False)
        self.recent_menu.clear()
        for p in self.recent_files():
            a = self.recent_menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, p=p: self.open_model(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _picker_activated(self, index: int) -> None:
        data = self.picker.itemData(index)
        m = self.core.model
        if data == "__open__":
            self._fill_picker()
            self.open_model_dialog()
        elif data and (m is None or str(m.path.resolve()) != data):
            self.open_model(data)

    def save_session_dialog(self) -> None:
        if self.core.model is None:
            self.error_box("Nothing to save", "Open a model first.")
            return
        start = str(Path(str(self.settings.value("last_dir", str(Path.home())))) / f"session{SESSION_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save session", start, "Sessions (*.json)")
        if path:
            self.save_session(path)

    def save_session(self, path: str) -> bool:
        try:
            self.core.save_session(path)
        except OSError as e:
            self.error_box("Could not save the session", f"{path}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"Saved session {Path(path).name}", 5000)
        return True

    def open_session_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, "Sessions (*.json);;All files (*)")
        if path:
            self.open_session(path)

    def open_session(self, path: str) -> None:
        if not self.may_discard(f"Open the session {Path(path).name}?"):
            return
        try:
            ref, state = self.core.read_session(path)
        except SessionError as e:
            self.error_box("Could not open the session", str(e))
            return
        m = self.core.model
        if m is not None and m.sha256 == ref.sha256:
            self.core.reset_to(state, "opened session")
            self.set_view(state.view)
            self.core.refresh()
        else:
            self.open_model(ref.path, then_state=state, expect_sha=ref.sha256, ask=False)

    def save_latent_dialog(self) -> None:
        if self.core.current_ws() is None:
            self.error_box("No latent yet", "Open a model and wait for the first image.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save latent", "latent.npy", "NumPy array (*.npy)")
        if path:
            self.save_latent(path)

    def save_latent(self, path: str) -> None:
        from ..atomic import atomic_path
        try:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, self.core.current_ws())
        except OSError as e:
            self.error_box("Could not save the latent", f"{path}: {e.strerror or e}")
            return
        self.statusBar().showMessage(f"Saved the latent to {Path(path).name}", 5000)

    def copy_image(self) -> None:
        img = self.image_view.image()
        if img is not None:
            QGuiApplication.clipboard().setImage(to_qimage(img))
            self.statusBar().showMessage("Image copied to the clipboard", 3000)

    def export_dialog(self) -> None:
        from .dialogs.export_dialog import ExportDialog
        dlg = ExportDialog(self.ctx, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self._export_dialog = dlg

    def export_strip(self, path: str) -> None:
        """The interpolation strip as a PNG strip, a GIF or an MP4 (in the background)."""
        fig = self.core.figure("strip")
        if fig is None:
            self.error_box("Nothing to export", "Show the Interpolate panel first.")
            return
        meta = {**self.core.export_meta(), **fig.meta}
        self.jobs.start(_write_strip, fig, path, meta, name="export",
                        on_done=lambda p: self.statusBar().showMessage(f"Wrote {p}", 5000),
                        on_error=lambda msg: self.error_box("Could not export", msg))


def _write_strip(fig: Figure, path: str, meta: dict) -> str:
    """Runs on a job thread: PNG strip with metadata, or a GIF / MP4 of the frames."""
    p = Path(path)
    if p.suffix.lower() == ".png":
        from ..export.metadata import save_image
        save_image(fig.image(padding=2), p, meta, latents={"ws": fig.ws})
    else:
        from ..export.animation import save_animation
        save_animation(fig.tiles, p, fps=24, loop=True)
    return p.name
