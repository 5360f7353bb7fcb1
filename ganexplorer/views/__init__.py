"""The view registry: every view the image area can show, one module each.

Adding a view: write `views/<name>.py` (see views/base.py for what it defines), add its name
to `View` in views/base.py, and its module to `MODULES` below. Nothing else in session/ or
render/ changes; the window adds the view's panel as a tab (ui/main_window.py).
"""
from __future__ import annotations

from . import arithmetic, directions, drag, interpolate, labels, layers, mixing, sample
from .base import BuildContext, SubState, View, ViewSpec, freeze

# the views, in tab order (explicit imports: no registration by import side effect)
MODULES = (sample, interpolate, arithmetic, mixing, directions, labels, drag, layers)

REGISTRY: dict[View, ViewSpec] = {m.SPEC.view: m.SPEC for m in MODULES}


def spec(view: View | str) -> ViewSpec:
    """The registry entry of `view` (ValueError for a name no module registers)."""
    return REGISTRY[View(view)]


def default_states() -> tuple[SubState, ...]:
    """A fresh sub-state per registered view, in registry order."""
    return tuple(s.state() for s in REGISTRY.values())


__all__ = ["MODULES", "REGISTRY", "BuildContext", "SubState", "View", "ViewSpec", "default_states",
           "freeze", "spec"]
