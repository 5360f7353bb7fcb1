"""Walking object trees that came out of an untrusted file, in time linear in the file.

A pickle can reference one object many times (BINGET), so a 1.5 KB file can describe a
chain of 64 lists each holding the previous one twice: 2**64 paths. Anything that walks
such a tree naively (`str()`, `json.dumps`, a recursive converter) never finishes. So:

* `check_tree` runs once on every unpickled tree, before any reader looks at it. It visits
  each object once (memoised by id), refuses loops and deep nesting, and computes the
  size the tree *would* have if every shared reference were expanded; over a budget the
  file is refused. After it, naive walkers downstream are bounded by that budget.
* `plain` converts a subtree to JSON-able data (memoised, with its own small budget).
* `brief` describes any object in a few dozen characters, for messages.
"""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from .errors import CheckpointError
from .limits import MAX_TREE_COST, MAX_TREE_DEPTH

_TEXT = (str, bytes, bytearray)


def _children(obj: Any) -> tuple:
    """Direct sub-objects of a container; () for leaves (tensors, numbers, strings)."""
    if isinstance(obj, dict):
        return (*obj.keys(), *obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return tuple(obj)
    if isinstance(obj, argparse.Namespace):
        return tuple(vars(obj).values())
    state = getattr(obj, "state", None)   # safe_pickle.PersistentObject (duck-typed: no import cycle)
    if isinstance(state, dict) and hasattr(obj, "class_name"):
        return (state,)
    return ()


def _leaf_cost(obj: Any) -> int:
    # Text is copied by str(); long strings count by length so that one 1 MB string shared a
    # million times is as expensive as it would be to print.
    if isinstance(obj, _TEXT):
        return 1 + len(obj) // 64
    return 1


def check_tree(root: Any, what: str = "this file", budget: int = MAX_TREE_COST) -> int:
    """The expanded size of `root`; CheckpointError on a loop, deep nesting or a size over budget.

    Iterative (no recursion limit) and linear in the number of distinct objects."""
    cost: dict[int, int] = {}
    alive: list[Any] = []             # keeps visited objects alive so that ids stay unique
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        obj, depth, expanded = stack.pop()
        key = id(obj)
        if expanded:
            on_path.discard(key)
            total = 1 + sum(cost[id(c)] for c in _children(obj))
            if total > budget:
                raise CheckpointError(
                    f"refused to load: {what} describes data that expands to more than {budget:,} "
                    "items through shared references; a real checkpoint is far smaller. The file is "
                    "malformed or hostile.")
            cost[key] = total
            continue
        if key in cost:
            continue
        if key in on_path:
            raise CheckpointError(f"refused to load: the data in {what} refers to itself in a loop, "
                                  "which a checkpoint never does.")
        children = _children(obj)
        if not children:
            cost[key] = _leaf_cost(obj)
            alive.append(obj)
            continue
        if len(children) > budget or len(alive) > budget:
            raise CheckpointError(f"refused to load: {what} holds more than {budget:,} items, "
                                  "far more than a checkpoint.")
        if depth >= MAX_TREE_DEPTH:
            raise CheckpointError(f"refused to load: the data in {what} is nested more than "
                                  f"{MAX_TREE_DEPTH} levels deep, which a checkpoint never is.")
        alive.append(obj)
        on_path.add(key)
        stack.append((obj, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in cost)
    return cost[id(root)]


def tensors_in(root: Any) -> list[tuple[str, torch.Tensor]]:
    """Every tensor in a (checked) tree, each once, with a dotted path for messages."""
    out: list[tuple[str, torch.Tensor]] = []
    seen: set[int] = set()
    alive: list[Any] = []
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        obj, where = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        alive.append(obj)
        if isinstance(obj, torch.Tensor):
            out.append((where or "the top-level tensor", obj))
        elif isinstance(obj, dict):
            stack.extend((v, f"{where}.{brief(k, 40)}" if where else brief(k, 40, quote=False))
                         for k, v in obj.items())
        elif isinstance(obj, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(obj))
        else:
            stack.extend((c, where) for c in _children(obj))
    return out


def plain(obj: Any, what: str = "a value", budget: int = 10_000, text_limit: int | None = None) -> Any:
    """A JSON-able tree copied from `obj` (dict keys as text, tuples as lists, 0-d arrays as
    numbers, strings shortened to `text_limit`).

    Every visit counts, shared or not, so the copy (and any json.dumps of it) has at most
    `budget` items; over that, CheckpointError."""
    count = [0]

    def go(v: Any, depth: int) -> Any:
        count[0] += 1
        if count[0] > budget:
            raise CheckpointError(f"{what} is implausibly large for a checkpoint setting.")
        if depth > MAX_TREE_DEPTH:
            raise CheckpointError(f"{what} is nested implausibly deep.")
        if isinstance(v, dict):
            return {(k if isinstance(k, str) else brief(k, 60, quote=False)): go(x, depth + 1)
                    for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [go(x, depth + 1) for x in v]
        if isinstance(v, (np.ndarray, np.generic, torch.Tensor)) and getattr(v, "ndim", 1) == 0:
            return v.item()
        if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
            return brief(v)   # json and str() refuse integers of thousands of digits
        if isinstance(v, str) and text_limit is not None and len(v) > text_limit:
            from .messages import shorten
            return shorten(v, text_limit)
        return v

    return go(obj, 0)


def brief(obj: Any, limit: int = 60, quote: bool = True) -> str:
    """A short description of any object for a message: never more than about `limit`
    characters, never a cut in the middle of a number or a name."""
    parts: list[str] = []
    room = [max(limit, 8)]

    def emit(s: str) -> bool:
        if len(s) > room[0]:
            return False
        parts.append(s)
        room[0] -= len(s)
        return True

    def go(v: Any, depth: int) -> bool:
        if isinstance(v, str):
            text = repr(v) if quote else v
            if len(text) > room[0]:
                words = v[: max(room[0] - 4, 0)].rsplit(" ", 1)[0] if " " in v else ""
                text = (repr(words + "…") if quote else words + "…") if words else ("'…'" if quote else "…")
            return emit(text)
        if isinstance(v, bool) or v is None:
            return emit(str(v))
        if isinstance(v, int):
            return emit(str(v) if v.bit_length() <= 64 else "a huge integer")
        if isinstance(v, float):
            return emit(f"{v:g}")
        if isinstance(v, torch.Tensor):
            return emit(f"tensor{list(v.shape)}")
        if isinstance(v, np.ndarray):
            return emit(f"array{list(v.shape)}")
        if isinstance(v, (bytes, bytearray)):
            return emit(f"{len(v)} bytes")
        if isinstance(v, (list, tuple, dict, set, frozenset)):
            if depth >= 3:
                return emit("…")
            opener, closer = {list: "[]", tuple: "()", dict: "{}"}.get(type(v), "{}")
            if isinstance(v, dict) and type(v) is not dict:
                opener, closer = "{", "}"
            if not emit(opener):
                return False
            items = list(v.items()) if isinstance(v, dict) else list(v)
            for i, item in enumerate(items[:50]):
                if i and not emit(", "):
                    parts.append("…")
                    break
                if isinstance(v, dict):
                    ok = go(item[0], depth + 1) and emit(": ") and go(item[1], depth + 1)
                else:
                    ok = go(item, depth + 1)
                if not ok:
                    parts.append("…")
                    break
            else:
                if len(items) > 50:
                    parts.append(", …")
            parts.append(closer)
            return True
        return emit(f"a {type(v).__name__}")

    go(obj, 0)
    return "".join(parts)
