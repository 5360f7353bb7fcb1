"""The explorer core: everything the window decides, with no Qt in it.

An `Explorer` owns the open model, the device, the undo history (a push equal to the state
below it is dropped; `dirty` until saved), the single current view, the stamp gate, the
last result on screen and the newest extra figures, the current latent, the direction
cache and the autosave. Front ends call its commands and listen:

- commands: `change`, `change_sub` (one view's sub-state), `apply`, `undo`, `redo`, `jump`;
  pins (`pin_current`, `pin_seed`, `pin_arithmetic_result`, `show_pin`, `remove_pin`, `clear_pins`),
  `save_arithmetic_direction`, `set_ws`, `bake_edits`; `set_view`, `set_device`,
  `model_loaded`; `build_request` / `request_render` / `accept(result)`; `direction_set`;
  session files (`save_session`, `read_session`, `reset_to`) and recovery (`orphans`).
- listeners: plain callables in `on_change` (after every history step, once the request
  for it is submitted), `on_status(text, ms)` (a message for the status line) and
  `on_directions(error)` (a direction set finished: "" or why it failed). The window
  bridges them to its Qt signals; a test or a script calls and reads them directly.
  `accept(result)` returns what changed ('latent' among them) for the caller to show.

Jobs (model loading, direction sets) start through a small `Jobs` runner: the window's
`JobRunner` (threads, queued signals), or `InlineJobs`, which runs them at once.
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from ..latent.directions import Directions, find_directions
from ..models.loaded import LoadedModel
from ..render.cache import job_model
from ..render.figures import Figure
from ..render.mailbox import StampGate
from ..render.requests import EditOp, RenderRequest, RenderResult, Source
from ..render.synth import PREVIEW_BUDGET_MS
from .history import History
from .io import SessionError, load_session
from .io import save_session as write_session
from .recovery import Autosaver, Orphan, discard, orphans
from ..views import REGISTRY, BuildContext, View, spec
from ..views.arithmetic import MEANS, RESULT
from .state import ModelRef, SavedDirection, SessionState

# the extra figures an export can take: the pins, then each view's thumbnails (name -> title)
EXTRA_TITLES = {"pins": "Pins", **{k: t for s in REGISTRY.values() for k, t in s.extras.items()}}


class Jobs(Protocol):
    """What the core needs from a job runner (ui.jobs.JobRunner, InlineJobs)."""
    device: str

    def start(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None, name: str = "job", **kwargs: Any) -> Any: ...

    def start_on_model(self, model: LoadedModel, fn: Callable[..., Any], *args: Any,
                       on_done: Callable[[Any], None] | None = None,
                       on_error: Callable[[str], None] | None = None, name: str = "job") -> Any: ...


class InlineJobs:
    """Runs each job at once on the calling thread (scripts, tests): on_done with the value,
    or on_error with the message of a ValueError / OSError."""

    def __init__(self, device: str = "cpu"):
        self.device = device

    def start(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None, name: str = "job", **kwargs: Any) -> None:
        try:
            value = fn(*args, **kwargs)
        except (ValueError, OSError) as e:
            if on_error is None:
                raise
            on_error(str(e))
            return
        if on_done is not None:
            on_done(value)

    def start_on_model(self, model: LoadedModel, fn: Callable[..., Any], *args: Any,
                       on_done: Callable[[Any], None] | None = None,
                       on_error: Callable[[str], None] | None = None, name: str = "job") -> None:
        self.start(lambda: fn(job_model(model, self.device), *args), on_done=on_done, on_error=on_error, name=name)


class Explorer:
    def __init__(self, jobs: Jobs, submit: Callable[[RenderRequest], None] | None = None,
                 device: str = "cpu", recovery_dir: Path | None = None):
        # every entry must change something: a push equal to the state below is dropped
        self.history: History[SessionState] = History(SessionState(), same=lambda a, b: a.same_as(b))
        self.autosave = Autosaver(folder=recovery_dir)
        self.jobs = jobs
        self.submit = submit or (lambda req: None)     # where stamped requests go (the render thread)
        self.device = device
        self.jobs.device = device
        self.gate = StampGate()
        self.last_result: RenderResult | None = None   # the result on screen
        self.figures: dict[str, Figure] = {}           # newest figure per extra ('pins', 'grid', 'strip')
        self.extra_keys: dict[str, str] = {}
        self.dragging = False                          # a slider drag is under way: skip the browse grid
        self.preview_budget_ms: float | None = PREVIEW_BUDGET_MS   # a drag's frame budget (None: no previews)
        self.syncing = False                           # panels are showing the state: gestures are echoes
        self.on_change: list[Callable[[], None]] = []
        self.on_status: list[Callable[[str, int], None]] = []
        self.on_directions: list[Callable[[str], None]] = []
        self._model: LoadedModel | None = None
        self._current_ws: np.ndarray | None = None
        self._directions: dict[tuple, Directions] = {}
        self._pending_dirs: set[tuple] = set()
        self._saved_dirs: tuple[tuple, Directions] | None = None

    # ================================================================== reading
    @property
    def state(self) -> SessionState:
        return self.history.state

    @property
    def model(self) -> LoadedModel | None:
        return self._model

    def current_ws(self) -> np.ndarray | None:
        """[1, num_ws, w_dim] of the image on screen (direction edits included); a copy."""
        return None if self._current_ws is None else np.array(self._current_ws, copy=True)

    def figure(self, name: str) -> Figure | None:
        """The newest extra figure: 'pins' (None without pins), 'grid' or 'strip'."""
        if name == "pins" and not self.state.pins:
            return None
        return self.figures.get(name)

    def model_ref(self) -> ModelRef | None:
        m = self._model
        return None if m is None else ModelRef(str(m.path), m.sha256)

    @property
    def view(self) -> View:
        """The view shown now (kept in the state, so the session file has it)."""
        return self.state.view

    def saved_state(self) -> SessionState:
        """The state as a session file keeps it."""
        return self.state

    def _status(self, text: str, ms: int = 4000) -> None:
        for cb in self.on_status:
            cb(text, ms)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """While panels show the state (or adapt to a model), their setters are not gestures."""
        was, self.syncing = self.syncing, True
        try:
            yield
        finally:
            self.syncing = was

    # ================================================================== history
    def change(self, label: str, gesture: object = None, **fields: Any) -> None:
        """A gesture: the current state with `fields` replaced, as one undo step (merged with
        the previous step while `gesture` is the same drag). Ignored while muted."""
        if self.syncing:
            return
        self.apply(self.state.replace(**fields), label, gesture)

    def change_sub(self, view: View | str, label: str, gesture: object = None, **fields: Any) -> None:
        """A gesture on one view's sub-state: its `fields` replaced, as one undo step (as `change`)."""
        if self.syncing:
            return
        self.apply(self.state.change_sub(view, **fields), label, gesture)

    def apply(self, state: SessionState, label: str, gesture: object = None) -> None:
        if self.syncing:
            return
        self.dragging = gesture is not None and not getattr(gesture, "done", True)
        if self.history.push(state, label, gesture):
            self._note_step()
        self.refresh()

    def undo(self) -> None:
        self._step(self.history.undo)

    def redo(self) -> None:
        self._step(self.history.redo)

    def jump(self, index: int) -> None:
        self._step(lambda: self.history.jump(index))

    def _step(self, move: Callable[[], Any]) -> None:
        self.dragging = False
        view = self.view
        move()
        if self.state.view != view:      # undo changes the document, not the view shown
            self.history.amend(self.state.replace(view=view))
        self._note_step()
        self.refresh()

    def refresh(self, render: bool = True) -> None:
        """Render the state, then tell the listeners it may have changed."""
        if render:
            self.request_render()
        for cb in self.on_change:
            cb()

    def reset_to(self, state: SessionState, label: str, saved: bool = True) -> None:
        """Start a new history at `state` (an opened or restored session); its view
        (`state.view`) is the current view: the front end shows that view's panel."""
        if state.view != self.view:
            self.gate.invalidate()     # a late result of the view shown before is dropped
        self.history.reset(state, label, saved=saved)
        self._note_step()

    # ================================================================== work never lost
    def _note_step(self) -> None:
        """After a history step: autosave (throttled) while there is unsaved work; with none
        (back at the saved state, a model just opened) there is nothing to recover."""
        if self.history.dirty:
            self.autosave.changed(self.model_ref(), self.saved_state())
        else:
            self.autosave.finish()

    def flush_autosave(self) -> str:
        """Write a due autosave; the problem if the write failed, else ""."""
        if self.autosave.flush_due() is False and self.autosave.error:
            return self.autosave.error
        return ""

    @property
    def dirty(self) -> bool:
        """Pins, groups, directions or history not in a saved session."""
        return self._model is not None and self.history.dirty

    def mark_saved(self) -> None:
        self.history.mark_saved()
        self.autosave.finish()

    def save_session(self, path: str | Path) -> None:
        """Write the session file (OSError when it cannot be written); the work is then saved."""
        write_session(path, self.model_ref(), self.saved_state())
        self.mark_saved()

    @staticmethod
    def read_session(path: str | Path) -> tuple[ModelRef, SessionState]:
        """A session file's model and state; SessionError when it is unreadable or names no model."""
        ref, state = load_session(path)
        if ref is None:
            raise SessionError(f"{Path(path).name} names no model.")
        return ref, state

    def orphans(self) -> list[Orphan]:
        """Sessions a crashed or killed window autosaved, newest first."""
        return orphans(self.autosave.folder)

    @staticmethod
    def discard_orphans(found: list[Orphan]) -> None:
        for o in found:
            discard(o)

    # ================================================================== model and device
    def model_loaded(self, model: LoadedModel, then_state: SessionState | None = None,
                     restored: bool = False) -> None:
        """A model is open: forget the previous model's results; start the history at
        `then_state` (a session) or, for a different model, at a fresh state that keeps the
        browsing settings. Listeners are not told: the caller refreshes when its views adapted."""
        same_model = self._model is not None and self._model.sha256 == model.sha256
        self._model = model
        self.gate.invalidate()
        self._current_ws = None
        self.figures.clear()           # thumbnails and latents of the previous model
        self.extra_keys.clear()
        self.last_result = None
        if then_state is not None:
            # restored: autosaved again at once; opened: nothing to recover
            self.reset_to(then_state, "restored session" if restored else "opened session", saved=not restored)
        elif not same_model:
            self.history.reset(self.state.for_new_model(), f"opened {model.name}")
            self._note_step()          # a fresh model: the old work was saved or let go

    def set_device(self, device: str) -> bool:
        """Render (and start jobs) on `device` from now on; True when it changed."""
        if not device or device == self.device:
            return False
        self.device = device
        self.jobs.device = device       # jobs started from now on copy the model there
        self.request_render()
        return True

    def set_view(self, view: View | str, render: bool = True) -> bool:
        """Show `view` (not an undo step); a result of the previous view arriving late is
        dropped. True when it changed."""
        self.dragging = False
        view = View(view)
        if view == self.view:
            return False
        self.history.amend(self.state.replace(view=view))
        self.gate.invalidate()
        if render:
            self.request_render()
        return True

    # ================================================================== rendering
    def build_request(self) -> RenderRequest | None:
        """The render request for the state and view (stamp 0; no generator call here)."""
        s, m = self.state, self._model
        if m is None:
            return None
        current = (Source(seed=s.seed, label=f"seed {s.seed}") if s.base_ws is None
                   else Source(ws=s.base_ws, label=s.base_label or "latent"))
        view = spec(s.view)        # the view's module turns its sub-state into the request's part
        part = view.request(s.sub(s.view), BuildContext(s, m.G, self.dragging))
        return RenderRequest(
            stamp=0, model=m, device=self.device, psi=s.psi, cutoff=s.cutoff,
            noise_mode=s.noise_mode, current=current,
            edits=tuple(EditOp(e.vector, e.alpha, e.start, e.stop) for e in s.edits),
            pins=tuple(Source(ws=p.ws, label=p.label) for p in s.pins), part=part, **_steering(s, m.G),
            preview_ms=self.preview_budget_ms if self.dragging else None)

    def render_full(self) -> None:
        """A drag paused (the window's timer after a preview frame): the full image of what is
        shown, unless a newer request is on its way (the slider moved on); the drag goes on."""
        if self.dragging and self.gate.latest == self.gate.shown:
            self.dragging = False
            try:
                self.request_render()
            finally:
                self.dragging = True

    def request_render(self) -> RenderRequest | None:
        """Stamp the request for what is shown now and submit it; the request, or None without a model."""
        req = self.build_request()
        if req is None:
            return None
        req = dataclasses.replace(req, stamp=self.gate.next())
        self.submit(req)
        return req

    def accept(self, r: RenderResult) -> set[str] | None:
        """Record a result. None when it is stale (older than the one on screen), else what
        changed: the names of extras whose content is new, and 'latent' when current_ws did."""
        if not self.gate.accept(r.stamp):
            return None
        self.last_result = r
        self.figures.update(r.extras)
        changed = {k for k, v in r.extra_keys.items() if self.extra_keys.get(k) != v}
        self.extra_keys.update(r.extra_keys)
        if r.current_ws is not None and (self._current_ws is None or self._current_ws.shape != r.current_ws.shape
                                         or not np.array_equal(self._current_ws, r.current_ws)):
            self._current_ws = r.current_ws
            changed.add("latent")
        return changed

    # ================================================================== latents
    def set_ws(self, ws: np.ndarray, label: str) -> None:
        """Make `ws` ([1, num_ws, w_dim] or [num_ws, w_dim]) the current latent as ONE undo
        step; the direction sliders go back to 0. ValueError if the shape does not fit."""
        m = self._model
        if m is None:
            raise ValueError("no model is open")
        ws = np.asarray(ws, np.float32)
        if ws.shape[-2:] != (m.G.num_ws, m.G.w_dim) or ws.size != m.G.num_ws * m.G.w_dim:
            raise ValueError(f"ws must be [1, {m.G.num_ws}, {m.G.w_dim}], got {list(ws.shape)}")
        self.change(label, None, base_ws=ws.reshape(1, m.G.num_ws, m.G.w_dim), base_label=label, edits=())

    def bake_edits(self) -> None:
        if self._current_ws is not None and self.state.edits:
            self.set_ws(self._current_ws, "bake direction edits")

    # ================================================================== pins and groups
    def pin_current(self) -> None:
        if self._current_ws is None:
            return
        s = self.state
        plain = s.base_ws is None and not s.edits
        label = f"seed {s.seed}" if plain else (s.base_label or f"seed {s.seed}") + (" edited" if s.edits else "")
        self.change(f"pin {label}", None, **_pin_fields(s, self._current_ws, label, s.seed if plain else None))

    def pin_seed(self, seed: int) -> None:
        """Pin a seed of the browse grid (its latent as rendered there)."""
        fig = self.figures.get("grid")
        seeds = fig.meta.get("seeds", []) if fig is not None else []
        if seed in seeds:
            self.change(f"pin seed {seed}", None,
                        **_pin_fields(self.state, fig.ws[seeds.index(seed)], f"seed {seed}", seed))

    def _arith_result(self) -> RenderResult | None:
        r = self.last_result
        if r is None or RESULT not in r.data:
            self._status("No arithmetic result on screen yet.", 4000)
            return None
        return r

    def pin_arithmetic_result(self) -> None:
        r = self._arith_result()
        if r is not None:
            self.change("pin arithmetic result", None, **_pin_fields(self.state, r.data[RESULT], "A−B+C"))

    def save_arithmetic_direction(self, name: str) -> None:
        """Save result − last group's mean (averaged over the result's rows) as a unit
        direction with its length as scale: alpha = scale reproduces the step."""
        r = self._arith_result()
        if r is None:
            return
        name = name.strip() or f"direction {len(self.state.saved_directions) + 1}"
        diff = (r.data[RESULT][0] - r.data[MEANS][-1]).mean(axis=0)   # [w_dim]
        scale = float(np.linalg.norm(diff))
        if scale == 0:
            self._status("The result equals the last group's mean: no direction to save.", 4000)
            return
        saved = tuple(d for d in self.state.saved_directions if d.name != name)
        d = SavedDirection(name, (diff / scale).astype(np.float32), scale)
        self.change(f"save direction {name}", None, saved_directions=saved + (d,))
        self._status(f"Saved direction “{name}”: see Directions ▸ Saved directions.", 5000)

    def show_pin(self, pin_id: int | None) -> None:
        p = None if pin_id is None else self.state.pin(int(pin_id))
        if p is None:
            return
        if p.seed is not None and p.psi == self.state.psi:
            self.change(f"show pin #{p.id}", None, seed=p.seed, base_ws=None, base_label="", edits=())
        else:
            self.change(f"show pin #{p.id}", None, base_ws=p.ws, base_label=f"pin #{p.id}", edits=())

    def remove_pin(self, pin_id: int | None) -> None:
        if pin_id is not None and self.state.pin(int(pin_id)) is not None:
            self.apply(self.state.remove_pin(int(pin_id)), f"remove pin #{pin_id}")

    def clear_pins(self) -> None:
        if self.state.pins:
            self.apply(self.state.without_pins(), "clear pins")

    # ================================================================== directions
    def direction_set(self, method: str, k: int = 10) -> Directions | None:
        """The direction set for the open model, or None while it is computed by a job
        (the on_directions listeners hear when it is there)."""
        m = self._model
        if m is None:
            return None
        if method == "saved":
            saved = self.state.saved_directions
            key = tuple(id(d) for d in saved)
            if self._saved_dirs is None or self._saved_dirs[0] != key:
                vecs = np.stack([d.vector for d in saved]) if saved else np.zeros((0, m.G.w_dim), np.float32)
                self._saved_dirs = (key, Directions("saved", vecs, np.array([d.scale for d in saved], np.float32),
                                                    [d.name for d in saved]))
            return self._saved_dirs[1]
        key = (id(m), method, int(k))
        if key in self._directions:
            return self._directions[key]
        if key not in self._pending_dirs:
            self._pending_dirs.add(key)

            def done(d: Directions, key=key) -> None:
                self._pending_dirs.discard(key)
                self._directions[key] = d
                for cb in self.on_directions:
                    cb("")

            def failed(msg: str, key=key) -> None:
                self._pending_dirs.discard(key)
                for cb in self.on_directions:
                    cb(msg)

            self.jobs.start_on_model(m, lambda jm: find_directions(jm.G, method, int(k)), name="directions",
                                     on_done=done, on_error=failed)
        return self._directions.get(key)     # an inline runner has it already

    # ================================================================== export
    def export_meta(self) -> dict[str, Any]:
        m = self._model
        base = {"app": "ganexplorer", "noise_mode": self.state.noise_mode, "view": self.view.value}
        if m is not None:
            base.update(checkpoint=m.path.name, checkpoint_sha256=m.sha256, format=m.format)
        return base

    def export_sources(self) -> dict[str, Figure]:
        """The figures an export can take: the current view and each panel's thumbnails."""
        out: dict[str, Figure] = {}
        r = self.last_result
        if r is not None and r.figure is not None and r.error is None and "preview_res" not in r.figure.meta:
            out["Current view"] = r.figure         # a drag's preview is never exported
        for key, title in EXTRA_TITLES.items():
            fig = self.figure(key)
            if fig is not None:
                out[title] = fig
        return out


def _steering(s: SessionState, G) -> dict[str, Any]:
    """The class and StyleGAN3 transform of the state, as far as this model has them (a
    session made with another model keeps its values but they do not apply here)."""
    def valid(k: int | None) -> bool:
        return k is not None and 0 <= k < G.c_dim
    moves = G.has_input_transform
    return {"class_index": s.class_index if valid(s.class_index) else None,
            "translate": tuple(s.translate) if moves else (0.0, 0.0), "rotate": s.rotate if moves else 0.0}


def _pin_fields(s: SessionState, ws: np.ndarray, label: str, seed: int | None = None) -> dict[str, Any]:
    new = s.add_pin(ws, label, seed, s.psi, s.class_index)
    return {"pins": new.pins, "next_pin_id": new.next_pin_id}
