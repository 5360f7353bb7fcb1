"""Find training runs on disk and the checkpoint each one offers to the explorer. No Qt.

A run folder is one the trainer wrote with `--out`: it holds `events.jsonl` (and usually
`config.json`) and native checkpoints (`*.safetensors`). The checkpoint a run offers is
the newest EMA generator named by a `checkpoint` event that still exists; runs written
before events named their files fall back to the newest `*.safetensors` in the folder.

The UI keeps runs under one root folder (see `ganexplorer.ui.training.paths`); these
functions take the root as an argument so they stay testable.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runs.folder import CONFIG_FILE, EVENTS_FILE, is_run_dir
from .run_events import load_history

CHECKPOINT_SUFFIX = ".safetensors"


@dataclass(frozen=True)
class RunInfo:
    run_dir: Path                    # the run folder
    checkpoint: Path | None          # newest EMA generator checkpoint, None before the first one
    preset: str | None               # e.g. "dcgan-32", from the start event or config.json
    data: str | None                 # the dataset argument the run was started with
    kimg: float                      # how far it got
    total_kimg: float | None         # how far it was meant to go
    status: str                      # "done", "stopped", "error", "nan" or "unfinished"
    modified: float                  # seconds since the epoch of the newest event


def _fallback_checkpoint(run_dir: Path) -> Path | None:
    """The newest *.safetensors in the folder, preferring names that say EMA/G over
    resume states, for runs whose events do not name their checkpoints."""
    files = [p for p in run_dir.glob(f"*{CHECKPOINT_SUFFIX}")
             if p.is_file() and not p.name.startswith(".")]
    if not files:
        return None
    def rank(p: Path) -> tuple[int, float]:
        name = p.name.lower()
        resume_like = any(word in name for word in ("resume", "state", "optim"))
        return (0 if resume_like else 1, p.stat().st_mtime)
    return max(files, key=rank)


def newest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The checkpoint the explorer should open for this run, or None."""
    run_dir = Path(run_dir)
    history = load_history(run_dir)
    good = history.last_good_checkpoint()
    if good is not None:
        return good.path
    end = history.end or {}
    last = history.resolve(end.get("last_checkpoint"))
    if last is not None and last.is_file():
        return last
    return _fallback_checkpoint(run_dir)


def _config_json(run_dir: Path) -> dict[str, Any]:
    try:
        value = json.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def describe_run(run_dir: str | os.PathLike) -> RunInfo:
    run_dir = Path(run_dir)
    history = load_history(run_dir)
    config = history.config or _config_json(run_dir)
    checkpoint = newest_checkpoint(run_dir)
    events = run_dir / EVENTS_FILE
    try:
        modified = events.stat().st_mtime if events.exists() else run_dir.stat().st_mtime
    except OSError:
        modified = 0.0
    reason = (history.end or {}).get("reason")
    data = config.get("data")
    preset = config.get("preset")
    total = history.total_kimg
    if total is None and isinstance(config.get("kimg"), (int, float)):
        total = float(config["kimg"])
    return RunInfo(run_dir=run_dir, checkpoint=checkpoint,
                   preset=preset if isinstance(preset, str) else None,
                   data=str(data) if data is not None else None,
                   kimg=history.kimg, total_kimg=total,
                   status=reason if isinstance(reason, str) else "unfinished",
                   modified=modified)


def scan_runs(root: str | os.PathLike) -> list[RunInfo]:
    """Every run folder directly under `root` (or `root` itself), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    candidates = [root] if is_run_dir(root) else []
    try:
        candidates += [p for p in root.iterdir() if p.is_dir() and is_run_dir(p)]
    except OSError:
        pass
    runs = [describe_run(p) for p in candidates]
    runs.sort(key=lambda r: r.modified, reverse=True)
    return runs


def list_runs(root: str | os.PathLike) -> list[tuple[Path, Path]]:
    """(run_dir, newest_checkpoint) for each run under `root` that has a checkpoint,
    most recently active first: what a model picker lists as "recently trained"."""
    return [(r.run_dir, r.checkpoint) for r in scan_runs(root) if r.checkpoint is not None]
