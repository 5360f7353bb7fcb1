"""Sessions as JSON: the model (path and sha256) plus the whole SessionState.

Latents are stored bit-exactly (base64 of float32, as exported images carry them), so
reopening a session renders the identical images. Reading checks every field and raises
`SessionError` with a readable message; unknown fields are ignored (newer files open).
"""
from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..export.metadata import decode_array, encode_array
from .state import VIEWS, Edit, Endpoint, Group, ModelRef, Pin, SavedDirection, SessionState, freeze

FORMAT = "ganexplorer-session"
VERSION = 1
SUFFIX = ".ganexplorer.json"


class SessionError(Exception):
    """A session file could not be read; the message says why."""


def state_to_dict(s: SessionState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(s):
        v = getattr(s, f.name)
        if f.name == "base_ws":
            v = None if v is None else encode_array(v)
        elif f.name == "pins":
            v = [{"id": p.id, "label": p.label, "seed": p.seed, "psi": p.psi, "ws": encode_array(p.ws),
                  "class_index": p.class_index} for p in v]
        elif f.name == "groups":
            v = [{"sign": g.sign, "pin_ids": list(g.pin_ids)} for g in v]
        elif f.name == "edits":
            v = [{"name": e.name, "vector": encode_array(e.vector), "alpha": e.alpha,
                  "start": e.start, "stop": e.stop} for e in v]
        elif f.name == "saved_directions":
            v = [{"name": d.name, "vector": encode_array(d.vector), "scale": d.scale} for d in v]
        elif f.name == "endpoints":
            v = [{"seed": e.seed, "pin_id": e.pin_id} for e in v]
        elif f.name == "mix_layers":
            v = None if v is None else list(v)
        out[f.name] = v
    return out


def state_from_dict(d: dict[str, Any]) -> SessionState:
    default = SessionState()
    kw: dict[str, Any] = {}
    try:
        for f in fields(SessionState):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.name == "base_ws":
                v = None if v is None else freeze(decode_array(v))
            elif f.name == "pins":
                v = tuple(Pin(int(p["id"]), str(p["label"]), freeze(decode_array(p["ws"])),
                              None if p.get("seed") is None else int(p["seed"]), float(p.get("psi", 1.0)),
                              None if p.get("class_index") is None else int(p["class_index"]))
                          for p in v)
            elif f.name == "groups":
                v = tuple(Group(float(g["sign"]), tuple(int(i) for i in g["pin_ids"])) for g in v)
            elif f.name == "edits":
                v = tuple(Edit(str(e["name"]), freeze(decode_array(e["vector"])), float(e["alpha"]),
                               int(e["start"]), None if e["stop"] is None else int(e["stop"])) for e in v)
            elif f.name == "saved_directions":
                v = tuple(SavedDirection(str(s["name"]), freeze(decode_array(s["vector"])), float(s["scale"]))
                          for s in v)
            elif f.name == "endpoints":
                v = tuple(Endpoint(None if e.get("seed") is None else int(e["seed"]),
                                   None if e.get("pin_id") is None else int(e["pin_id"])) for e in v)
            elif f.name == "mix_layers":
                v = None if v is None else (int(v[0]), int(v[1]))
            elif f.name in ("cutoff", "class_index"):
                v = None if v is None else int(v)
            elif f.name == "interp_classes":
                v = None if v is None else (int(v[0]), int(v[1]))
            elif f.name == "translate":
                v = (float(v[0]), float(v[1]))
            else:
                want = type(getattr(default, f.name))
                v = want(v)
            kw[f.name] = v
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise SessionError(f"the session's field {f.name!r} is damaged ({type(e).__name__}: {e})") from None
    state = SessionState(**kw)
    if state.view not in VIEWS:
        state = state.replace(view="sample")
    return state


def save_session(path: str | os.PathLike, model: ModelRef | None, state: SessionState) -> Path:
    path = Path(path)
    doc = {"format": FORMAT, "version": VERSION,
           "model": None if model is None else {"path": model.path, "sha256": model.sha256, **model.extra},
           "state": state_to_dict(state)}
    atomic_write_text(path, json.dumps(doc, indent=1))
    return path


def load_session(path: str | os.PathLike) -> tuple[ModelRef | None, SessionState]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SessionError(f"{path.name} could not be read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SessionError(f"{path.name} is not a GAN Explorer session (not JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SessionError(f"{path.name} is not a GAN Explorer session (expected format {FORMAT!r})")
    if int(doc.get("version", 0)) > VERSION:
        raise SessionError(f"{path.name} was saved by a newer GAN Explorer; update to open it")
    m = doc.get("model")
    model = None
    if isinstance(m, dict) and "path" in m:
        model = ModelRef(str(m["path"]), str(m.get("sha256", "")),
                         {k: v for k, v in m.items() if k not in ("path", "sha256")})
    state = doc.get("state")
    if not isinstance(state, dict):
        raise SessionError(f"{path.name} holds no session state")
    return model, state_from_dict(state)

