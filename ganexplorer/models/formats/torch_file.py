"""Files written by `torch.save` (zip or legacy), loaded the one safe way, and the reader
of last resort for torch files that no specific reader recognised.

`torch.load(..., weights_only=True, map_location='cpu')`: torch's own restricted unpickler
builds tensors and plain containers only; the one extra class we allow is
`argparse.Namespace` (rosinality's train.py stores its command-line arguments so). The
specific readers (rosinality, lucidrains, torch_dcgan) share one load per file through a
small cache that the registry clears after every `load_model`.

Before torch reads a zip, every member's declared size and compression ratio is checked
(torch inflates members whole: a 390 KB zip can hold 400 MB of zeros). After it, the tree
is checked (`untrusted.check_tree`: no loops, bounded through shared references) and every
tensor must be an honest view of its storage (`tensor_checks`), so nothing downstream can
be made to walk or copy more than the file holds.
"""
from __future__ import annotations

import argparse
import pickle
import re
import threading
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..limits import ZIP_MAX_MEMBERS, ZIP_MAX_RATIO, ZIP_PER_FILE_BYTE, ZIP_SLACK_BYTES
from ..messages import shorten
from ..pickle_scan import scan_bytes, scan_stream
from ..tensor_checks import check_tensors
from ..untrusted import brief, check_tree, tensors_in

ID = "torch"
LABEL = "PyTorch file (torch.save)"

# Legacy (pre-1.6) torch.save streams open with a pickled magic number:
# PROTO 2, LONG1 of 10 bytes 0x1950a86a20f9469cfc6c.
LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

# Per thread: the render thread and a dialog may open files at the same time.
_local = threading.local()


def _cache() -> dict[tuple, tuple[bool, Any]]:
    if not hasattr(_local, "cache"):
        _local.cache = {}
    return _local.cache


def is_torch_file(head: bytes) -> bool:
    """Zip archive (torch >= 1.6 `torch.save`) or a legacy torch stream."""
    return head[:4] == b"PK\x03\x04" or head.startswith(LEGACY_MAGIC)


def _key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def clear_cache() -> None:
    _cache().clear()


def load(path: Path) -> Any:
    """The file's object tree; CheckpointError with a readable reason otherwise."""
    key, cache = _key(path), _cache()
    if key not in cache:
        try:
            cache[key] = (True, _load_uncached(path))
        except CheckpointError as e:
            cache[key] = (False, e)
    ok, value = cache[key]
    if not ok:
        raise value
    return value


def try_load(path: Path, head: bytes) -> Any | None:
    """For sniffing: the object tree, or None when the file is no readable torch file."""
    if not is_torch_file(head):
        return None
    try:
        return load(path)
    except CheckpointError:
        return None


_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def check_zip(path: Path) -> None:
    """Refuse a zip whose members would inflate far beyond the file (a decompression bomb)."""
    name, size = path.name, path.stat().st_size
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise CheckpointError(f"{name} is a PyTorch file but it is damaged or truncated "
                              f"(its zip directory is unreadable: {shorten(str(e), 120)}).") from None
    if len(infos) > ZIP_MAX_MEMBERS:
        raise CheckpointError(f"refused to load {name}: its zip holds {len(infos):,} members, "
                              "far more than any checkpoint.")
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED and \
                info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1) + 4096:
            raise CheckpointError(f"refused to load {name}: its member {shorten(info.filename, 80)} "
                                  f"would inflate {info.compress_size:,} bytes to {info.file_size:,} "
                                  "(a decompression bomb).")
        total += info.file_size
    if total > max(ZIP_PER_FILE_BYTE * size, size + ZIP_SLACK_BYTES):
        raise CheckpointError(f"refused to load {name}: its zip members add up to {total:,} bytes, "
                              f"far more than the file's {size:,}.")


def _unpickling_reason(text: str) -> str:
    """What torch's weights_only unpickler objected to, without its advice to turn safety off."""
    if "WeightsUnpickler error:" in text:
        after = text.split("WeightsUnpickler error:", 1)[1]
        reason = next((ln.strip() for ln in after.splitlines() if ln.strip()), "")
        if reason and not reason.startswith("Check the documentation"):
            return shorten(reason.replace("Unsupported operand", "unsupported pickle opcode"), 160)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "unpickling error")
    return shorten(first, 160)


def _load_uncached(path: Path) -> Any:
    name = path.name
    with open(path, "rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04"
    if is_zip:
        check_zip(path)
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename.endswith("data.pkl"):
                    scan_bytes(z.read(info), name)
    else:   # legacy: magic, protocol, system info, the object, the storage keys
        with open(path, "rb") as f:
            for _ in range(5):
                if not scan_stream(f, name):
                    break
    obj = _torch_load(path)
    check_tree(obj, name)
    check_tensors(tensors_in(obj))
    return obj


def _torch_load(path: Path) -> Any:
    name = path.name
    try:
        with torch.serialization.safe_globals([argparse.Namespace]), warnings.catch_warnings():
            # Damaged files make torch warn about odd pickle protocols; the error says enough.
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(str(path), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        text = str(e)
        m = _GLOBAL.search(text)
        if m:
            what = m.group(1)
            raise CheckpointError(
                f"refused to load {name}: it asks for the Python global '{what}', which is not a plain "
                "tensor or container. The file may be malicious, or it pickles a whole Python object "
                "(e.g. torch.save(model)); save model.state_dict() instead. Nothing from it was run.") from None
        raise CheckpointError(f"{name} is a PyTorch file that could not be read safely "
                              f"({_unpickling_reason(text)}); nothing from it was run.") from None
    except (RuntimeError, zipfile.BadZipFile, EOFError, ValueError, KeyError, IndexError,
            TypeError, AttributeError, OverflowError, MemoryError, RecursionError, OSError,
            UnicodeDecodeError, AssertionError) as e:
        first = (str(e).strip().splitlines() or [""])[0]
        raise CheckpointError(f"{name} is a PyTorch file but it is damaged or truncated "
                              f"({type(e).__name__}: {shorten(first, 160)}).") from None


def unwrap_prefix(sd: dict, prefix: str = "module.") -> dict:
    """Strip DataParallel's `module.` prefix when every key carries it."""
    if sd and all(isinstance(k, str) and k.startswith(prefix) for k in sd):
        return {k[len(prefix):]: v for k, v in sd.items()}
    return sd


def describe_keys(obj: Any, limit: int = 8) -> str:
    if isinstance(obj, dict):
        keys = [brief(k, 40, quote=False) for k in list(obj.keys())[:limit]]
        more = f", ... ({len(obj)} in all)" if len(obj) > limit else ""
        return "keys " + ", ".join(keys) + more
    return f"a {type(obj).__name__}"


# ---------------------------------------------------------------- the reader of last resort

def sniff(path: Path, head: bytes) -> bool:
    return is_torch_file(head)


def read(path: Path, sha256: str):
    obj = load(path)   # raises the refusal / damage message when loading fails
    raise CheckpointError(f"{path.name} is a PyTorch file, but not a generator layout GAN Explorer "
                          f"knows (found {describe_keys(obj)}). Supported: pytorch/examples DCGAN "
                          "state dicts, rosinality and lucidrains StyleGAN2 checkpoints.")
