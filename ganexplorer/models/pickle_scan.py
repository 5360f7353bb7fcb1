"""A look at a pickle's opcodes before any unpickler runs it: tuples built from shared parts.

Unpickling itself can hang: a tuple of 64 levels, each holding the previous one twice
(BINGET, BINGET, TUPLE2), costs 1 KB, and the moment it becomes a dict key or a set item
Python hashes it, which walks all 2**64 paths inside C code that no timeout interrupts.
Hashing a tuple nested 3,000,000 deep overflows the C stack. This scan follows the pickle
machine's stack abstractly (`pickletools` knows every opcode's stack effect), tracks the
expanded size and the nesting of each tuple and frozenset, and refuses one over the
limits. Everything else is treated as an opaque item; the structure built from lists and
dicts is checked after loading (`untrusted.check_tree`).
"""
from __future__ import annotations

import io
import pickletools
from typing import BinaryIO

from .errors import CheckpointError
from .limits import MAX_PICKLE_OPS, MAX_TREE_COST, MAX_TREE_DEPTH

_TUPLES = {"TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "FROZENSET"}
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_GETS = {"GET", "BINGET", "LONG_BINGET"}


def scan_stream(f: BinaryIO, what: str, budget: int = MAX_TREE_COST) -> bool:
    """Scan one pickle from `f` (up to its STOP). False when the bytes are no readable pickle
    (the real loader then says what is wrong); CheckpointError on a tuple over budget."""
    leaf = (1, 0)
    stack: list[tuple[int, int]] = []   # (expanded size, nesting) of each item; leaf if no tuple
    marks: list[int] = []
    memo: dict[int, tuple[int, int]] = {}
    try:
        for count, (op, arg, _pos) in enumerate(pickletools.genops(f)):
            if count > MAX_PICKLE_OPS:
                # Millions of tiny items: unpickling them would take minutes and gigabytes.
                raise CheckpointError(f"refused to load: {what} holds more than {MAX_PICKLE_OPS:,} "
                                      "pickle instructions, far more than any checkpoint.")
            name = op.name
            if name == "MARK":
                marks.append(len(stack))
                continue
            if name in _PUTS:
                memo[arg] = stack[-1] if stack else leaf
                continue
            if name == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else leaf
                continue
            if name in _GETS:
                stack.append(memo.get(arg, leaf))
                continue
            if name == "DUP":
                stack.append(stack[-1] if stack else leaf)
                continue
            before = op.stack_before
            if pickletools.markobject in before:
                start = marks.pop() if marks else 0
                items = stack[start:]
                del stack[start:]
                below = before.index(pickletools.markobject)
                if below:
                    del stack[-below:]
            else:
                n = len(before)
                items = stack[len(stack) - n:] if n else []
                if n:
                    del stack[-n:]
            if name in _TUPLES:
                cost = 1 + sum(c for c, _ in items)
                depth = 1 + max((d for _, d in items), default=0)
                if cost > budget:
                    raise CheckpointError(
                        f"refused to load: {what} builds a tuple that expands to more than {budget:,} "
                        "items through shared references (hashing it would never finish); the file is "
                        "malformed or hostile.")
                if depth > MAX_TREE_DEPTH:
                    raise CheckpointError(
                        f"refused to load: {what} builds tuples nested more than {MAX_TREE_DEPTH} levels "
                        "deep, which a checkpoint never does.")
                stack.append((cost, depth))
                continue
            stack.extend(leaf for _ in op.stack_after)
    except CheckpointError:
        raise
    except (ValueError, EOFError, IndexError, KeyError, TypeError, UnicodeDecodeError, OverflowError):
        return False
    return True


def scan_bytes(data: bytes, what: str, pickles: int = 1) -> None:
    """Scan up to `pickles` consecutive pickles at the start of `data` (a legacy torch.save
    stream is five: magic, protocol, system info, the object, the storage keys)."""
    f = io.BytesIO(data)
    for _ in range(pickles):
        if not scan_stream(f, what) or f.tell() >= len(data):
            return
