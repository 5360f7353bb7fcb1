"""Undo history over immutable session states: one entry per user action.

A continuous gesture (a slider drag) passes the same `merge` token with every change;
changes that carry the token of the newest entry replace that entry's state instead of
adding a new one, so the whole drag is one undo step. A new token (or None) starts a
new entry. Undoing or jumping back and then changing something drops the redo tail.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")


@dataclass
class Entry(Generic[S]):
    label: str            # what the user did, for the history list: 'psi 0.70', 'pin seed 5'
    state: S              # the state after that action
    merge: object = None  # token of the gesture that made it (None: not mergeable)


class History(Generic[S]):
    def __init__(self, initial: S, label: str = "start", limit: int = 500):
        self._entries: list[Entry[S]] = [Entry(label, initial)]
        self._index = 0            # the entry shown now
        self._limit = limit        # oldest entries are forgotten beyond this

    @property
    def state(self) -> S:
        return self._entries[self._index].state

    @property
    def index(self) -> int:
        return self._index

    def labels(self) -> list[str]:
        return [e.label for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, state: S, label: str, merge: object = None) -> None:
        """Record `state` as the result of an action; merge into the top entry when the
        gesture token matches and nothing was undone in between."""
        top = self._entries[self._index]
        if merge is not None and top.merge == merge and self._index == len(self._entries) - 1:
            top.state, top.label = state, label
            return
        del self._entries[self._index + 1:]
        self._entries.append(Entry(label, state, merge))
        if len(self._entries) > self._limit:
            del self._entries[0]
        self._index = len(self._entries) - 1

    def reset(self, state: S, label: str = "start") -> None:
        self._entries = [Entry(label, state)]
        self._index = 0

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._entries) - 1

    def undo(self) -> S:
        if self.can_undo():
            self._index -= 1
            self._entries[self._index + 1].merge = None   # a later drag never merges into it
        return self.state

    def redo(self) -> S:
        if self.can_redo():
            self._index += 1
        return self.state

    def jump(self, index: int) -> S:
        if 0 <= index < len(self._entries):
            self._index = index
            for e in self._entries:
                e.merge = None
        return self.state
