"""Run the trainer (or its dry run) as a child process with QProcess.

The trainer is never imported into the app: a crash, an out-of-memory kill or a hang in
training cannot take the window down, and the GUI thread only ever reads pipes and files.
"""
from __future__ import annotations

import codecs
import json
import os
import signal
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from .command import Command

MAX_CAPTURE = 1 << 20   # bytes of a dry run's output kept at most


def _environment(command: Command) -> QProcessEnvironment:
    env = QProcessEnvironment.systemEnvironment()
    for key, value in command.env:
        env.insert(key, value)
    return env


def describe_exit(code: int, crashed: bool, error: str = "") -> str:
    """An exit in words: 'exited with code 1', 'was killed (SIGKILL)'..."""
    if error:
        return error
    if crashed:
        try:
            name = signal.Signals(code).name if code > 0 else ""
        except ValueError:
            name = ""
        return f"was killed by signal {code} ({name})" if name else "crashed"
    return f"exited with code {code}"


class TrainerProcess(QObject):
    """One training process. Output arrives as text; the end as one `finished` signal."""

    started = Signal()
    output = Signal(str)               # decoded stdout+stderr text, in arrival order
    finished = Signal(int, bool, str)  # exit code, crashed (signal/failed to start), in words

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._start_error = ""
        self.command: Command | None = None   # the command last started

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def pid(self) -> int:
        return int(self._proc.processId()) if self._proc is not None else 0

    def start(self, command: Command, workdir: str | None = None) -> None:
        if self.is_running():
            raise RuntimeError("the trainer is already running")
        self.command = command
        self._start_error = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setProcessEnvironment(_environment(command))
        if workdir:
            proc.setWorkingDirectory(workdir)
        proc.readyReadStandardOutput.connect(self._read)
        proc.started.connect(self.started)
        proc.errorOccurred.connect(self._error)
        proc.finished.connect(self._finished)
        self._proc = proc
        proc.start(command.program, list(command.args))

    def terminate(self) -> None:
        """SIGTERM: the trainer saves a checkpoint and exits cleanly."""
        if self.is_running():
            self._proc.terminate()

    def interrupt(self) -> None:
        """SIGINT, what Ctrl-C sends in a terminal."""
        if self.is_running() and self.pid() > 0:
            os.kill(self.pid(), signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL: no checkpoint is saved; the last complete one stays valid."""
        if self.is_running():
            self._proc.kill()

    def _read(self) -> None:
        text = self._decoder.decode(bytes(self._proc.readAllStandardOutput()))
        if text:
            self.output.emit(text)

    def _error(self, err: QProcess.ProcessError) -> None:
        if err == QProcess.ProcessError.FailedToStart:
            self._start_error = (f"could not be started ({self._proc.errorString()}); "
                                 f"is '{self.command.program}' a working Python?")
            self.finished.emit(-1, True, self._start_error)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        rest = self._decoder.decode(b"", final=True)
        if rest:
            self.output.emit(rest)
        crashed = status == QProcess.ExitStatus.CrashExit
        self.finished.emit(int(code), crashed, describe_exit(int(code), crashed))


class DryRun(QObject):
    """The trainer's `--dry-run --json`, newest request wins.

    `succeeded(report)` carries the parsed JSON object; `failed(message)` carries what the
    trainer printed (its flag errors name the flag) when it exits non-zero or prints no JSON.
    """

    succeeded = Signal(object)   # dict: {config, dataset: {...}}
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._buffer = bytearray()
        self.command: Command | None = None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def cancel(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.finished.disconnect(self._finished)
            proc.errorOccurred.disconnect(self._error)
            proc.readyReadStandardOutput.disconnect(self._read)
            if proc.state() != QProcess.ProcessState.NotRunning:
                proc.kill()
                proc.waitForFinished(2000)
            proc.deleteLater()

    def request(self, command: Command) -> None:
        self.cancel()
        self.command = command
        self._buffer = bytearray()
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setProcessEnvironment(_environment(command))
        # bound methods, not lambdas: Qt drops them when this object is destroyed
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self._proc = proc
        proc.start(command.program, list(command.args))

    def _read(self) -> None:
        proc = self._proc
        if proc is not None and len(self._buffer) < MAX_CAPTURE:
            self._buffer += bytes(proc.readAllStandardOutput())

    def _error(self, err: QProcess.ProcessError) -> None:
        proc = self._proc
        if proc is not None and proc is self.sender() and err == QProcess.ProcessError.FailedToStart:
            self._proc = None
            proc.deleteLater()
            self.failed.emit(f"The trainer could not be started: {proc.errorString()}")

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        proc = self._proc
        if proc is None or proc is not self.sender():
            return
        self._read()
        self._proc = None
        proc.deleteLater()
        text = bytes(self._buffer).decode("utf-8", errors="replace")
        report = parse_json_report(text)
        if report is not None and code == 0:
            self.succeeded.emit(report)
        elif report is not None and isinstance(report.get("dataset"), dict):
            # a refused dataset still comes with its summary and problems
            self.succeeded.emit(report)
        else:
            self.failed.emit(explain_failure(text, code, status == QProcess.ExitStatus.CrashExit))


def parse_json_report(text: str) -> dict[str, Any] | None:
    """The JSON object in a dry run's output (the whole output, or its last JSON line)."""
    stripped = text.strip()
    candidates = [stripped] if stripped.startswith("{") else []
    candidates += [line.strip() for line in reversed(text.splitlines()) if line.strip().startswith("{")]
    start = text.find("\n{")
    if start >= 0:
        candidates.append(text[start + 1:].strip())
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def explain_failure(text: str, code: int, crashed: bool) -> str:
    """The trainer's own error lines, without a Python traceback's noise."""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        last = lines[-1] if lines else ""
        return f"The trainer failed: {last}"
    if lines:
        return "\n".join(lines[-6:])
    return f"The trainer {describe_exit(code, crashed)} without saying why."
