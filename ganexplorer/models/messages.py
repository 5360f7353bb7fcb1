"""Loader messages a person can act on: one whole sentence, never a token cut in half,
never advice to switch a safety off.

torch's refusals end with "Re-running `torch.load` with `weights_only` set to `False` will
likely succeed, but it can result in arbitrary code execution"; for a file we do not trust
that is the wrong advice, so such sentences are dropped. Long parts are shortened at a
boundary between words and brackets are closed, so a message never ends in "torch.Size([3).".
"""
from __future__ import annotations

import re

MAX_MESSAGE = 400
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_UNSAFE = re.compile(r"weights_only|arbitrary code execution|trust the source|safe_globals|"
                     r"add_safe_globals|WeightsUnpickler|trusted source|Weights only load failed", re.IGNORECASE)
# torch's shape mismatch: "size mismatch for K: copying a param with shape torch.Size([a]) from
# checkpoint, the shape in current model is torch.Size([b])."
_SIZE_MISMATCH = re.compile(r"size mismatch for ([\w.]+): copying a param with shape "
                            r"torch\.Size\(\[([\d, ]*)\]\) from checkpoint, the shape in current "
                            r"model is torch\.Size\(\[([\d, ]*)\]\)")


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", text)


def drop_unsafe_advice(text: str) -> str:
    """Remove sentences that mention turning torch's weights_only safety off."""
    kept = [s for s in _sentences(text) if not _UNSAFE.search(s)]
    return " ".join(kept).strip()


def close_brackets(text: str) -> str:
    """Append the closers of brackets left open (quotes are not tracked: apostrophes)."""
    stack: list[str] = []
    for ch in text:
        if ch in _CLOSE:
            stack.append(_CLOSE[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
    return text + "".join(reversed(stack))


def shorten(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters between two words, with "…" and closed brackets."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    # Back up to a boundary: a space or the end of an item ("," ";"), never inside a token.
    m = re.search(r"[\s,;]+[^\s,;]*$", cut)
    cut = cut[: m.start()] if m and m.start() > limit // 3 else cut.rsplit(" ", 1)[0]
    return close_brackets(cut.rstrip(" ,;:([{") + " …")


def translate_torch(text: str) -> str | None:
    """torch's load_state_dict size-mismatch wording -> ours (layer, file shape, needed shape)."""
    m = _SIZE_MISMATCH.search(text)
    if m:
        key, have, need = m.groups()
        return f"layer {key} has shape [{have}] in the file but the architecture needs [{need}]"
    return None


def tidy(message: str, limit: int = MAX_MESSAGE) -> str:
    """The final form of every loader message."""
    text = close_brackets(" ".join(drop_unsafe_advice(message).split()))
    text = shorten(text, limit)
    if text and text[-1] not in ".!?":
        text += "."
    return text
