"""Atomic file writes: a temporary file in the target folder, fsync, then rename.

A reader (or a crash, or a full disk) never sees a half-written file: either the old file
is there, or the complete new one.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _umask_mode() -> int:
    """The mode open() would give a new file (0o666 less the umask), read once at import."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_NEW_FILE_MODE = _umask_mode()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed over `path`.

    On any exception the temporary file is removed and the exception propagates.
    The temporary name keeps the target's suffix so libraries that pick a writer
    from the extension (PIL, imageio) still work.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".part" + path.suffix,
                               dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp makes 0600 files; give the result the mode a plain open() would.
        os.chmod(tmp_path, path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
