"""Where the wizard keeps training runs by default."""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QStandardPaths

RUNS_ENV = "GANEXPLORER_RUNS"   # overrides the runs root (tests, portable installs)


def default_runs_root() -> Path:
    """The folder new runs go into and the model picker lists "recently trained" from.

    `$GANEXPLORER_RUNS` when set, else `<generic data location>/ganexplorer/runs`
    (~/.local/share/ganexplorer/runs on Linux). It does not depend on the application or
    organisation name, so the window and the wizard always agree on it.
    """
    env = os.environ.get(RUNS_ENV)
    if env:
        return Path(env).expanduser()
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    if not base:
        base = str(Path.home() / ".local" / "share")
    return Path(base) / "ganexplorer" / "runs"


def new_run_dir(root: Path, preset: str, data: str) -> Path:
    """A fresh, not yet existing folder name under `root`: <preset>-<data>-<timestamp>."""
    stem = Path(data).stem if ("/" in data or os.sep in data) else data
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:40] or "data"
    base = f"{preset}-{safe}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate = root / base
    n = 2
    while candidate.exists():
        candidate = root / f"{base}-{n}"
        n += 1
    return candidate
