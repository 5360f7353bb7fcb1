"""Open any supported checkpoint: sniff the bytes, pick the reader, return a LoadedModel.

The file's name never decides the format; its first bytes and its contents do. Every
failure, expected or not, reaches the caller as one CheckpointError whose message is one
whole sentence (`messages.tidy`). Every reader runs inside a memory budget sized from the
file (`budget.AllocationBudget`), so a few bytes declaring a huge network are refused
before the memory is taken, whichever reader builds it. A loaded generator whose weights
are not all finite comes back with a warning (`LoadedModel.nonfinite`); the CLI refuses
it unless asked, the window says so.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .budget import AllocationBudget, budget_for
from .errors import CheckpointError
from .formats import lucidrains, native, nvidia_pkl, rosinality, torch_dcgan, torch_file
from .loaded import LoadedModel
from .messages import shorten, tidy, translate_torch
from .tensor_checks import nonfinite_message
from .untrusted import brief, plain

# Tried in order. Each has ID, LABEL, sniff(path, head) -> bool and read(path, sha256) ->
# LoadedModel. torch_file is the last resort for torch.save files: it explains why none matched.
READERS = (native, nvidia_pkl, rosinality, lucidrains, torch_dcgan, torch_file)

HEAD_BYTES = 4096
MAX_INFO_TEXT = 500     # characters of one info value (names, paths, notes from the file)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    try:
        _check_path(path)
        try:
            with open(path, "rb") as f:
                head = f.read(HEAD_BYTES)
            sha = file_sha256(path)
            size = path.stat().st_size
        except OSError as e:
            raise CheckpointError(f"{path.name} could not be read: {e.strerror or e}.") from None
        try:
            return _load_with_readers(path, head, sha, size)
        finally:
            torch_file.clear_cache()   # the shared torch.load result is per call
    except CheckpointError as e:
        raise type(e)(tidy(str(e))) from None


def _load_with_readers(path: Path, head: bytes, sha: str, size: int) -> LoadedModel:
    for reader in READERS:
        try:
            with AllocationBudget(budget_for(size), path.name):
                accepted = reader.sniff(path, head)
        except CheckpointError:
            raise   # a budget refusal while sniffing (a sniff loads torch files) is final
        except Exception:  # a sniff only looks; a file it chokes on is simply not its format
            accepted = False
        if not accepted:
            continue
        try:
            with AllocationBudget(budget_for(size), path.name):
                model = reader.read(path, sha)
            model.G.eval().requires_grad_(False)
            _sanitize_info(model)
            _check_finite(model)
            _attach_sample_info(model)
        except CheckpointError:
            raise
        except Exception as e:  # a reader bug or a hostile file must not escape as a crash
            clause = translate_torch(str(e))
            if clause:
                raise CheckpointError(f"{path.name}: {clause}.") from None
            first = (str(e).strip().splitlines() or [""])[0]
            raise CheckpointError(f"{path.name} looks like a {reader.LABEL} but could not be read "
                                  f"({type(e).__name__}: {shorten(first, 200)}).") from None
        return model
    raise CheckpointError(f"{path.name} is not a checkpoint format GAN Explorer knows "
                          f"(supported: {', '.join(r.LABEL for r in READERS if r.ID != 'torch')}).")


def _sanitize_info(model: LoadedModel) -> None:
    """Info values come from the file: plain data of modest size, no text over a paragraph."""
    info = {}
    for key, value in dict(model.info).items():
        try:
            info[str(key)] = plain(value, "an info value", budget=2_000, text_limit=MAX_INFO_TEXT)
        except CheckpointError:
            info[str(key)] = brief(value, 80)
    model.info = info


def _check_finite(model: LoadedModel) -> None:
    message = nonfinite_message(model.G)
    if message:
        model.nonfinite = message
        model.warnings.append(message)


def _attach_sample_info(model: LoadedModel) -> None:
    """Bundled sample models carry their credit and licence, whatever reader opened them."""
    from .samples import sample_for_sha256
    sample = sample_for_sha256(model.sha256)
    if sample is not None:
        model.info.update(sample.info())


def format_label(fmt_id: str) -> str:
    for reader in READERS:
        if reader.ID == fmt_id:
            return reader.LABEL
    return fmt_id
