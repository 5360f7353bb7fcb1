"""Opened models, kept so that switching back to one is instant, and private copies of
them for background jobs.

Thread-safe (a loader job and the GUI may ask at once). A file is reopened when its size
or modification time changed. Loading errors are the loader's CheckpointError, unchanged.

Who touches which generator: the cached `LoadedModel.G` belongs to the render thread
(the Renderer keeps its own copies for other devices). Every other job — editing,
projection, warm-up, directions — runs on `job_model(model, device)`: its own copy on the
device the user chose, so no two threads ever mutate one module (projection rewrites
noise buffers, editing flips requires_grad, feature hooks attach to modules).
"""
from __future__ import annotations

import copy
import dataclasses
import os
import threading
from collections import OrderedDict
from pathlib import Path

from torch import nn

from ..models.loaded import LoadedModel
from ..models.declared import apply_declared
from ..models.registry import load_model


class ModelCache:
    def __init__(self, size: int = 3):          # models kept open (CPU memory)
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._size = size

    @staticmethod
    def _key(path: Path) -> tuple:
        st = path.stat()
        return (str(path.resolve()), st.st_size, st.st_mtime_ns)

    def get(self, path: str | os.PathLike) -> LoadedModel:
        """The model in `path`, from the cache or freshly loaded (raises CheckpointError)."""
        path = Path(path).expanduser()
        try:
            key = self._key(path)
        except OSError:
            key = None            # let the loader produce its readable message
        with self._lock:
            cached = self._items.get(key) if key is not None else None
        if cached is not None:
            # a label size declared since (or forgotten) gives a new model object
            model = apply_declared(cached)
            with self._lock:
                self._items[key] = model
                self._items.move_to_end(key)
            return model
        model = apply_declared(load_model(path))   # a DCGAN's remembered label size
        with self._lock:
            if key is not None:
                self._items[key] = model
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return model

    def __len__(self) -> int:
        return len(self._items)


def job_model(model: LoadedModel, device: str, *, D: bool = False, E: bool = False) -> LoadedModel:
    """`model` with a private copy of G on `device`, and of D and E when asked (else None).

    The copies share no parameter or buffer with `model`, so a job may change them freely
    while the render thread draws with the original. Networks the job did not ask for are
    left out: a job cannot reach a shared one by accident.
    """
    def private(net: nn.Module | None) -> nn.Module | None:
        # deepcopy, then move: moving the original would take it from the render thread.
        return None if net is None else copy.deepcopy(net).to(device)

    return dataclasses.replace(model, G=private(model.G), D=private(model.D) if D else None,
                               E=private(model.E) if E else None)
