"""The training wizard: from a folder of images to a model open in the explorer.

Pages: Data -> Model -> Budget & device -> Summary -> Training (live). Every check the
wizard shows comes from the trainer itself: the pages fill a `trainer.config.TrainConfig`
through the trainer's own flag parser and validate it in-process, the dataset is checked by
`python -m trainer ... --dry-run --json` in a child process (it decodes every image), and
training runs as the command the config renders (`TrainConfig.to_args()`) in a child process
followed through its `events.jsonl`; the wizard never trains in the app's process. The
catalogues (presets, losses, augmentations, sample datasets) are the trainer's.

    wizard = TrainWizard(main_window)
    wizard.openCheckpointRequested.connect(main_window.open_model)
    wizard.show()                  # or wizard.open_run(folder) to watch/resume an earlier run
"""
from __future__ import annotations

import json
import os
import shlex
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox,
                               QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QRadioButton,
                               QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
                               QWizard, QWizardPage)
from superqt.utils import create_worker

from trainer.__main__ import config_from_args
from trainer.config import AUGMENTS, LOSSES, PRESETS, TrainConfig
from trainer.data import SAMPLES, load_dataset

from ...runs.folder import holds_run
from ...session.run_events import load_history
from ...session.runs import is_run_dir, scan_runs
from ..training import controller as C
from ..training.command import dry_run_command, trainer_command
from ..training.controller import RunController
from ..training.live import TrainingMonitor, format_duration
from ..training.paths import default_runs_root, new_run_dir
from ..training.preview import LIMIT, Preview, load_preview
from ..training.process import DryRun

DATA_PAGE, MODEL_PAGE, BUDGET_PAGE, SUMMARY_PAGE, LIVE_PAGE = range(5)

# The catalogues come from the trainer (defined once there): presets, losses, augmentations
# and sample datasets. The wizard adds only its "preset default" entries.
LOSS_MENU = {"": ("Preset default", "Use the loss the preset was tuned with (non-saturating logistic)."),
             **LOSSES}
AUGMENT_MENU = {"": ("Preset default", "DCGAN presets use none; StyleGAN2 presets use ADA."), **AUGMENTS}

def _packaged_loader(name: str, limit: int) -> np.ndarray:
    """The first `limit` images of a sample dataset exactly as the trainer reads them.
    Runs in a worker thread (the trainer's data module: no Qt, no training)."""
    ds = load_dataset(name)
    return ds.images[:limit].numpy()


def _preview_job(generation: int, source: str) -> tuple[int, Preview]:
    """Worker-thread body: thumbnails for `source`, tagged with the request number."""
    return generation, load_preview(source, tuple(SAMPLES), _packaged_loader)


def _tip(widget: QWidget, text: str) -> QWidget:
    widget.setToolTip(text)
    return widget


def _note(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if style:
        label.setStyleSheet(style)
    return label


PROBLEM_STYLE = ("color: #b71c1c; background: #fdecea; border: 1px solid #e57373; "
                 "border-radius: 4px; padding: 6px;")
GOOD_STYLE = "color: #1b5e20; font-weight: bold;"
WARNING_STYLE = ("color: #5d4037; background: #fff8e1; border: 1px solid #ffca28; "
                 "border-radius: 4px; padding: 6px;")


# --------------------------------------------------------------------------- data page

class DataPage(QWizardPage):
    previewShown = Signal(int)     # thumbnails now shown for the current source

    def __init__(self, wizard: "TrainWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Data")
        self.setSubTitle("Choose the images to train on: a sample dataset, a folder or a zip archive. "
                         "The trainer checks them before anything starts.")
        self.report: dict[str, Any] | None = None     # dataset summary from the dry run
        self.error = ""                               # why the dry run failed, if it did
        self.checking = False
        self._preview_generation = 0

        self.sample_radio = _tip(QRadioButton("Sample dataset"), "Datasets that ship inside installed packages")
        self.folder_radio = _tip(QRadioButton("Folder"), "Every .png, .jpg and .webp below a folder")
        self.zip_radio = _tip(QRadioButton("Zip archive"), "Every .png, .jpg and .webp inside a .zip")
        self.kind_group = QButtonGroup(self)
        for i, radio in enumerate((self.sample_radio, self.folder_radio, self.zip_radio)):
            self.kind_group.addButton(radio, i)
        self.sample_combo = QComboBox()
        for name, sample in SAMPLES.items():
            self.sample_combo.addItem(f"{name} — {sample.description}", name)
            self.sample_combo.setItemData(self.sample_combo.count() - 1, sample.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("a folder of images or a .zip archive")
        self.path_edit.setToolTip("Folder or zip archive with the training images")
        self.browse_button = _tip(QPushButton("Browse…"), "Choose the folder or archive")
        self.browse_button.clicked.connect(self._browse)

        source = QGridLayout()
        kinds = QHBoxLayout()
        for radio in (self.sample_radio, self.folder_radio, self.zip_radio):
            kinds.addWidget(radio)
        kinds.addStretch(1)
        source.addLayout(kinds, 0, 0, 1, 2)
        source.addWidget(self.sample_combo, 1, 0, 1, 2)
        source.addWidget(self.path_edit, 2, 0)
        source.addWidget(self.browse_button, 2, 1)

        self.status = _note("")
        self.problems = _note("", PROBLEM_STYLE)
        self.problems.hide()
        self.warnings = _note("", WARNING_STYLE)     # trainable, but worth knowing
        self.warnings.hide()

        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbs.setIconSize(QSize(72, 72))
        self.thumbs.setGridSize(QSize(82, 82))
        self.thumbs.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.thumbs.setMovement(QListWidget.Movement.Static)
        self.thumbs.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.thumbs.setUniformItemSizes(True)
        self.thumbs.setToolTip(f"The first {LIMIT} images, as found")
        self.sizes = pg.PlotWidget()
        self.sizes.setBackground("w")
        self.sizes.setMenuEnabled(False)
        self.sizes.setMouseEnabled(False, False)
        self.sizes.hideButtons()
        self.sizes.setTitle("Image sizes", size="9pt")
        self.sizes.setLabel("left", "images")
        self.sizes.setMinimumWidth(220)
        self.sizes.setToolTip("How many images have each width×height; the trainer crops and "
                              "resizes them all to the model's resolution")
        self.no_thumbs = _note("", "color: palette(mid); background: palette(base); "
                                   "border: 1px solid palette(mid); padding: 12px;")
        self.no_thumbs.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_thumbs.hide()
        found = QHBoxLayout()
        found.addWidget(self.thumbs, 3)
        found.addWidget(self.no_thumbs, 3)
        found.addWidget(self.sizes, 1)

        self.runs_combo = QComboBox()
        self.runs_combo.setToolTip("Runs trained earlier, newest first")
        self.runs_combo.setMinimumContentsLength(30)
        self.open_run_button = _tip(QPushButton("Open run"),
                                    "Show this run's curves and samples; resume it if unfinished")
        self.open_run_button.clicked.connect(self._open_selected_run)
        self.browse_run_button = _tip(QPushButton("Other folder…"), "Open a run folder from anywhere")
        self.browse_run_button.clicked.connect(self._browse_run)
        earlier = QHBoxLayout()
        earlier.addWidget(QLabel("Or continue an earlier run:"))
        earlier.addWidget(self.runs_combo, 1)
        earlier.addWidget(self.open_run_button)
        earlier.addWidget(self.browse_run_button)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addWidget(self.status)
        layout.addWidget(self.problems)
        layout.addWidget(self.warnings)
        layout.addLayout(found, 1)
        layout.addWidget(line)
        layout.addLayout(earlier)

        self.dry_run = DryRun(self)
        self.dry_run.succeeded.connect(self._checked)
        self.dry_run.failed.connect(self._check_failed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.check)
        self.kind_group.idToggled.connect(self._kind_changed)
        self.sample_combo.currentIndexChanged.connect(self._source_changed)
        self.path_edit.textChanged.connect(self._source_changed)
        self._started = False        # the first check waits until the page is shown
        self.sample_radio.setChecked(True)
        self._kind_changed()

    # -- source ----------------------------------------------------------------

    def source(self) -> str:
        if self.sample_radio.isChecked():
            return self.sample_combo.currentData()
        return self.path_edit.text().strip()

    def set_source(self, source: str) -> None:
        """Select a sample name, folder or zip (as if the user had chosen it)."""
        if source in SAMPLES:
            self.sample_combo.setCurrentIndex(list(SAMPLES).index(source))
            self.sample_radio.setChecked(True)
        else:
            (self.zip_radio if source.lower().endswith(".zip") else self.folder_radio).setChecked(True)
            self.path_edit.setText(source)
        self.check()

    def _kind_changed(self, *_: object) -> None:
        sample = self.sample_radio.isChecked()
        self.sample_combo.setVisible(sample)
        self.path_edit.setVisible(not sample)
        self.browse_button.setVisible(not sample)
        self._source_changed()

    def _browse(self) -> None:
        start = self.path_edit.text() or str(Path.home())
        if self.zip_radio.isChecked():
            path, _ = QFileDialog.getOpenFileName(self, "Choose a zip archive of images", start,
                                                  "Zip archives (*.zip)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder of images", start)
        if path:
            self.path_edit.setText(path)

    def _source_changed(self, *_: object) -> None:
        self.report = None
        self.error = ""
        self.completeChanged.emit()
        if self._started:
            self._debounce.start()

    # -- checking ----------------------------------------------------------------

    def check(self) -> None:
        """Ask the trainer about the current source (dry run) and load thumbnails."""
        self._started = True
        self._debounce.stop()
        source = self.source()
        self.report = None
        self.error = ""
        self.thumbs.clear()
        self.thumbs.show()
        self.no_thumbs.hide()
        self.sizes.clear()
        self.problems.hide()
        self.warnings.hide()
        if not source:
            self.checking = False
            self.dry_run.cancel()
            self.status.setText("Choose a folder or a zip archive.")
            self.completeChanged.emit()
            return
        self.checking = True
        self.status.setText(f"Checking {source} with the trainer…")
        self.status.setStyleSheet("")
        self.completeChanged.emit()
        self.dry_run.request(dry_run_command(["--preset", "dcgan-32", "--data", source]))
        self._load_preview(source)

    def _load_preview(self, source: str) -> None:
        self._preview_generation += 1
        generation = self._preview_generation
        worker = create_worker(_preview_job, generation, source, _start_thread=False)
        # bound methods, not lambdas: Qt drops them if the page is gone when the thread ends
        worker.returned.connect(self._show_preview)
        worker.start()          # superqt keeps a running worker alive until it finishes

    def _show_preview(self, result: tuple[int, Preview]) -> None:
        generation, preview = result
        if generation != self._preview_generation:
            return          # an older request; the newest one wins
        self.thumbs.clear()
        self.thumbs.setVisible(bool(preview.images))
        self.no_thumbs.setVisible(not preview.images)
        self.no_thumbs.setText(preview.note or "No images could be shown.")
        for image, name in zip(preview.images, preview.names):
            item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), "")
            item.setToolTip(name)
            self.thumbs.addItem(item)
        self.previewShown.emit(len(preview.images))

    def _checked(self, report: dict) -> None:
        self.checking = False
        dataset = report.get("dataset") if isinstance(report.get("dataset"), dict) else {}
        self.report = dataset
        source = self.source()
        # the trainer names the source in each problem; it is already on screen above
        problems = [str(p).removeprefix(f"{source}: ") for p in dataset.get("problems") or []]
        count = int(dataset.get("count") or 0)
        if count == 0 and not problems:
            problems = ["No usable images were found."]
        if problems:
            self.problems.setText("This data cannot be trained on yet:\n" +
                                  "\n".join(f"• {p}" for p in problems))
            self.problems.show()
            self.status.setText("")
        else:
            self.problems.hide()
            channels = {1: "grey", 3: "colour"}.get(dataset.get("channels"), "")
            credit = dataset.get("credit") or ""
            self.status.setText(f"{count:,} images, {channels}. " +
                                (f"Credit: {credit}." if credit else ""))
            self.status.setStyleSheet(GOOD_STYLE)
        warnings = [str(w) for w in dataset.get("warnings") or []]
        self.warnings.setText("\n".join(f"⚠ {w[:1].upper()}{w[1:]}." for w in warnings))
        self.warnings.setVisible(bool(warnings))
        # The sizes of the readable images stay in view beside any problem: they often explain it.
        self._draw_sizes(dataset.get("size_histogram") or {})
        self.completeChanged.emit()

    def _check_failed(self, message: str) -> None:
        self.checking = False
        self.report = None
        self.error = message
        self.status.setText("")
        self.problems.setText("The trainer could not check this data:\n" + message)
        self.problems.show()
        self.completeChanged.emit()

    def _draw_sizes(self, histogram: dict[str, int]) -> None:
        self.sizes.clear()
        self.sizes.setVisible(bool(histogram))
        items = sorted(histogram.items(), key=lambda kv: -kv[1])
        shown = items[:8]
        if len(items) > 8:
            shown.append((f"{len(items) - 8} more", sum(v for _, v in items[8:])))
        if not shown:
            return
        xs = list(range(len(shown)))
        self.sizes.addItem(pg.BarGraphItem(x=xs, height=[v for _, v in shown], width=0.7,
                                           brush=(66, 133, 244)))
        self.sizes.getAxis("bottom").setTicks([[(x, k.replace("x", "×")) for x, (k, _) in zip(xs, shown)]])
        self.sizes.setXRange(-0.6, max(len(shown), 3) - 0.4, padding=0)
        self.sizes.setYRange(0, max(v for _, v in shown) * 1.1, padding=0)

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        if self.report is None or self.checking:
            return False
        return int(self.report.get("count") or 0) > 0 and not self.report.get("problems")

    # -- earlier runs ----------------------------------------------------------------

    def initializePage(self) -> None:  # noqa: N802
        self.refresh_runs()
        if self.report is None and not self.checking:
            self.check()

    def refresh_runs(self) -> None:
        """List earlier runs (read off the GUI thread: event logs can be long)."""
        self.runs_combo.clear()
        self.runs_combo.addItem("looking for earlier runs…")
        self.runs_combo.setEnabled(False)
        self.open_run_button.setEnabled(False)
        worker = create_worker(scan_runs, self.w.runs_root, _start_thread=False)
        worker.returned.connect(self._show_runs)
        worker.start()

    def _show_runs(self, runs: list) -> None:
        self.runs_combo.clear()
        for run in runs[:30]:
            total = f"/{run.total_kimg:g}" if run.total_kimg else ""
            self.runs_combo.addItem(f"{run.run_dir.name}  ({run.kimg:.1f}{total} kimg, {run.status})",
                                    str(run.run_dir))
        has = self.runs_combo.count() > 0
        self.runs_combo.setEnabled(has)
        self.open_run_button.setEnabled(has)
        if not has:
            self.runs_combo.addItem("no earlier runs yet")

    def _open_selected_run(self) -> None:
        folder = self.runs_combo.currentData()
        if folder:
            self.w.open_run(folder)

    def _browse_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a training run folder", str(self.w.runs_root))
        if folder:
            if is_run_dir(folder):
                self.w.open_run(folder)
            else:
                QMessageBox.warning(self, "Not a training run",
                                    f"{folder} holds no events.jsonl or config.json, so it is not a "
                                    "folder the trainer wrote.")


# --------------------------------------------------------------------------- model page

def recommend(dataset: dict[str, Any], has_gpu: bool) -> tuple[str, str, str]:
    """(preset, augment, reason) for a dataset summary from the dry run."""
    count = int(dataset.get("count") or 0)
    sizes = dataset.get("size_histogram") or {}
    sides = []
    for key, n in sizes.items():
        try:
            w, h = (int(v) for v in str(key).lower().split("x"))
            sides += [min(w, h)] * min(int(n), 1000)
        except ValueError:
            continue
    side = int(statistics.median(sides)) if sides else 64
    reasons = []
    if side <= 40:
        preset = "dcgan-32"
        reasons.append(f"The images are small (typically {side}×{side} pixels), so 32×32 keeps all "
                       "their detail.")
    elif not has_gpu:
        preset = "dcgan-64" if side >= 64 else "dcgan-32"
        reasons.append("There is no GPU: a DCGAN trains in minutes on a CPU, StyleGAN2 would take "
                       "hours.")
    else:
        preset = "stylegan2-64" if side < 128 or count < 5000 else \
            "stylegan2-128" if side < 256 or count < 20000 else "stylegan2-256"
        reasons.append(f"With a GPU and {side}-pixel images, StyleGAN2 gives the best images and "
                       "the richest controls in the explorer.")
    if count < 5000:
        augment = "ada"
        reasons.append(f"{count:,} images is a small dataset: adaptive augmentation keeps the "
                       "discriminator from memorising it.")
    elif count < 30000 and preset.startswith("stylegan2"):
        augment = "ada"
        reasons.append("Adaptive augmentation costs little and helps below ~30k images.")
    else:
        augment = "none"
        reasons.append(f"{count:,} images are enough to train without augmentation.")
    return preset, augment, " ".join(reasons)


class ModelPage(QWizardPage):
    def __init__(self, wizard: "TrainWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Model")
        self.setSubTitle("Which network to train, with which loss and augmentation.")
        self.recommended: tuple[str, str, str] | None = None
        self._recommended_for: dict | None = None

        self.recommendation = _note("", "background: #e8f4fd; color: #0d47a1; border: 1px solid "
                                        "#90caf9; border-radius: 4px; padding: 6px;")
        self.use_button = _tip(QPushButton("Use recommendation"), "Set preset and augmentation as recommended")
        self.use_button.clicked.connect(self.apply_recommendation)
        rec = QHBoxLayout()
        rec.addWidget(self.recommendation, 1)
        rec.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignTop)

        self.preset_combo = QComboBox()
        for key, preset in PRESETS.items():
            self.preset_combo.addItem(f"{preset.label}   ({key})", key)
        self.preset_combo.setToolTip("Network architecture and resolution (the trainer's --preset)")
        self.loss_combo = QComboBox()
        for key, (label, _) in LOSS_MENU.items():
            self.loss_combo.addItem(label, key)
        self.loss_combo.setToolTip("Adversarial loss (--loss)")
        self.augment_combo = QComboBox()
        for key, (label, _) in AUGMENT_MENU.items():
            self.augment_combo.addItem(label, key)
        self.augment_combo.setToolTip("Augmentation of the images D sees (--augment)")
        self.xflip_check = QCheckBox("Mirror images left–right (x-flip)")
        self.xflip_check.setToolTip("Doubles the data for symmetric subjects (faces, objects); "
                                    "wrong for digits and text (--xflip)")
        self.preset_help, self.loss_help, self.augment_help = _note(), _note(), _note()
        for label in (self.preset_help, self.loss_help, self.augment_help):
            label.setStyleSheet("color: palette(dark); margin-bottom: 8px;")

        form = QFormLayout()
        form.addRow("Preset:", self.preset_combo)
        form.addRow("", self.preset_help)
        form.addRow("Loss:", self.loss_combo)
        form.addRow("", self.loss_help)
        form.addRow("Augmentation:", self.augment_combo)
        form.addRow("", self.augment_help)
        form.addRow("", self.xflip_check)
        layout = QVBoxLayout(self)
        layout.addLayout(rec)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addStretch(1)

        self.preset_combo.currentIndexChanged.connect(self._explain)
        self.loss_combo.currentIndexChanged.connect(self._explain)
        self.augment_combo.currentIndexChanged.connect(self._explain)
        self._explain()

    def initializePage(self) -> None:  # noqa: N802
        dataset = self.w.data_page.report or {}
        if self.recommended is not None and dataset is self._recommended_for:
            return      # back and forth: keep what the user chose
        self._recommended_for = dataset
        self.recommended = recommend(dataset, bool(self.w.gpus()))
        preset, augment, reason = self.recommended
        self.recommendation.setText(f"Recommended: {PRESETS[preset].label} with "
                                    f"{AUGMENT_MENU[augment][0].lower()} augmentation. {reason}")
        self.apply_recommendation()

    def apply_recommendation(self) -> None:
        if self.recommended is None:
            return
        preset, augment, _ = self.recommended
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(preset))
        self.augment_combo.setCurrentIndex(self.augment_combo.findData(augment))

    def _explain(self, *_: object) -> None:
        self.preset_help.setText(PRESETS[self.preset_combo.currentData()].about)
        self.loss_help.setText(LOSS_MENU[self.loss_combo.currentData()][1])
        self.augment_help.setText(AUGMENT_MENU[self.augment_combo.currentData()][1])


# --------------------------------------------------------------------------- budget page

def list_devices() -> list[tuple[str, str, tuple[int, ...]]]:
    """(label, --device value, CUDA indices) for CPU, each GPU and all GPUs together."""
    cores = os.cpu_count() or 1
    devices = [(f"CPU ({cores} cores)", "cpu", ())]
    try:
        import torch   # already loaded by the app for rendering
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        gpus = []
        for i in range(n):
            props = torch.cuda.get_device_properties(i)
            gpus.append((f"GPU {i}: {props.name} ({props.total_memory / 2**30:.0f} GB)", "cuda", (i,)))
    except Exception:   # noqa: BLE001 — a broken CUDA install must not hide the CPU
        gpus = []
    devices = gpus + devices
    if len(gpus) >= 2:
        devices.insert(len(gpus), (f"All {len(gpus)} GPUs (torchrun, data parallel)", "cuda",
                                   tuple(range(len(gpus)))))
    return devices


class BudgetPage(QWizardPage):
    def __init__(self, wizard: "TrainWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Budget and device")
        self.setSubTitle("How long to train, with which batch size, on which device.")
        self.devices: list[tuple[str, str, tuple[int, ...]]] = []
        self._measured: dict[tuple[str, str], tuple[float, str] | None] = {}

        self.kimg_radio = _tip(QRadioButton("Images shown (kimg)"),
                               "Train until D has seen this many thousand real images (--kimg)")
        self.minutes_radio = _tip(QRadioButton("Time (minutes)"),
                                  "Convert a wall-clock budget into kimg from the estimated speed")
        self.kimg_spin = QDoubleSpinBox()
        self.kimg_spin.setRange(0.05, 1_000_000)
        self.kimg_spin.setDecimals(2)
        self.kimg_spin.setValue(50)
        self.kimg_spin.setSuffix(" kimg")
        self.kimg_spin.setToolTip("Thousands of real images; ~100–1000 for a usable DCGAN, "
                                  "thousands for StyleGAN2")
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(0.5, 60 * 24 * 14)
        self.minutes_spin.setValue(30)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setToolTip("Wall-clock minutes; converted into kimg at the estimated speed")
        self.length_group = QButtonGroup(self)
        self.length_group.addButton(self.kimg_radio)
        self.length_group.addButton(self.minutes_radio)
        self.kimg_radio.setChecked(True)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(0, 4096)
        self.batch_spin.setSpecialValueText("preset default")
        self.batch_spin.setToolTip("Images per optimiser step, over all GPUs (--batch); "
                                   "larger is faster per image but needs more memory")
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Where to train; several GPUs run through torchrun")
        self.estimate = _note("", "background: #f1f3f4; border-radius: 4px; padding: 6px;")
        self.out_edit = QLineEdit()
        self.out_edit.setToolTip("The run folder: config, events.jsonl, checkpoints, sample grids")
        self.out_button = _tip(QPushButton("Browse…"), "Choose where to write the run")
        self.out_button.clicked.connect(self._browse_out)
        self.extra_edit = QLineEdit()
        self.extra_edit.setPlaceholderText("e.g. --snap-kimg 2 --metric-kimg 10 --seed 1")
        self.extra_edit.setToolTip("More trainer flags, passed through as typed (python -m trainer --help)")

        length = QGridLayout()
        length.addWidget(self.kimg_radio, 0, 0)
        length.addWidget(self.kimg_spin, 0, 1)
        length.addWidget(self.minutes_radio, 1, 0)
        length.addWidget(self.minutes_spin, 1, 1)
        length.setColumnStretch(2, 1)
        length_box = QGroupBox("Length")
        length_box.setLayout(length)
        out = QHBoxLayout()
        out.addWidget(self.out_edit, 1)
        out.addWidget(self.out_button)
        for spin in (self.kimg_spin, self.minutes_spin, self.batch_spin):
            spin.setMinimumWidth(150)
            spin.setMaximumWidth(200)
        form = QFormLayout()
        form.addRow("Batch size:", self.batch_spin)
        form.addRow("Device:", self.device_combo)
        form.addRow("Run folder:", out)
        form.addRow("Extra flags:", self.extra_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(length_box)
        layout.addLayout(form)
        layout.addWidget(self.estimate)
        layout.addStretch(1)

        for signal in (self.kimg_spin.valueChanged, self.minutes_spin.valueChanged,
                       self.batch_spin.valueChanged, self.device_combo.currentIndexChanged,
                       self.length_group.buttonToggled):
            signal.connect(self._update_estimate)
        self.out_problem = _note("", PROBLEM_STYLE)
        self.out_problem.hide()
        layout.insertWidget(layout.indexOf(self.estimate) + 1, self.out_problem)
        self.extra_edit.textChanged.connect(self._check_inputs)
        self.out_edit.textChanged.connect(self._check_inputs)

    def _check_inputs(self, *_: object) -> None:
        problem = self.input_problem()
        self.out_problem.setText(problem)
        self.out_problem.setVisible(bool(problem))
        self.completeChanged.emit()

    def input_problem(self) -> str:
        """Why the run cannot start with these inputs, in words ('' when it can)."""
        out = self.out_edit.text().strip()
        if not out:
            return "Choose a run folder."
        path = Path(out).expanduser()
        if path.is_dir() and holds_run(path):      # the trainer's own --out rule
            return (f"{path} already holds a training run. Choose a new folder, or open that run "
                    "from the first page to resume it.")
        if path.exists() and not path.is_dir():
            return f"{path} is a file, not a folder."
        try:
            shlex.split(self.extra_edit.text())
        except ValueError as e:
            return f"Extra flags: {e} (check the quotes)."
        try:
            self.w.config(self)
        except ValueError as e:     # the trainer's own parser, in-process
            return f"Extra flags: {e}."
        return ""

    def initializePage(self) -> None:  # noqa: N802
        self._measured.clear()
        if not self.devices:
            self.devices = self.w.devices()
            for label, _, _ in self.devices:
                self.device_combo.addItem(label)
        if not self.out_edit.text():
            self.out_edit.setText(str(new_run_dir(self.w.runs_root, self.w.model_page.preset_combo.currentData(),
                                                  self.w.data_page.source())))
        self._update_estimate()
        self._check_inputs()

    def device(self) -> tuple[str, str, tuple[int, ...]]:
        i = self.device_combo.currentIndex()
        return self.devices[i] if 0 <= i < len(self.devices) else ("CPU", "cpu", ())

    def _browse_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to create the run in", str(self.w.runs_root))
        if folder:
            preset = self.w.model_page.preset_combo.currentData()
            self.out_edit.setText(str(new_run_dir(Path(folder), preset, self.w.data_page.source())))

    def speed(self) -> tuple[float, str]:
        """(img/s, where the figure comes from) for the chosen preset and device."""
        preset = self.w.model_page.preset_combo.currentData()
        _, device, gpus = self.device()
        key = (preset, device)
        if key not in self._measured:      # reads earlier runs' events once per choice
            self._measured[key] = measured_speed(self.w.runs_root, preset, device)
        measured = self._measured[key]
        if measured is not None:
            speed, run = measured
            return speed * max(1, len(gpus)), f"measured in your run {run}"
        if device == "cpu":
            return PRESETS[preset].rough_img_per_s["cpu"] * (os.cpu_count() or 1) / 4, \
                "a rough figure for this CPU (no earlier run to measure from)"
        return PRESETS[preset].rough_img_per_s["cuda"] * max(1, len(gpus)), \
            "a rough figure for a recent GPU (no earlier run to measure from)"

    def kimg(self) -> float:
        if self.minutes_radio.isChecked():
            speed, _ = self.speed()
            return max(0.05, round(self.minutes_spin.value() * 60 * speed / 1000, 2))
        return self.kimg_spin.value()

    def _update_estimate(self, *_: object) -> None:
        speed, source = self.speed()
        kimg = self.kimg()
        seconds = kimg * 1000 / speed if speed > 0 else float("nan")
        if self.minutes_radio.isChecked():
            self.estimate.setText(f"At about {speed:,.0f} images/s ({source}), "
                                  f"{self.minutes_spin.value():g} minutes is about {kimg:g} kimg.")
        else:
            self.estimate.setText(f"Estimated time: {format_duration(seconds)} at about {speed:,.0f} "
                                  f"images/s ({source}). The live page shows the real speed and ETA.")

    def extra_args(self) -> list[str]:
        try:
            return shlex.split(self.extra_edit.text())
        except ValueError:
            return []

    def isComplete(self) -> bool:  # noqa: N802
        return not self.input_problem()


def measured_speed(root: Path, preset: str, device: str) -> tuple[float, str] | None:
    """Median img/s of the newest earlier run with the same preset on the same kind of device."""
    for run in scan_runs(root)[:20]:
        if run.preset != preset:
            continue
        history = load_history(run.run_dir)
        if str(history.config.get("device", "auto")) not in (device, "auto"):
            continue
        values = history.img_per_s.value[1:] or history.img_per_s.value   # the first tick warms up
        values = [v for v in values if v > 0]
        if values:
            return statistics.median(values), run.run_dir.name
    return None


# --------------------------------------------------------------------------- summary page

class SummaryPage(QWizardPage):
    def __init__(self, wizard: "TrainWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Summary")
        self.setSubTitle("What the trainer will do, resolved by the trainer itself (--dry-run).")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Start training")
        self.report: dict[str, Any] | None = None
        self.error = ""

        self.status = _note("")
        self.problems = _note("", PROBLEM_STYLE)
        self.problems.hide()
        self.config_tree = QTreeWidget()
        self.config_tree.setHeaderLabels(["setting", "value"])
        self.config_tree.setRootIsDecorated(False)
        self.config_tree.setAlternatingRowColors(True)
        self.config_tree.setToolTip("The resolved TrainConfig the trainer will save as config.json")
        self.out_label = _note("")
        self.out_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command_edit = QLineEdit()
        self.command_edit.setReadOnly(True)
        self.command_edit.setToolTip("The same training from a terminal")
        self.copy_button = _tip(QPushButton("Copy"), "Copy the command line to the clipboard")
        self.copy_button.clicked.connect(self._copy)
        command = QHBoxLayout()
        command.addWidget(self.command_edit, 1)
        command.addWidget(self.copy_button)
        form = QFormLayout()
        form.addRow("Run folder:", self.out_label)
        form.addRow("Command line:", command)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.problems)
        layout.addWidget(self.config_tree, 1)
        layout.addLayout(form)

        self.dry_run = DryRun(self)
        self.dry_run.succeeded.connect(self._checked)
        self.dry_run.failed.connect(self._failed)

    def initializePage(self) -> None:  # noqa: N802
        self.report = None
        self.error = ""
        self.config_tree.clear()
        self.problems.hide()
        try:
            cfg, gpus = self.w.config()
        except ValueError as e:
            self._failed(str(e))
            return
        command = trainer_command(cfg.to_args(), gpus)
        self.command_edit.setText(command.shell())
        self.command_edit.setCursorPosition(0)
        self.out_label.setText(cfg.out)
        problems = cfg.validate()         # the trainer's validation, in-process: at once
        if problems:
            self._failed("\n".join(f"• {p}" for p in problems))
            return
        # The dataset check loads every image: the trainer does it in its own process.
        self.status.setText("Asking the trainer to check the data with this configuration…")
        self.status.setStyleSheet("")
        self.dry_run.request(dry_run_command(cfg.to_args()))
        self.completeChanged.emit()

    def cleanupPage(self) -> None:  # noqa: N802
        self.dry_run.cancel()

    def _checked(self, report: dict) -> None:
        self.report = report
        dataset = report.get("dataset") or {}
        problems = list(dataset.get("problems") or []) + list(report.get("problems") or [])
        config = report.get("config") or {}
        for key, value in config.items():
            text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
            QTreeWidgetItem(self.config_tree, [key, text])
        self.config_tree.resizeColumnToContents(0)
        if problems:
            self.problems.setText("The trainer refuses this configuration:\n" +
                                  "\n".join(f"• {p}" for p in problems))
            self.problems.show()
            self.status.setText("")
        else:
            self.status.setText(f"Ready: {dataset.get('count', 0):,} images at "
                                f"{dataset.get('resolution', '?')}×{dataset.get('resolution', '?')}, "
                                f"{config.get('kimg', '?')} kimg in batches of {config.get('batch', '?')}.")
            self.status.setStyleSheet(GOOD_STYLE)
        self.completeChanged.emit()

    def _failed(self, message: str) -> None:
        self.report = None
        self.error = message
        self.status.setText("")
        self.problems.setText("The trainer refuses this configuration:\n" + message)
        self.problems.show()
        self.completeChanged.emit()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.command_edit.text())

    def isComplete(self) -> bool:  # noqa: N802
        if self.report is None:
            return False
        dataset = self.report.get("dataset") or {}
        return not dataset.get("problems") and not self.report.get("problems")


# --------------------------------------------------------------------------- live page

class LivePage(QWizardPage):
    def __init__(self, wizard: "TrainWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Training")
        self.monitor = TrainingMonitor()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.monitor)
        self.setFinalPage(True)

    def initializePage(self) -> None:  # noqa: N802
        if self.w.controller is None:
            self.w.start_training()

    def show_run(self, controller: RunController) -> None:
        self.setSubTitle(f"Run folder: {controller.run_dir}")
        self.monitor.set_controller(controller)


# --------------------------------------------------------------------------- the wizard

class TrainWizard(QWizard):
    """Train a model from a folder of images, watch it learn, open it in the explorer."""

    openCheckpointRequested = Signal(str)   # path of a native EMA checkpoint (.safetensors)
    checkpointSaved = Signal(str)           # the trainer wrote a new checkpoint: refresh model pickers

    def __init__(self, parent: QWidget | None = None, runs_root: str | os.PathLike | None = None) -> None:
        super().__init__(parent)
        self.runs_root = Path(runs_root) if runs_root is not None else default_runs_root()
        self.controller: RunController | None = None
        self._devices: list | None = None
        self._close_when_idle = False
        self.setWindowTitle("Train a model")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Close")
        self.data_page = DataPage(self)
        self.model_page = ModelPage(self)
        self.budget_page = BudgetPage(self)
        self.summary_page = SummaryPage(self)
        self.live_page = LivePage(self)
        for page_id, page in ((DATA_PAGE, self.data_page), (MODEL_PAGE, self.model_page),
                              (BUDGET_PAGE, self.budget_page), (SUMMARY_PAGE, self.summary_page),
                              (LIVE_PAGE, self.live_page)):
            self.setPage(page_id, page)
        self.setStartId(DATA_PAGE)
        self.live_page.monitor.openCheckpointRequested.connect(self.openCheckpointRequested)
        self.resize(1000, 760)

    # -- what the pages share ------------------------------------------------------

    def devices(self) -> list[tuple[str, str, tuple[int, ...]]]:
        if self._devices is None:
            self._devices = list_devices()
        return self._devices

    def gpus(self) -> list[int]:
        return sorted({i for _, _, ids in self.devices() for i in ids})

    def config(self, budget: "BudgetPage | None" = None) -> tuple[TrainConfig, tuple[int, ...]]:
        """The TrainConfig the pages describe right now, and the GPUs to run it on.
        Resolved by the trainer's own parser (the extra flags too); ValueError names a bad flag."""
        model, budget = self.model_page, budget or self.budget_page
        _, device, gpus = budget.device() if budget.devices else ("", "auto", ())
        args = ["--preset", model.preset_combo.currentData(), "--data", self.data_page.source(),
                "--kimg", repr(float(budget.kimg())), "--device", "cuda" if gpus else device]
        if budget.batch_spin.value():
            args += ["--batch", str(budget.batch_spin.value())]
        if model.loss_combo.currentData():
            args += ["--loss", model.loss_combo.currentData()]
        if model.augment_combo.currentData():
            args += ["--augment", model.augment_combo.currentData()]
        if model.xflip_check.isChecked():
            args.append("--xflip")
        out = budget.out_edit.text().strip()
        if out:
            args += ["--out", str(Path(out).expanduser())]
        return config_from_args(args + budget.extra_args()), tuple(gpus)

    # -- runs --------------------------------------------------------------------------

    def start_training(self) -> RunController:
        """Start the trainer with the current options and show it on the live page."""
        cfg, gpus = self.config()
        controller = RunController(cfg.out, self)
        self._set_controller(controller)
        controller.start(cfg.to_args(), gpus)
        return controller

    def open_run(self, folder: str | os.PathLike) -> RunController:
        """Show an earlier run on the live page (curves rebuilt from its events.jsonl);
        Resume continues it with the trainer's --resume when it did not finish."""
        if self.controller is not None and self.controller.is_active():
            raise RuntimeError("a training is running in this wizard; stop it first")
        controller = RunController(Path(folder), self)
        _, device, gpus = self.budget_page.device() if self.budget_page.devices else ("", "auto", ())
        controller.trainer_args = ["--device", device] if device != "auto" else []
        controller.gpus = gpus
        controller.attach()             # history rebuilt before the live page first draws it
        self._set_controller(controller)
        self.setStartId(LIVE_PAGE)
        self.restart()
        return controller

    def _set_controller(self, controller: RunController) -> None:
        old, self.controller = self.controller, controller
        if old is not None:
            old.tailer.stop()
            old.deleteLater()
        controller.stateChanged.connect(self._state_changed)
        controller.eventsApplied.connect(self._new_events)
        self.live_page.show_run(controller)

    def _new_events(self, events: list) -> None:
        ctl = self.controller
        if ctl is None:
            return
        for e in events:
            if e.get("type") == "checkpoint":
                path = ctl.history.resolve(e.get("path"))
                if path is not None and path.is_file():
                    self.checkpointSaved.emit(str(path))

    def _state_changed(self, state: str) -> None:
        if self._close_when_idle and state not in C.ACTIVE:
            self._close_when_idle = False
            super().done(QWizard.DialogCode.Accepted)

    # -- closing ---------------------------------------------------------------------

    def done(self, result: int) -> None:
        ctl = self.controller
        if ctl is not None and ctl.is_active():
            answer = QMessageBox.question(
                self, "Training is running",
                "Training is still running. Stop it and close? The trainer saves a checkpoint "
                "first; you can resume the run later from “Train a model…”.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._close_when_idle = True
            if ctl.state == C.RUNNING:
                ctl.stop()
            return
        if ctl is not None:
            ctl.tailer.stop()
        self.data_page.dry_run.cancel()
        self.summary_page.dry_run.cancel()
        super().done(result)
