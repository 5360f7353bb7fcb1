"""Thumbnails of a dataset for the wizard's data page, read off the GUI thread.

Folders and zip archives: the first images in the trainer's own order (sorted, recursive,
hidden files skipped), decoded at thumbnail size with QImageReader, which is safe outside
the GUI thread. Packaged sample datasets: the images the trainer itself will train on,
from a loader function the wizard passes in (the trainer's data module).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader, QPainter

from trainer.data import folder_images, zip_images   # the trainer's own listing and order

THUMB = 72          # thumbnail side in pixels
LIMIT = 60          # thumbnails shown at most

# name -> uint8 array [N, C, H, W] (C = 1 or 3) of at least the first few images
PackagedLoader = Callable[[str, int], np.ndarray]


@dataclass
class Preview:
    source: str
    images: list[QImage] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    note: str = ""      # why nothing could be shown, if so


def _fit(size: QSize) -> QSize:
    if size.isEmpty():
        return QSize(THUMB, THUMB)
    return size.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)


def square_thumbnail(image: QImage) -> QImage:
    """`image` fitted into a THUMB x THUMB transparent square, centred, aspect ratio kept.

    Every thumbnail has the same square size, so an icon view never stretches a wide or
    tall image into a strip; tiny images are blown up with crisp pixels."""
    smooth = max(image.width(), image.height()) >= THUMB
    fitted = image.scaled(_fit(image.size()), Qt.AspectRatioMode.KeepAspectRatio,
                          Qt.TransformationMode.SmoothTransformation if smooth
                          else Qt.TransformationMode.FastTransformation)
    out = QImage(THUMB, THUMB, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)          # painting on a QImage is safe outside the GUI thread
    painter.drawImage((THUMB - fitted.width()) // 2, (THUMB - fitted.height()) // 2, fitted)
    painter.end()
    return out


def _read(reader: QImageReader) -> QImage | None:
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > THUMB:
        reader.setScaledSize(_fit(size))     # decode at thumbnail size (also bounds memory)
    image = reader.read()
    if image.isNull():
        return None
    return square_thumbnail(image)


def _folder(root: Path, limit: int) -> Preview:
    out = Preview(str(root))
    files = folder_images(root)
    for path in files[:limit]:
        image = _read(QImageReader(str(path)))
        if image is not None:
            out.images.append(image)
            out.names.append(str(path.relative_to(root)))
    if not files:
        out.note = "No .png, .jpg or .webp files in this folder."
    return out


def _zip(path: Path, limit: int) -> Preview:
    out = Preview(str(path))
    try:
        with zipfile.ZipFile(path) as zf:
            names = zip_images(zf.namelist())
            for name in names[:limit]:
                buffer = QBuffer()
                buffer.setData(QByteArray(zf.read(name)))
                buffer.open(QIODevice.OpenModeFlag.ReadOnly)
                image = _read(QImageReader(buffer))
                if image is not None:
                    out.images.append(image)
                    out.names.append(name)
    except (zipfile.BadZipFile, OSError) as e:
        out.note = f"The archive could not be read: {e}"
        return out
    if not names:
        out.note = "No .png, .jpg or .webp files in this archive."
    return out


def array_to_qimage(a: np.ndarray) -> QImage:
    """[C, H, W] uint8 (C = 1 or 3) -> a QImage that owns its pixels."""
    c, h, w = a.shape
    if c == 1:
        data = np.ascontiguousarray(a[0])
        image = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        data = np.ascontiguousarray(a[:3].transpose(1, 2, 0))
        image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return square_thumbnail(image.copy())


def _packaged(name: str, limit: int, loader: PackagedLoader) -> Preview:
    out = Preview(name)
    images = loader(name, limit)
    for i, a in enumerate(images[:limit]):
        out.images.append(array_to_qimage(np.asarray(a, dtype=np.uint8)))
        out.names.append(f"{name} #{i}")
    return out


def load_preview(source: str, packaged: tuple[str, ...], loader: PackagedLoader | None,
                 limit: int = LIMIT) -> Preview:
    """Thumbnails for `source`; never raises (a reason lands in `note`)."""
    try:
        if source in packaged:
            if loader is None:
                return Preview(source, note="No preview for sample datasets.")
            return _packaged(source, limit, loader)
        path = Path(source).expanduser()
        if path.is_dir():
            return _folder(path, limit)
        if path.is_file() and path.suffix.lower() == ".zip":
            return _zip(path, limit)
        return Preview(source, note="Choose a folder, a .zip archive or a sample dataset.")
    except Exception as e:   # noqa: BLE001 — a preview must never take the page down
        return Preview(source, note=f"No preview: {e}")
