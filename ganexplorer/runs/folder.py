"""The layout of a run folder, and the rules about what a folder holds. No torch, no Qt.

    config.json                         the resolved TrainConfig
    events.jsonl                        the event log (schema in events.py)
    samples/grid-<kimg>.png             G_ema on fixed latents: seeds 0..grid_size-1
    network-snapshot-<kimg>.safetensors native checkpoint for the app: {G: EMA G, D};
                                        <kimg> is whole kimg ("000120"), or "000120.064"
                                        for a second snapshot within the same kimg
    resume-<step>.pt                    everything to continue training

Every file is written atomically (a hidden temporary file beside it, then a rename), so a
file with one of these names is complete; a kill leaves only hidden temporaries, which
the next start of the run removes (`leftovers`).
"""
from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILE = "config.json"
EVENTS_FILE = "events.jsonl"
SAMPLES_DIR = "samples"
RESUME_GLOB = "resume-*.pt"
SNAP_GLOB = "network-snapshot-*.safetensors"
# Temporaries: ganexplorer.atomic's ".<stem>.XXXX<suffix>.part<suffix>", and tempfile's
# default ".tmpXXXX"/"tmpXXXX" names that libraries writing beside a target use.
LEFTOVER_GLOBS = (".*.part.*", ".tmp*", "tmp*.tmp")


def snapshot_name(label: str) -> str:
    return f"network-snapshot-{label}.safetensors"


def resume_name(step: int) -> str:
    return f"resume-{step:08d}.pt"


def grid_name(label: str) -> str:
    """Relative to the run folder."""
    return f"{SAMPLES_DIR}/grid-{label}.png"


def by_kimg(path: Path) -> float:
    """Sort key for snapshots: the kimg in the name ("000120.064" -> 120.064)."""
    label = path.name.removeprefix("network-snapshot-").removesuffix(".safetensors")
    try:
        return float(label)
    except ValueError:
        return -1.0


def snapshots(run_dir: str | os.PathLike) -> list[Path]:
    """Snapshot files, oldest first (by the kimg in their names)."""
    return sorted(Path(run_dir).glob(SNAP_GLOB), key=by_kimg)


def find_resume(run_dir: str | os.PathLike) -> list[Path]:
    """Complete resume states, newest first (temporary files start with '.')."""
    return sorted(Path(run_dir).glob(RESUME_GLOB), reverse=True)


def holds_run(run_dir: str | os.PathLike) -> bool:
    """The rule for `--out` and the wizard: a folder holds a run once the run has saved a
    complete resume state. Before that (killed while starting, or before the first
    snapshot) nothing in it can be continued, so a new run may start there in place."""
    return bool(find_resume(run_dir))


def can_resume(run_dir: str | os.PathLike) -> bool:
    """Whether `--resume RUN` can go on: the run wrote its config.json (it continues from its
    newest complete state, or from step 0 when it was killed before saving one)."""
    return (Path(run_dir) / CONFIG_FILE).is_file()


def is_run_dir(path: str | os.PathLike) -> bool:
    """A folder the trainer wrote (possibly a run killed before its first save)."""
    p = Path(path)
    return (p / EVENTS_FILE).is_file() or (p / CONFIG_FILE).is_file()


def leftovers(run_dir: str | os.PathLike) -> list[Path]:
    """Temporary files a killed save left in the run folder or its samples folder."""
    run_dir = Path(run_dir)
    found: set[Path] = set()
    for folder in (run_dir, run_dir / SAMPLES_DIR):
        if folder.is_dir():
            for pattern in LEFTOVER_GLOBS:
                found.update(p for p in folder.glob(pattern) if p.is_file())
    return sorted(found)
