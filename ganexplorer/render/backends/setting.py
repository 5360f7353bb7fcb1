"""The render back-end preference, a Qt-free setting the CLI and the window share.

Values: 'auto' (the fast back end where it applies and has been checked, else eager),
'eager' (plain PyTorch, always), or a back end's name ('openvino'). Read in this order:
$GANEXPLORER_BACKEND, the value set in this process (`set_preference`, e.g. from
`--backend`), the one saved by the window's Preferences (`save_preference`), DEFAULT.

DEFAULT is 'auto': the graphs in memory are bounded (the last two models, graphs.MAX_MODELS),
a build runs in a child process that is killed when its model closes or the program exits,
and the window renders with eager until a graph is ready.
"""
from __future__ import annotations

import json
import os
import threading

from ...atomic import atomic_write_text
from ...models.declared import config_dir

BACKEND_ENV = "GANEXPLORER_BACKEND"
FILE_NAME = "render_backend.json"
CHOICES = ("auto", "eager", "openvino")   # 'auto' | 'eager' | a back end's name
DEFAULT = "auto"

_lock = threading.Lock()
_session: str | None = None
_wait = False


def check_choice(name: str) -> str:
    """`name` if it is a known choice, else ValueError naming the choices."""
    if name not in CHOICES:
        raise ValueError(f"unknown render back end {name!r}: choose one of {', '.join(CHOICES)}")
    return name


def preference() -> str:
    env = os.environ.get(BACKEND_ENV)
    if env:
        return check_choice(env.strip().lower())
    with _lock:
        if _session is not None:
            return _session
    try:
        saved = json.loads((config_dir() / FILE_NAME).read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        saved = None
    return saved if saved in CHOICES else DEFAULT


def set_preference(name: str | None, wait: bool = False) -> None:
    """This process's choice (None: back to the saved one / 'auto'). wait=True: a call that
    needs a graph waits for it to be built (a batch job; never the window)."""
    global _session, _wait
    with _lock:
        _session = None if name is None else check_choice(name)
        _wait = bool(wait)


def wait_for_graph() -> bool:
    with _lock:
        return _wait


def save_preference(name: str) -> None:
    """Persist the choice for later sessions (the window's Preferences entry) and use it now."""
    check_choice(name)
    config_dir().mkdir(parents=True, exist_ok=True)
    atomic_write_text(config_dir() / FILE_NAME, json.dumps({"backend": name}) + "\n")
    set_preference(name)
