"""Phase 2 of a run: the run folder — opening it by the rules, cleaning what a kill left,
and every write into it, atomic and with failures turned into one readable line.

The layout and the rules themselves are `ganexplorer.runs.folder` (the app reads them).
"""
from __future__ import annotations

import errno
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn

import torch
from safetensors import SafetensorError, safe_open

from ganexplorer.atomic import atomic_path
from ganexplorer.runs import folder as layout

from .config import TrainConfig
from .networks import TrainError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
LOW_SPACE_BYTES = 64 << 20   # below this much free space, a writer's I/O failure is a full disk
DISK_FULL = "the disk is full"


class SaveError(TrainError):
    """Writing `path` failed (full disk, permissions); nothing partial remains.
    `reason` is the cause in words ("the disk is full")."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path.name}: {reason}")
        self.path, self.reason = Path(path), reason

    def message(self, last_checkpoint: str | None) -> str:
        """The one designed line a full disk (or any failed save) ends with."""
        fix = "Free space" if self.reason == DISK_FULL else "Fix that"
        if last_checkpoint:
            tail = f"the last complete checkpoint is {last_checkpoint}. {fix} and continue with --resume"
        else:
            tail = f"no checkpoint was saved yet. {fix} and run the same command again"
        return f"could not save {self.path.name}: {self.reason}. Nothing partial was left; {tail}."


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def write_failure(e: BaseException, folder: Path) -> str | None:
    """Why a write into `folder` failed, in words; None if `e` is not a write failure.

    Writers report a full disk differently: OSError(ENOSPC) from Python and PIL, a
    SafetensorError "... (os error 28)" from safetensors, and from torch.save a RuntimeError
    of its zip writer (inline_container.cc: "unexpected pos" / "file write failed") that
    carries no errno at all; for that one the free space of the folder decides.
    """
    if isinstance(e, OSError):
        if e.errno in NO_SPACE:
            return DISK_FULL
        return e.strerror or str(e)
    text = str(e)
    if isinstance(e, SafetensorError) or (isinstance(e, RuntimeError) and (
            "inline_container" in text or "PytorchStreamWriter" in text or "file write failed" in text)):
        if "os error 28" in text or "os error 122" in text or "No space left" in text \
                or "StorageFull" in text:
            return DISK_FULL
        free = _free_bytes(folder)
        if free is not None and free < LOW_SPACE_BYTES:
            return DISK_FULL
        return f"the write failed ({text.splitlines()[0][:200] if text else type(e).__name__})"
    return None


@contextmanager
def saving(path: Path) -> Iterator[Path]:
    """An atomic write of `path` (yields the temporary path to write); any write failure
    becomes a SaveError, after the temporary file is gone."""
    try:
        with atomic_path(path) as tmp:
            yield tmp
    except Exception as e:
        _raise_save_error(e, path)


def guarded(path: Path, write: Callable[[], Any]) -> Any:
    """`write()` (which writes `path` itself, atomically), with write failures as SaveError."""
    try:
        return write()
    except Exception as e:
        _raise_save_error(e, path)


def _raise_save_error(e: Exception, path: Path) -> NoReturn:
    """Re-raise `e` as the SaveError of writing `path` when it is a write failure, else as is."""
    if isinstance(e, SaveError):
        raise e
    reason = write_failure(e, path.parent)
    if reason is None:
        raise e
    raise SaveError(path, reason) from e


def kimg_label(run_dir: Path, nimg: int) -> str:
    """The kimg label of files saved at `nimg`: whole kimg as NVIDIA names them ("000120"),
    with the images beyond it ("000120.064") when a snapshot within that kimg exists already
    (stopping soon after a snapshot, or --snap-kimg below 1), so none is overwritten and the
    names order as the snapshots were taken."""
    whole = nimg // 1000
    if nimg % 1000 and any(layout.by_kimg(p) >= whole for p in Path(run_dir).glob(layout.SNAP_GLOB)):
        return f"{whole:06d}.{nimg % 1000:03d}"
    return f"{whole:06d}"


def snapshot_is_good(path: Path) -> bool:
    """A snapshot the app can open and render: it reads, and every tensor is finite."""
    try:
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():
                t = f.get_tensor(key)
                if t.is_floating_point() and not torch.isfinite(t).all():
                    return False
        return True
    except Exception:   # noqa: BLE001 — truncated or damaged: not good, whatever the error
        return False


def open_run_folder(cfg: TrainConfig, main: bool) -> tuple[Path, list[Path]]:
    """The run folder by the rules, and its complete resume states (newest first).

    --out: a new folder, or one that does not hold a run yet (`layout.holds_run`): a run
    killed before its first complete state starts again in place. --resume: continues the
    newest state; with none yet it starts from step 0 with the run's config. Rank 0 then
    removes what killed saves left behind.
    """
    run_dir = Path(cfg.resume or cfg.out).expanduser().resolve()
    if cfg.resume:
        if not run_dir.is_dir():
            raise TrainError(f"--resume {cfg.resume}: no such run directory")
    elif main:
        if run_dir.exists() and not run_dir.is_dir():
            raise TrainError(f"--out {cfg.out} is a file; choose a folder")
        if layout.holds_run(run_dir):
            raise TrainError(f"--out {cfg.out} already holds a run; continue it with --resume {cfg.out} "
                             "or choose another --out")
    if main:
        guarded(run_dir, lambda: (run_dir / layout.SAMPLES_DIR).mkdir(parents=True, exist_ok=True))
        for leftover in layout.leftovers(run_dir):   # temporaries of a killed save
            leftover.unlink(missing_ok=True)
    return run_dir, layout.find_resume(run_dir) if run_dir.is_dir() else []


def last_good_snapshot(run_dir: Path) -> str | None:
    """The newest snapshot that loads and holds only finite numbers."""
    for snap in reversed(layout.snapshots(run_dir)):
        if snapshot_is_good(snap):
            return snap.name
    return None


def prune(run_dir: Path, keep: int) -> None:
    """Keep the last `keep` snapshots and resume states."""
    for old in [*layout.snapshots(run_dir)[:-keep], *layout.find_resume(run_dir)[keep:]]:
        old.unlink(missing_ok=True)


def save_grid(run_dir: Path, label: str, imgs) -> str:
    """imgs [N, C, R, R] float in [-1, 1] -> samples/grid-<label>.png. -> relative path."""
    from ganexplorer.export.images import make_grid, to_uint8
    rel = layout.grid_name(label)
    with saving(run_dir / rel) as tmp:
        make_grid(to_uint8(imgs.numpy()), padding=1).save(tmp, format="PNG")
    return rel


def save_resume(run_dir: Path, step: int, state: dict[str, Any]) -> str:
    name = layout.resume_name(step)
    with saving(run_dir / name) as tmp:
        torch.save(state, tmp)
    return name


def save_config(run_dir: Path, cfg: TrainConfig) -> None:
    path = run_dir / layout.CONFIG_FILE
    guarded(path, lambda: cfg.save(path))


def save_snapshot(run_dir: Path, label: str, nets: dict, info: dict[str, Any]) -> str:
    """The app's checkpoint {G: EMA G, D} -> network-snapshot-<label>.safetensors."""
    from ganexplorer.models.checkpoint import save_checkpoint
    name = layout.snapshot_name(label)
    guarded(run_dir / name, lambda: save_checkpoint(run_dir / name, nets, info))
    return name


class EventSink:
    """Rank 0's events.jsonl. A failed append (full disk) is kept in `failed`, not raised:
    the loop ends the run at its next agreement point, so that under DDP every rank leaves
    at the same step. Later events are still returned to the caller, just not written."""

    def __init__(self, log=None):
        self.log = log                       # an EventLog, or None on ranks that do not write
        self.failed: SaveError | None = None

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.log is not None and self.failed is None:
            try:
                guarded(self.log.path, lambda: self.log.write(event))
            except SaveError as e:
                self.failed = e
        return event

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
