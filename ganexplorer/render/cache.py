"""Opened models, kept so that switching back to one is instant.

Thread-safe (a loader job and the GUI may ask at once). A file is reopened when its size
or modification time changed. Loading errors are the loader's CheckpointError, unchanged.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from ..models.loaded import LoadedModel
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
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        model = load_model(path)
        with self._lock:
            if key is not None:
                self._items[key] = model
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return model

    def __len__(self) -> int:
        return len(self._items)
