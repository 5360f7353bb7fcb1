"""The projection's target beside its result, with the PSNR of the two images as shown."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from ...latent.project import psnr_uint8
from .common import to_qimage


class ProjectionCompare(QWidget):
    """Two images side by side (target | result, nearest-neighbour enlarged) and a PSNR line
    computed on exactly those 8-bit arrays."""

    def __init__(self, size: int = 112, parent: QWidget | None = None):
        super().__init__(parent)
        self._size = size
        self.target: np.ndarray | None = None     # [H, W, 3] uint8, as shown
        self.result: np.ndarray | None = None
        self.psnr: float | None = None
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.target_label, self.result_label = QLabel(), QLabel()
        for col, (lab, cap, tip) in enumerate(((self.target_label, "Target", "The photo, cropped and resized to "
                                                "the model"), (self.result_label, "Result", "G of the projected "
                                                                                            "latent"))):
            lab.setFixedSize(size, size)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setStyleSheet("QLabel { background: #28282c; }")
            lab.setToolTip(tip)
            caption = QLabel(cap)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(lab, 0, col)
            lay.addWidget(caption, 1, col)
        self.psnr_label = QLabel("PSNR —")
        self.psnr_label.setToolTip("Peak signal-to-noise ratio of the result against the target, on the "
                                   "8-bit images shown here (higher is closer)")
        lay.addWidget(self.psnr_label, 0, 2, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        lay.setColumnStretch(2, 1)

    def set_target(self, img: np.ndarray) -> None:
        self.target = np.ascontiguousarray(img, np.uint8)
        self.result = self.psnr = None
        self._show(self.target_label, self.target)
        self.result_label.clear()
        self.psnr_label.setText("PSNR —")

    def set_result(self, img: np.ndarray) -> None:
        self.result = np.ascontiguousarray(img, np.uint8)
        self._show(self.result_label, self.result)
        if self.target is not None:
            self.psnr = psnr_uint8(self.result, self.target)
            self.psnr_label.setText(f"PSNR {self.psnr:.2f} dB" if math.isfinite(self.psnr) else "PSNR ∞ (identical)")

    def _show(self, label: QLabel, img: np.ndarray) -> None:
        pm = QPixmap.fromImage(to_qimage(img)).scaled(self._size, self._size, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.FastTransformation)
        label.setPixmap(pm)
