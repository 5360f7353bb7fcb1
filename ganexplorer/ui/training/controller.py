"""One training run as the UI sees it: its folder, its events, and maybe its process.

`RunController` ties a `TrainerProcess` to an `EventTailer` and a `RunHistory` and turns
the process's life into a small state machine the live page displays:

    idle -> running -> pausing -> paused -> running -> ... -> done | stopped | failed
                    -> stopping -> stopped

Pause and stop both send SIGTERM (the trainer saves a checkpoint and exits); resume starts
the trainer again with `--resume RUN`. When the process ends without the trainer saying
why (SIGKILL, out of memory, a segfault) the state becomes "failed" and `failure` carries
a message; the last good checkpoint is `history.last_good_checkpoint()`.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from trainer.config import resumable_args as resumable_flags  # the trainer's resume rule

from ...runs import folder as runs_folder
from ...session.run_events import RunHistory
from .command import Command, trainer_command
from .process import TrainerProcess
from .tailer import EventTailer

IDLE, RUNNING, PAUSING, PAUSED, STOPPING, STOPPED, DONE, FAILED = (
    "idle", "running", "pausing", "paused", "stopping", "stopped", "done", "failed")
LOG_KEEP = 200_000         # characters of log a controller keeps for views attached later
ELSEWHERE = "elsewhere"    # a reopened run whose events keep growing: another process trains it
ACTIVE = (RUNNING, PAUSING, STOPPING)

def _without_flag(args: list[str], flag: str) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == flag:
            skip = True
        elif not a.startswith(flag + "="):
            out.append(a)
    return out


class RunController(QObject):
    eventsApplied = Signal(list)   # new events, after `history` has absorbed them
    historyReset = Signal()        # `history` was rebuilt from scratch
    stateChanged = Signal(str)
    logAppended = Signal(str)      # trainer output and the controller's own notes
    failure = Signal(str)          # the run failed or the process died: a message in words

    def __init__(self, run_dir: str | os.PathLike, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.history = RunHistory(self.run_dir)
        self.state = IDLE
        self.failure_message = ""
        self.trainer_args: list[str] = []        # flags of the first launch (without --resume)
        self.gpus: tuple[int, ...] = ()
        self.process = TrainerProcess(self)
        self.process.output.connect(self._output)
        self._output_tail = ""                   # the last few KB the trainer printed
        self.log_text = ""                       # everything logged so far (bounded), for late viewers
        self.process.finished.connect(self._process_finished)
        self.tailer = EventTailer(self.run_dir, self)
        self.tailer.eventsArrived.connect(self._events)
        self.tailer.restarted.connect(self._restarted)
        self._end_this_launch: dict | None = None
        self._requested = ""                     # "pause" or "stop" while one is under way
        self._attached = False                   # following a run this controller did not start

    # -- what the buttons do -----------------------------------------------------

    def attach(self) -> None:
        """Read the run's events so far and follow the file (no process is started).
        If events keep arriving, another process (a terminal, another window) is training
        it: the state becomes "elsewhere" and Resume is refused until that run ends."""
        self.tailer.start()
        self._settle_idle_state()
        self._attached = True
        h = self.history
        self._log(
            f"[GAN Explorer] Opened {self.run_dir}: {h.events} events, {h.starts} session(s), "
            f"{len(h.checkpoints)} checkpoint event(s), reached {h.kimg:g} kimg.\n"
            "[GAN Explorer] Curves are rebuilt from events.jsonl; the console output of earlier "
            "sessions is not kept.\n")

    def start(self, trainer_args: list[str], gpus: tuple[int, ...] = ()) -> None:
        """Start a new run with these trainer flags (they include --out RUN)."""
        self.trainer_args = list(trainer_args)
        self.gpus = tuple(gpus)
        self._launch(trainer_command(self.trainer_args, self.gpus))

    def resume_command(self, total_kimg: float | None = None) -> Command:
        """`--resume RUN` plus the flags of the first launch that a resumed run may change
        (the run's config.json fixes everything else); `total_kimg` trains further."""
        args = ["--resume", str(self.run_dir), *resumable_flags(self.trainer_args)]
        if total_kimg is not None:
            args = _without_flag(args, "--kimg") + ["--kimg", f"{total_kimg:g}"]
        return trainer_command(args, self.gpus)

    def can_resume(self) -> bool:
        """True when Resume would continue something: not running, not finished, and the
        trainer's --resume rule holds (from the newest complete state, or from step 0 for a
        run killed before its first save). A finished run can still `resume(total_kimg=...)`."""
        return self.state not in (*ACTIVE, DONE, ELSEWHERE) and runs_folder.can_resume(self.run_dir)

    def can_extend(self) -> bool:
        return self.state not in (*ACTIVE, ELSEWHERE) and self.history.last_good_checkpoint() is not None

    def resume(self, total_kimg: float | None = None) -> None:
        """Continue the run from its newest resume state (to `total_kimg` if given)."""
        if self.state in ACTIVE:
            return
        self._launch(self.resume_command(total_kimg))

    def pause(self) -> None:
        self._request("pause", PAUSING, "Pausing: the trainer is saving a checkpoint…")

    def stop(self) -> None:
        self._request("stop", STOPPING, "Stopping: the trainer is saving a checkpoint…")

    def force_kill(self) -> None:
        if self.process.is_running():
            self._log("\n[GAN Explorer] Killing the trainer (SIGKILL); "
                                  "the last complete checkpoint stays usable.\n")
            self.process.kill()

    def is_active(self) -> bool:
        return self.state in ACTIVE

    # -- internals ---------------------------------------------------------------

    def _request(self, what: str, state: str, note: str) -> None:
        if self.state != RUNNING or not self.process.is_running():
            return
        self._requested = what
        self._log(f"\n[GAN Explorer] {note}\n")
        self._set_state(state)
        self.process.terminate()

    def _launch(self, command: Command) -> None:
        if self.state == ELSEWHERE:
            raise RuntimeError("another process is training this run")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._end_this_launch = None
        self._requested = ""
        self._output_tail = ""
        self.failure_message = ""
        self._log(f"[GAN Explorer] $ {command.shell()}\n")
        if not self.tailer.is_following():
            self.tailer.start()
        self._set_state(RUNNING)
        self.process.start(command, workdir=str(self.run_dir))

    def _output(self, text: str) -> None:
        self._output_tail = (self._output_tail + text)[-4000:]
        self._log(text)

    def _log(self, text: str) -> None:
        self.log_text = (self.log_text + text)[-LOG_KEEP:]
        self.logAppended.emit(text)

    def last_output_line(self) -> str:
        """The trainer's last words (an error line, usually), progress bars skipped."""
        lines = [line.split("\r")[-1].strip() for line in self._output_tail.splitlines()]
        lines = [line for line in lines if line and "kimg [" not in line and not line.startswith("[GAN Explorer]")]
        return lines[-1] if lines else ""

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _events(self, events: list) -> None:
        self.history.apply(events)
        for e in events:
            if e.get("type") == "end":
                self._end_this_launch = e
        self.eventsApplied.emit(events)
        if self._attached and not self.process.is_running() and self.state not in ACTIVE:
            if any(e.get("type") == "end" for e in events):
                self._settle_idle_state()
            elif self.state != ELSEWHERE and any(e.get("type") in ("start", "tick") for e in events):
                self._set_state(ELSEWHERE)

    def _restarted(self) -> None:
        self.history.clear()
        self.historyReset.emit()

    def _settle_idle_state(self) -> None:
        """The state of a run opened from disk, from how its events end."""
        end = self.history.end
        if end is None:
            self._set_state(IDLE)
            return
        reason = end.get("reason")
        self._set_state({"done": DONE, "stopped": PAUSED}.get(reason, FAILED))
        if reason in ("error", "nan"):
            self._fail(str(end.get("message") or f"The run ended with {reason}."))

    def _fail(self, message: str) -> None:
        self.failure_message = message
        self._set_state(FAILED)
        self.failure.emit(message)

    def _process_finished(self, code: int, crashed: bool, how: str) -> None:
        self.tailer.drain()
        end = self._end_this_launch
        requested, self._requested = self._requested, ""
        self._log(f"\n[GAN Explorer] The trainer {how}.\n")
        if end is not None:
            reason = end.get("reason")
            if reason == "done":
                self._set_state(DONE)
            elif reason == "stopped":
                self._set_state(STOPPED if requested == "stop" else PAUSED)
            else:
                message = str(end.get("message") or "").strip()
                label = "Training stopped: the losses became NaN." if reason == "nan" else \
                    "Training stopped with an error."
                self._fail(f"{label} {message}".strip())
            return
        if requested and (crashed or code == 0):
            # stopped on request before the trainer could record it (e.g. still starting up)
            if crashed:
                self._log("[GAN Explorer] It stopped before training began; "
                                      "nothing new was saved.\n")
            self._set_state(STOPPED if requested == "stop" else PAUSED)
            return
        if not crashed and code == 0:
            self._set_state(DONE)
            return
        said = self.last_output_line() if not crashed else ""
        self._fail(f"The training process {how} before it could finish"
                   + (", without a chance to save." if crashed else ".")
                   + (f" The trainer said: “{said}”" if said else "")
                   + " The app is unaffected.")
