"""Export: a grid of pins or of any panel's current view, with tile size, padding, labels,
PNG / JPEG / WebP, and metadata (seeds, psi, model hash, the latents of every tile) that
`render.figures.reproduce` turns back into the same picture. Also: copy to the clipboard,
save the current latent as .npy."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ...export.metadata import save_image
from ...render.figures import Figure, export_meta
from ..context import ExportContext
from ..widgets.common import to_qimage

FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WebP": ".webp"}


def write_figure(fig: Figure, path: str, meta: dict, padding: int, labels: bool,
                 tile_size: int | None, quality: int = 95) -> str:
    """Compose and save (runs on a job thread). PNG carries the metadata inside; JPEG and
    WebP get a .json + .npz sidecar."""
    image = fig.image(padding=padding, labels=labels, tile_size=tile_size)
    full = {**meta, **export_meta(fig, padding, labels, tile_size)}
    save_image(image, path, full, latents={"ws": fig.ws}, quality=quality)
    return path


class ExportDialog(QDialog):
    exported = Signal(str)        # the path written
    exportFailed = Signal(str)

    def __init__(self, ctx: ExportContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Export")
        self.sources = ctx.export_sources()
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.source = QComboBox()
        self.source.addItems(list(self.sources))
        self.source.setToolTip("What to export: the image view's figure or a panel's thumbnails")
        self.tile = QSpinBox()
        self.tile.setRange(0, 2048)
        self.tile.setSpecialValueText("native")
        self.tile.setSingleStep(32)
        self.tile.setToolTip("Tile size in pixels (native: the model's resolution)")
        self.padding = QSpinBox()
        self.padding.setRange(0, 64)
        self.padding.setValue(2)
        self.padding.setToolTip("White space between tiles, in pixels")
        self.labels = QCheckBox("Write labels under the tiles")
        self.labels.setToolTip("Seeds or names under each tile")
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.format.setToolTip("PNG keeps the metadata inside the file; JPEG and WebP get .json + .npz beside it")
        self.path = QLineEdit()
        self.path.setToolTip("Where to write the image")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose the file name")
        prow = QHBoxLayout()
        prow.addWidget(self.path, 1)
        prow.addWidget(browse)
        form.addRow("Export", self.source)
        form.addRow("Tile size", self.tile)
        form.addRow("Padding", self.padding)
        form.addRow("", self.labels)
        form.addRow("Format", self.format)
        form.addRow("File", prow)
        lay.addLayout(form)
        self.info = QLabel()
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        buttons = QDialogButtonBox()
        self.save_btn = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_btn.setToolTip("Write the image with its metadata")
        self.copy_btn = buttons.addButton("Copy to clipboard", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_btn.setToolTip("Put the composed image on the clipboard")
        self.npy_btn = buttons.addButton("Save latent .npy…", QDialogButtonBox.ButtonRole.ActionRole)
        self.npy_btn.setToolTip("Save the current latent ws [1, num_ws, w_dim]")
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setToolTip("Close this dialog")
        lay.addWidget(buttons)

        folder = Path(str(ctx.settings.value("export_dir", str(Path.home()))))
        self.path.setText(str(folder / "ganexplorer.png"))
        self.format.currentTextChanged.connect(self._format_changed)
        self.source.currentTextChanged.connect(self._describe)
        browse.clicked.connect(self._browse)
        self.save_btn.clicked.connect(self.save)
        self.copy_btn.clicked.connect(self.copy)
        self.npy_btn.clicked.connect(ctx.save_latent_dialog)
        close.clicked.connect(self.reject)
        self.save_btn.setEnabled(bool(self.sources))
        self.copy_btn.setEnabled(bool(self.sources))
        self._describe()

    def figure(self) -> Figure | None:
        return self.sources.get(self.source.currentText())

    def _describe(self, *_):
        fig = self.figure()
        self.info.setText("Nothing to export yet." if fig is None else
                          f"{len(fig.tiles)} tile(s), {fig.cols} per row, "
                          f"{fig.tiles.shape[1]}×{fig.tiles.shape[2]} px each.")

    def _format_changed(self, name: str) -> None:
        p = Path(self.path.text() or "ganexplorer.png")
        self.path.setText(str(p.with_suffix(FORMATS[name])))

    def _browse(self) -> None:
        suffix = FORMATS[self.format.currentText()]
        path, _ = QFileDialog.getSaveFileName(self, "Export image", self.path.text(),
                                              f"{self.format.currentText()} (*{suffix})")
        if path:
            self.path.setText(path if Path(path).suffix else path + suffix)

    def options(self) -> tuple[int, bool, int | None]:
        return self.padding.value(), self.labels.isChecked(), (self.tile.value() or None)

    def save(self) -> None:
        fig = self.figure()
        path = self.path.text().strip()
        if fig is None or not path:
            return
        if Path(path).suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            path = str(Path(path).with_suffix(FORMATS[self.format.currentText()]))
        padding, labels, tile = self.options()
        self.ctx.settings.setValue("export_dir", str(Path(path).parent))
        self.save_btn.setEnabled(False)
        self.ctx.jobs.start(write_figure, fig, path, self.ctx.export_meta(), padding, labels, tile,
                               name="export", on_done=self._done, on_error=self._failed)

    def _done(self, path: str) -> None:
        self.save_btn.setEnabled(True)
        self.info.setText(f"Wrote {path}")
        self.ctx.status(f"Exported {path}", 5000)
        self.exported.emit(path)

    def _failed(self, message: str) -> None:
        self.save_btn.setEnabled(True)
        self.info.setText(f"Could not export: {message}")
        self.exportFailed.emit(message)

    def copy(self) -> None:
        fig = self.figure()
        if fig is None:
            return
        padding, labels, tile = self.options()
        import numpy as np
        QGuiApplication.clipboard().setImage(to_qimage(np.asarray(fig.image(padding, labels, tile).convert("RGB"))))
        self.info.setText("Copied to the clipboard.")
