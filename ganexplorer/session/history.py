"""Undo history over immutable session states: one entry per user action.

A continuous gesture (a slider drag) passes the same `merge` token with every change;
changes that carry the token of the newest entry replace that entry's state instead of
adding a new one, so the whole drag is one undo step. A new token (or None) starts a
new entry. Undoing or jumping back and then changing something drops the redo tail.

Every entry changes something: with a `same` test, a push equal to the entry below it is
not recorded (a drag that comes back to where it started leaves no step behind).

`dirty` says whether the entry shown differs from the last one saved (`mark_saved`), so the
window asks before it discards work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

S = TypeVar("S")


@dataclass
class Entry(Generic[S]):
    label: str            # what the user did, for the history list: 'psi 0.70', 'pin seed 5'
    state: S              # the state after that action
    merge: object = None  # token of the gesture that made it (None: not mergeable)


class History(Generic[S]):
    def __init__(self, initial: S, label: str = "start", limit: int = 500,
                 same: Callable[[S, S], bool] | None = None):
        self._entries: list[Entry[S]] = [Entry(label, initial)]
        self._index = 0            # the entry shown now
        self._limit = limit        # oldest entries are forgotten beyond this
        self._same = same          # (a, b) -> True when b changes nothing against a
        self._saved: Entry[S] | None = self._entries[0]   # the entry last saved (None: none is)

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

    def push(self, state: S, label: str, merge: object = None) -> bool:
        """Record `state` as the result of an action; merge into the top entry when the
        gesture token matches and nothing was undone in between. False when nothing was
        recorded because `state` changes nothing."""
        top = self._entries[self._index]
        if merge is not None and top.merge == merge and self._index == len(self._entries) - 1:
            below = self._entries[self._index - 1] if self._index > 0 else None
            if below is not None and self._unchanged(below.state, state):
                del self._entries[self._index]      # the drag came back: no step left
                self._index -= 1
                return True
            if self._unchanged(top.state, state):
                return False
            top.state, top.label = state, label
            if self._saved is top:
                self._saved = None
            return True
        if self._unchanged(top.state, state):
            return False
        del self._entries[self._index + 1:]
        self._entries.append(Entry(label, state, merge))
        if len(self._entries) > self._limit:
            del self._entries[0]
        self._index = len(self._entries) - 1
        return True

    def _unchanged(self, a: S, b: S) -> bool:
        return a is b or (self._same is not None and self._same(a, b))

    def amend(self, state: S) -> None:
        """Replace the state shown without a new step (what is not undone: the current view)."""
        self._entries[self._index].state = state

    def mark_saved(self) -> None:
        """The state shown now is saved (a session file, or nothing worth keeping)."""
        self._saved = self._entries[self._index]

    @property
    def dirty(self) -> bool:
        """True when the state shown is not the one last saved."""
        return self._saved is not self._entries[self._index]

    def reset(self, state: S, label: str = "start", saved: bool = True) -> None:
        """Start over from `state`; `saved=False` when it is work not in any file (a recovery)."""
        self._entries = [Entry(label, state)]
        self._index = 0
        self._saved = self._entries[0] if saved else None

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
