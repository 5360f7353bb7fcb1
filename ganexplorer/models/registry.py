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
# torch_file is the last resort for torch.save files: it explains why none matched.
READERS = ("native", "nvidia_pkl", "rosinality", "lucidrains", "torch_dcgan", "torch_file")

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
    from .formats import torch_file
    try:
        return _load_with_readers(path, head, sha)
    finally:
        torch_file.clear_cache()   # the shared torch.load result is per call


def _load_with_readers(path: Path, head: bytes, sha: str) -> LoadedModel:
    readers = _readers()
    for reader in readers:
        try:
            accepted = reader.sniff(path, head)
        except Exception:  # a sniff only looks; a file it chokes on is simply not its format
            accepted = False
        if not accepted:
            continue
        try:
            model = reader.read(path, sha)
            model.G.eval().requires_grad_(False)
            _attach_sample_info(model)
        except CheckpointError:
            raise
        except Exception as e:  # a reader bug or a hostile file must not escape as a crash
            first = " ".join(str(e).split())[:300]
            raise CheckpointError(f"{path.name} looks like a {reader.LABEL} but could not be read "
                                  f"({type(e).__name__}: {first}).") from None
        return model
    raise CheckpointError(f"{path.name} is not a checkpoint format GAN Explorer knows "
                          f"(supported: {', '.join(r.LABEL for r in readers if r.ID != 'torch')}).")


def _attach_sample_info(model: LoadedModel) -> None:
    """Bundled sample models carry their credit and licence, whatever reader opened them."""
    from .samples import sample_for_sha256
    sample = sample_for_sha256(model.sha256)
    if sample is not None:
        model.info.update(sample.info())


def format_label(fmt_id: str) -> str:
    for reader in _readers():
        if reader.ID == fmt_id:
            return reader.LABEL
    return fmt_id
