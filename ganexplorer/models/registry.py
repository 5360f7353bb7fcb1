"""Open any supported checkpoint: sniff the bytes, pick the reader, return a LoadedModel.

The file's name never decides the format; its first bytes and its contents do. Every
failure, expected or not, reaches the caller as one CheckpointError with a readable message.
"""
from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from .errors import CheckpointError
from .loaded import LoadedModel

# Reader modules in ganexplorer.models.formats, tried in order. Each has
# ID, LABEL, sniff(path, head) -> bool and read(path, sha256) -> LoadedModel.
READERS = ("native",)

HEAD_BYTES = 4096


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _readers():
    return [importlib.import_module(f"{__package__}.formats.{name}") for name in READERS]


def _check_path(path: Path) -> None:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file.")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder; choose a checkpoint file inside it.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path.name} is empty (0 bytes); the download or copy may have failed.")


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Open `path` with the first reader whose sniff accepts it."""
    path = Path(path).expanduser()
    _check_path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
        sha = file_sha256(path)
    except OSError as e:
        raise CheckpointError(f"{path.name} could not be read: {e.strerror or e}.") from None
    for reader in _readers():
        if not reader.sniff(path, head):
            continue
        try:
            model = reader.read(path, sha)
        except CheckpointError:
            raise
        except Exception as e:  # a reader bug or a hostile file must not escape as a crash
            raise CheckpointError(f"{path.name} looks like a {reader.LABEL} but could not be read "
                                  f"({type(e).__name__}: {e}).") from None
        model.G.eval().requires_grad_(False)
        return model
    raise CheckpointError(f"{path.name} is not a checkpoint format GAN Explorer knows "
                          f"(supported: {', '.join(r.LABEL for r in _readers())}).")


def format_label(fmt_id: str) -> str:
    for reader in _readers():
        if reader.ID == fmt_id:
            return reader.LABEL
    return fmt_id
