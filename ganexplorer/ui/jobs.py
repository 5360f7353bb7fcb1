"""Background work for the window: one-off jobs (the render thread is
render.mailbox.RenderWorker, driven by the window).

`Job` runs a function (or a generator function that yields progress events) on a
worker thread; it reaches the GUI only through queued signals, checks `cancel()` between
yielded steps, and turns every exception into `failed(message)`: nothing raises into
the event loop.

`JobRunner.start_on_model` is how model work (editing, projection, warm-up, directions)
starts: the worker first makes the job's own copy of the networks on the runner's
`device` (render.cache.job_model), so the device the user chose reaches every job and the
render thread's generator is never touched by another thread.
"""
from __future__ import annotations

import inspect
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from ..models.errors import CheckpointError
from ..models.loaded import LoadedModel
from ..render.cache import job_model


class Job(QObject):
    """One background task. Keep a reference until `done` fires (JobRunner does)."""

    progress = Signal(object)     # whatever the generator yields
    finished = Signal(object)     # the function's return value
    failed = Signal(str)          # a readable message
    done = Signal()               # after finished, failed or cancelled

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "job", **kwargs: Any):
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._cancel = threading.Event()
        self.name = name
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "Job":
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            value = self._fn(*self._args, **self._kwargs)
            if inspect.isgenerator(value):
                gen = value
                value = None
                while True:
                    if self._cancel.is_set():
                        gen.close()
                        return
                    try:
                        event = next(gen)
                    except StopIteration as stop:
                        value = stop.value
                        break
                    if not self._emit(self.progress, event):
                        self._cancel.set()     # nobody listens any more: stop at the next step
            if not self._cancel.is_set():
                self._emit(self.finished, value)
        except CheckpointError as e:
            self._emit(self.failed, str(e))
        except OSError as e:
            where = f"{e.filename}: " if getattr(e, "filename", None) else ""
            self._emit(self.failed, f"{where}{e.strerror or e}")
        except ValueError as e:
            self._emit(self.failed, str(e))
        except Exception as e:   # a bug in a task must not take the app down
            self._emit(self.failed, f"{self.name} failed ({type(e).__name__}: {e})")
        finally:
            self._emit(self.done)

    @staticmethod
    def _emit(signal, *args) -> bool:
        """Emit; False when this Job's Qt side is already gone (the app was torn down while
        the worker ran, e.g. a script that exits with a job alive): nobody is left to tell."""
        try:
            signal.emit(*args)
            return True
        except RuntimeError:
            return False


class JobRunner(QObject):
    """Starts jobs and keeps them alive until they end."""

    def __init__(self, parent: QObject | None = None, device: str = "cpu"):
        super().__init__(parent)
        self._jobs: set[Job] = set()
        self.device = device        # where start_on_model's copies go (the window's device choice)

    def start(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None,
              on_progress: Callable[[Any], None] | None = None, name: str = "job", **kwargs: Any) -> Job:
        job = Job(fn, *args, name=name, **kwargs)
        if on_done is not None:
            job.finished.connect(on_done)
        if on_error is not None:
            job.failed.connect(on_error)
        if on_progress is not None:
            job.progress.connect(on_progress)
        self._jobs.add(job)
        job.done.connect(lambda: self._jobs.discard(job))
        return job.start()

    def start_on_model(self, model: LoadedModel, fn: Callable[..., Any], *args: Any, D: bool = False,
                       E: bool = False, on_done: Callable[[Any], None] | None = None,
                       on_error: Callable[[str], None] | None = None,
                       on_progress: Callable[[Any], None] | None = None, name: str = "job") -> Job:
        """Run fn(job_model, *args) on a worker: job_model is `model` with its own copy of G
        (and of D, E when asked) on `self.device` as it is now, made on the worker thread."""
        device = self.device

        def on_copy() -> Any:
            return fn(job_model(model, device, D=D, E=E), *args)

        return self.start(on_copy, on_done=on_done, on_error=on_error, on_progress=on_progress, name=name)

    def active(self) -> int:
        return len(self._jobs)

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()
