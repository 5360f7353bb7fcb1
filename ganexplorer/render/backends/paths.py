"""Where compiled render graphs are kept: the user's cache folder (they can be rebuilt, so
they are cache, not data).

$GANEXPLORER_CACHE_DIR when set (tests, portable installs), else the platform's cache
folder: $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA%
on Windows; `ganexplorer/render-graphs` inside it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_ENV = "GANEXPLORER_CACHE_DIR"


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ganexplorer"


def graphs_dir() -> Path:
    return cache_root() / "render-graphs"
