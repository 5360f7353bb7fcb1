"""The live view of a training run: curves, numbers, the newest sample grid, the log,
and the buttons that pause, resume, stop and open the result.

It only observes a `RunController`; everything it shows comes from `events.jsonl` (through
the controller's `RunHistory`) and from the trainer's output, so the same widget shows a
run being trained now and a run reopened from its folder.
"""
from __future__ import annotations

import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QPixmap, QTextCursor
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QInputDialog, QLabel, QPlainTextEdit,
                               QProgressBar, QPushButton, QSizePolicy, QSplitter, QVBoxLayout,
                               QWidget)

from ...session.run_events import ema_smooth
from . import controller as C
from .controller import RunController

# One colour per curve; the raw values are drawn in the same colour, faint, behind.
CURVE_COLOURS = {"loss_G": (31, 119, 180), "loss_D": (214, 39, 40), "loss_r1": (44, 160, 44),
                 "loss_gp": (148, 103, 189), "loss_pl": (255, 127, 14)}
EXTRA_COLOURS = [(140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
LABELS = {"loss_G": "G", "loss_D": "D", "loss_r1": "R1", "loss_r2": "R2", "loss_gp": "GP", "loss_pl": "PL"}
REDRAW_MS = 100      # curves are redrawn at most this often


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {m:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def smoothing_weight(n: int) -> float:
    """More smoothing for longer curves: ~the last 5% of points dominate."""
    if n < 8:
        return 0.0
    return min(0.95, 1.0 - 1.0 / max(2.0, 0.05 * n))


class LogView(QPlainTextEdit):
    """Process output with progress-bar lines (carriage returns) rewritten in place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        self.setFont(font)
        self._partial = ""          # the unfinished last line currently shown

    def append_text(self, text: str) -> None:
        text = self._partial + text.replace("\r\n", "\n")
        lines = text.split("\n")
        last = lines.pop()
        done = [line.split("\r")[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r") for line in lines]
        if "\r" in last:
            # keep the newest progress state; an empty tail after \r means "more is coming"
            pieces = [p for p in last.split("\r") if p]
            last = pieces[-1] if pieces else ""
        at_bottom = self.verticalScrollBar().value() >= self.verticalScrollBar().maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()        # the previously shown partial line (or nothing)
        cursor.insertText("\n".join(done + [last]))
        self._partial = last
        if at_bottom:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def text(self) -> str:
        return self.toPlainText()


class GridView(QLabel):
    """The newest sample grid, fitted to the space it has: integer up-scaling keeps small
    samples crisp, down-scaling is smooth. Rescales itself whenever its size changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("No sample grid yet", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(160, 160))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #202124; color: #bbb; border-radius: 3px;")
        self.source: QPixmap | None = None

    def set_source(self, pixmap: QPixmap | None) -> None:
        self.source = pixmap
        if pixmap is None:
            self.setPixmap(QPixmap())
            self.setText("No sample grid yet")
        self._fit()

    def _fit(self) -> None:
        pm = self.source
        if pm is None or pm.isNull():
            return
        w, h = self.width() - 4, self.height() - 4
        factor = min(w / pm.width(), h / pm.height())
        if factor >= 2:
            k = int(factor)
            scaled = pm.scaled(pm.width() * k, pm.height() * k, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.FastTransformation)
        else:
            scaled = pm.scaled(max(1, w), max(1, h), Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(scaled)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._fit()


class Banner(QFrame):
    """A coloured message strip with optional buttons, hidden until needed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QHBoxLayout()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.label, 1)
        layout.addLayout(self.buttons)
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        colours = {"error": ("#fdecea", "#b71c1c"), "info": ("#e8f4fd", "#0d47a1"),
                   "ok": ("#e9f6ec", "#1b5e20"), "warning": ("#fff8e1", "#6d4c00")}[kind]
        self.setStyleSheet(f"#banner {{ background: {colours[0]}; border: 1px solid {colours[1]};"
                           f" border-radius: 4px; }} #banner QLabel {{ color: {colours[1]}; }}")
        self.label.setText(text)
        self.show()


class TrainingMonitor(QWidget):
    """Live page content for one run."""

    openCheckpointRequested = Signal(str)   # an EMA checkpoint path
    curvesUpdated = Signal(int)             # number of tick points now drawn

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller: RunController | None = None
        self._connections: list = []
        self._curve_items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._shown_grid: tuple[float, Path] | None = None
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.refresh)
        self._build()

    # -- layout ------------------------------------------------------------------

    def _build(self) -> None:
        pg.setConfigOptions(antialias=True)
        self.banner = Banner()
        self.warning_banner = Banner()      # the trainer's "warning" events: a diverging run
        self.open_last_button = QPushButton("Open last checkpoint")
        self.open_last_button.setToolTip("Open the newest checkpoint that was saved completely")
        self.open_last_button.clicked.connect(self._open_last)
        self.resume_last_button = QPushButton("Resume from it")
        self.resume_last_button.setToolTip("Start the trainer again from that checkpoint (--resume)")
        self.resume_last_button.clicked.connect(self._resume)
        self.banner.buttons.addWidget(self.open_last_button)
        self.banner.buttons.addWidget(self.resume_last_button)

        self.state_label = QLabel("—")
        bold = self.state_label.font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.15)
        self.state_label.setFont(bold)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("0 / ? kimg")
        self.kimg_label, self.speed_label, self.eta_label, self.step_label, self.fid_label = (
            QLabel("—") for _ in range(5))
        stats = QGridLayout()
        stats.setHorizontalSpacing(14)
        for col, (name, label, tip) in enumerate((
                ("kimg", self.kimg_label, "Thousands of real images shown to the discriminator"),
                ("img/s", self.speed_label, "Training speed, real images per second"),
                ("ETA", self.eta_label, "Estimated time left, from the trainer"),
                ("step", self.step_label, "Optimiser steps so far"),
                ("FID", self.fid_label, "Newest Fréchet Inception Distance (lower is better)"))):
            title = QLabel(name)
            title.setStyleSheet("color: palette(mid);")
            title.setToolTip(tip)
            label.setToolTip(tip)
            stats.addWidget(title, 0, col)
            stats.addWidget(label, 1, col)
        top = QHBoxLayout()
        top.addWidget(self.state_label)
        top.addSpacing(12)
        top.addLayout(stats)
        top.addSpacing(12)
        top.addWidget(self.progress, 1)

        self.loss_plot = pg.PlotWidget()
        self.loss_plot.setBackground("w")
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.setLabel("bottom", "kimg")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.15)
        self.loss_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.loss_plot.setMinimumHeight(160)
        self.loss_plot.getPlotItem().setDownsampling(auto=True, mode="peak")  # long runs stay cheap
        self.loss_plot.getPlotItem().setClipToView(True)
        self.loss_plot.setToolTip("Losses: bold lines are smoothed, faint lines are the raw values")
        self.fid_plot = pg.PlotWidget()
        self.fid_plot.setBackground("w")
        self.fid_plot.setLabel("left", "FID")
        self.fid_plot.setLabel("bottom", "kimg")
        self.fid_plot.showGrid(x=True, y=True, alpha=0.15)
        self.fid_plot.setMinimumHeight(90)
        self.fid_plot.setToolTip("FID against the training set, as the trainer measures it")
        self.fid_curve = self.fid_plot.plot([], [], pen=pg.mkPen((106, 61, 154), width=2),
                                            symbol="o", symbolSize=7, symbolBrush=(106, 61, 154))
        self.fid_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.fid_plot):
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
        self.fid_plot.hide()     # shown with the first metric event
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.fid_plot)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 1)

        self.grid_label = GridView()
        self.grid_label.setToolTip("Samples from fixed latents: the same z at every grid")
        self.grid_caption = QLabel("")
        self.grid_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.grid_label, 1)
        rl.addWidget(self.grid_caption)

        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(plots)
        middle.addWidget(right)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        middle.setSizes([600, 380])

        self.log = LogView()
        self.log.setToolTip("What the trainer prints (stdout and stderr)")
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(middle)
        vertical.addWidget(self.log)
        vertical.setStretchFactor(0, 4)
        vertical.setStretchFactor(1, 1)
        vertical.setSizes([420, 120])

        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Save a checkpoint and stop the trainer; Resume continues from it")
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Save a checkpoint and end the training")
        self.stop_button.clicked.connect(self._stop)
        self.extend_button = QPushButton("Train longer…")
        self.extend_button.setToolTip("Continue this run from its newest checkpoint to a larger kimg")
        self.extend_button.clicked.connect(self._ask_extend)
        self.open_button = QPushButton("Open in explorer")
        self.open_button.setToolTip("Open the newest EMA checkpoint in the explorer window")
        self.open_button.clicked.connect(self._open_newest)
        self.folder_button = QPushButton("Show run folder")
        self.folder_button.setToolTip("Open the run folder in the file manager")
        self.folder_button.clicked.connect(self._show_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.extend_button)
        buttons.addStretch(1)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.warning_banner)
        layout.addLayout(top)
        layout.addWidget(vertical, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- binding -------------------------------------------------------------------

    def set_controller(self, controller: RunController) -> None:
        for connection in self._connections:
            QObject.disconnect(connection)
        self.controller = controller
        self.log.clear()
        self.log._partial = ""
        if controller.log_text:
            self.log.append_text(controller.log_text)
        self.banner.hide()
        self._clear_curves()
        self._connections = [
            controller.eventsApplied.connect(self._schedule_refresh),
            controller.historyReset.connect(self._history_reset),
            controller.stateChanged.connect(self._state_changed),
            controller.logAppended.connect(self.log.append_text),
            controller.failure.connect(self._failed)]
        self.refresh()
        self._state_changed(controller.state)
        if controller.state == C.FAILED and controller.failure_message:
            self._failed(controller.failure_message)

    def _schedule_refresh(self, *_: object) -> None:
        if not self._redraw.isActive():
            self._redraw.start()

    def _history_reset(self) -> None:
        self._clear_curves()
        self._schedule_refresh()

    def _clear_curves(self) -> None:
        for smooth, raw in self._curve_items.values():
            self.loss_plot.removeItem(smooth)
            self.loss_plot.removeItem(raw)
        self._curve_items.clear()
        legend = self.loss_plot.getPlotItem().legend
        if legend is not None:
            legend.clear()
        self.fid_curve.setData([], [])
        self._shown_grid = None
        self.grid_label.set_source(None)
        self.grid_caption.setText("")

    # -- drawing -------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw everything from the controller's history."""
        ctl = self.controller
        if ctl is None:
            return
        h = ctl.history
        n_points = 0
        for i, (key, curve) in enumerate(sorted(h.losses.items(), key=lambda kv: _curve_order(kv[0]))):
            items = self._curve_items.get(key)
            if items is None:
                colour = CURVE_COLOURS.get(key, EXTRA_COLOURS[i % len(EXTRA_COLOURS)])
                raw = self.loss_plot.plot([], [], pen=pg.mkPen((*colour, 55), width=1))
                smooth = self.loss_plot.plot([], [], pen=pg.mkPen(colour, width=2),
                                             name=LABELS.get(key, key.removeprefix("loss_")))
                items = self._curve_items[key] = (smooth, raw)
            smooth, raw = items
            raw.setData(curve.kimg, curve.value, connect="finite")
            smooth.setData(curve.kimg, ema_smooth(curve.value, smoothing_weight(len(curve))),
                           connect="finite")
            n_points = max(n_points, len(curve))
        self.fid_curve.setData(h.fid.kimg, h.fid.value)
        self.fid_plot.setVisible(len(h.fid) > 0)
        if h.warnings:
            w = h.warnings[-1]
            kimg_w = w.get("kimg")
            where = f"At {kimg_w:g} kimg: " if isinstance(kimg_w, (int, float)) else ""
            self.warning_banner.show_message(f"{where}{w['message'][:1].upper()}{w['message'][1:]}", "warning")
        else:
            self.warning_banner.hide()

        tick = h.last_tick or {}
        total = h.total_kimg
        kimg = h.kimg
        self.kimg_label.setText(f"{kimg:.2f}" + (f" / {total:g}" if total else ""))
        speed = tick.get("img_per_s")
        self.speed_label.setText(f"{speed:.0f}" if isinstance(speed, (int, float)) else "—")
        live = ctl.state in (C.RUNNING, C.ELSEWHERE)
        self.eta_label.setText(format_duration(tick.get("eta_s")) if live else "—")
        step = tick.get("step")
        self.step_label.setText(f"{step:,}" if isinstance(step, int) else "—")
        self.fid_label.setText(f"{h.fid.value[-1]:.1f}" if len(h.fid) else "—")
        if total:
            self.progress.setValue(int(1000 * min(1.0, kimg / total)))
            self.progress.setFormat(f"{kimg:.2f} / {total:g} kimg  ({100 * min(1.0, kimg / total):.0f} %)")
        else:
            self.progress.setValue(0)
            self.progress.setFormat(f"{kimg:.2f} kimg")

        latest = h.latest_grid
        if latest is not None and latest != self._shown_grid:
            pixmap = QPixmap(str(latest[1]))
            if not pixmap.isNull():   # a grid still being written is picked up next time
                self._shown_grid = latest
                self.grid_label.set_source(pixmap)
                self.grid_caption.setText(f"samples at {latest[0]:.2f} kimg")
        self._update_buttons()
        self.curvesUpdated.emit(n_points)

    # -- state -----------------------------------------------------------------------

    def _state_changed(self, state: str) -> None:
        text = {C.IDLE: "Not running", C.RUNNING: "Training", C.PAUSING: "Pausing…",
                C.PAUSED: "Paused", C.STOPPING: "Stopping…", C.STOPPED: "Stopped",
                C.DONE: "Finished", C.FAILED: "Failed",
                C.ELSEWHERE: "Training elsewhere"}.get(state, state)
        colour = {C.RUNNING: "#1b5e20", C.FAILED: "#b71c1c", C.DONE: "#0d47a1"}.get(state, "palette(text)")
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"color: {colour};")
        if state != C.FAILED:
            self.banner.hide()        # a failure's message stays until something new happens
        if state == C.ELSEWHERE:
            self.banner.show_message(
                "Another process is training this run (a terminal or another window). It is shown "
                "live here; pause or stop it where it was started (Ctrl-C saves a checkpoint).", "info")
            self.open_last_button.hide()
            self.resume_last_button.hide()
        elif state == C.DONE:
            ckpt = self.controller.history.last_good_checkpoint() if self.controller else None
            if ckpt is not None:
                self.banner.show_message(
                    f"Training finished at {ckpt.kimg:g} kimg. The newest EMA checkpoint is "
                    f"{ckpt.path.name}; open it in the explorer.", "ok")
                self.open_last_button.hide()
                self.resume_last_button.hide()
        self.refresh()

    def _failed(self, message: str) -> None:
        ctl = self.controller
        ckpt = ctl.history.last_good_checkpoint() if ctl else None
        if ckpt is not None:
            offer = (f"\n\nThe last good checkpoint is {ckpt.path.name} at {ckpt.kimg:g} kimg "
                     f"(step {ckpt.step:,}). You can open it or resume training from it.")
        else:
            offer = "\n\nNo checkpoint had been saved yet, so there is nothing to open." + \
                (" Resume starts the run again from step 0." if ctl and ctl.can_resume() else "")
        self.banner.show_message(message + offer, "error")
        self.open_last_button.setVisible(ckpt is not None)
        self.resume_last_button.setVisible(ckpt is not None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ctl = self.controller
        state = ctl.state if ctl else C.IDLE
        has_ckpt = bool(ctl and ctl.history.last_good_checkpoint() is not None)
        if state in (C.RUNNING, C.PAUSING, C.STOPPING):
            self.pause_button.setText("Pause")
            self.pause_button.setEnabled(state == C.RUNNING)
        else:
            self.pause_button.setText("Resume")
            self.pause_button.setEnabled(bool(ctl) and ctl.can_resume())
        self.stop_button.setText("Force quit" if state in (C.PAUSING, C.STOPPING) else "Stop")
        self.stop_button.setToolTip("Kill the trainer now without saving (the last complete "
                                    "checkpoint stays usable)" if state in (C.PAUSING, C.STOPPING)
                                    else "Save a checkpoint and end the training")
        self.stop_button.setEnabled(state in (C.RUNNING, C.PAUSING, C.STOPPING))
        self.extend_button.setVisible(bool(ctl) and state == C.DONE and ctl.can_extend())
        self.open_button.setEnabled(has_ckpt)
        self.folder_button.setEnabled(bool(ctl))
        self.resume_last_button.setEnabled(bool(ctl) and ctl.can_resume())

    # -- actions -----------------------------------------------------------------------

    def _pause_or_resume(self) -> None:
        ctl = self.controller
        if ctl is None:
            return
        if ctl.state == C.RUNNING:
            ctl.pause()
        elif ctl.can_resume():
            ctl.resume()

    def _resume(self) -> None:
        if self.controller is not None and self.controller.can_resume():
            self.controller.resume()

    def _ask_extend(self) -> None:
        ctl = self.controller
        if ctl is None or not ctl.can_extend():
            return
        now = max(ctl.history.kimg, ctl.history.total_kimg or 0.0)
        total, ok = QInputDialog.getDouble(
            self, "Train longer", f"The run is at {ctl.history.kimg:.2f} kimg. Train it up to (kimg):",
            round(max(2 * now, now + 1), 2), now + 0.01, 1e6, 2)
        if ok:
            ctl.resume(total_kimg=total)

    def _stop(self) -> None:
        ctl = self.controller
        if ctl is None:
            return
        if ctl.state in (C.PAUSING, C.STOPPING):
            ctl.force_kill()
        else:
            ctl.stop()

    def newest_checkpoint(self) -> Path | None:
        ckpt = self.controller.history.last_good_checkpoint() if self.controller else None
        return ckpt.path if ckpt else None

    def _open_newest(self) -> None:
        path = self.newest_checkpoint()
        if path is not None:
            self.openCheckpointRequested.emit(str(path))

    _open_last = _open_newest

    def _show_folder(self) -> None:
        if self.controller is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.controller.run_dir)))


def _curve_order(key: str) -> tuple[int, str]:
    order = list(CURVE_COLOURS)
    return (order.index(key) if key in order else len(order), key)
