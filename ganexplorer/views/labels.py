"""Labels: mark samples (seeds of a page, or pins) as having or lacking a named attribute,
and learn its direction (InterFaceGAN, Shen et al. 2020; latent/labelled.py).

The image view shows what the classifier will see: a row of the samples marked as having
the attribute, a row of those marked as lacking it, and, once a direction of that name is
learned (a saved direction), the current latent walked along it. The panel's thumbnails
(the page of seeds) come as the extra figure 'labels_page'.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..latent.directions import apply_direction
from ..render.figures import Figure, sections_figure, single
from ..render.requests import Source
from ..render.synth import seeds_to_ws
from .base import BuildContext, SharedState, SubState, View, ViewSpec

WALK_STEPS = (-2.0, -1.0, 0.0, 1.0, 2.0)    # in units of the direction's scale (one sigma of w)
ROW = 8                                       # tiles per row of the figure
SHOWN = 16                                    # marked samples drawn per row group (an imported file has hundreds)


@dataclass(frozen=True)
class Mark:
    """One labelled sample: a seed or a pin, with or without the attribute."""
    positive: bool
    seed: int | None = None
    pin_id: int | None = None

    def target(self) -> tuple[str, int]:
        return ("pin", int(self.pin_id)) if self.pin_id is not None else ("seed", int(self.seed or 0))


@dataclass(frozen=True, eq=False)
class LabelsState(SubState):
    view: ClassVar[View] = View.LABELS
    attribute: str = "attribute"           # its name; the learned direction is saved under it
    marks: tuple[Mark, ...] = ()           # in the order they were marked
    page_start: int = 0                    # first seed of the page of thumbnails to mark
    page_size: int = 24
    orthogonal_to: tuple[str, ...] = ()    # saved directions to keep fixed (conditional manipulation)

    # ------------------------------------------------------------ reading
    def mark(self, seed: int | None = None, pin_id: int | None = None) -> bool | None:
        """True / False for a marked seed or pin, None when unmarked."""
        key = ("pin", pin_id) if pin_id is not None else ("seed", seed)
        for m in self.marks:
            if m.target() == key:
                return m.positive
        return None

    def counts(self) -> tuple[int, int]:
        """(marked positive, marked negative)."""
        pos = sum(1 for m in self.marks if m.positive)
        return pos, len(self.marks) - pos

    # ------------------------------------------------------------ changes
    def with_mark(self, positive: bool | None, seed: int | None = None,
                  pin_id: int | None = None) -> "LabelsState":
        """Mark (True / False) or unmark (None) one seed or pin."""
        key = ("pin", pin_id) if pin_id is not None else ("seed", seed)
        rest = tuple(m for m in self.marks if m.target() != key)
        new = () if positive is None else (Mark(bool(positive), None if pin_id is not None else seed, pin_id),)
        return dataclasses.replace(self, marks=rest + new)

    def cycled(self, seed: int | None = None, pin_id: int | None = None) -> "LabelsState":
        """A click on a thumbnail: unmarked -> has it (+) -> lacks it (-) -> unmarked."""
        now = self.mark(seed, pin_id)
        nxt = True if now is None else (False if now else None)
        return self.with_mark(nxt, seed, pin_id)

    def with_seed_labels(self, pos: list[int], neg: list[int]) -> "LabelsState":
        """Marks from an attribute file (`seed,label`): each listed seed takes its label."""
        s = self
        for seed in pos:
            s = s.with_mark(True, seed=int(seed))
        for seed in neg:
            s = s.with_mark(False, seed=int(seed))
        return s

    def without_pins(self, pin_ids: frozenset[int] | None) -> "LabelsState":
        keep = tuple(m for m in self.marks if m.pin_id is None or (pin_ids is not None and m.pin_id not in pin_ids))
        return dataclasses.replace(self, marks=keep)

    def for_new_model(self) -> "LabelsState":
        # a seed means another picture under another model: the marks go, the setup stays
        return LabelsState(attribute=self.attribute, page_start=self.page_start, page_size=self.page_size)


@dataclass(frozen=True)
class TrainingSet:
    """What the classifier is fitted on: marked seeds (mapped by labelled.seed_latents) and
    marked latents that come from no seed (edited pins), each [k, w_dim]."""
    pos_seeds: tuple[int, ...]
    neg_seeds: tuple[int, ...]
    pos_latents: np.ndarray
    neg_latents: np.ndarray

    @property
    def counts(self) -> tuple[int, int]:
        return len(self.pos_seeds) + len(self.pos_latents), len(self.neg_seeds) + len(self.neg_latents)


def training_set(sub: LabelsState, shared: SharedState, w_dim: int) -> TrainingSet:
    """The marks as classifier input. A pin made from a seed (under the seed's own class) is
    that seed, unmapped and untruncated as InterFaceGAN samples it; an edited pin is its w
    (the mean of its ws rows)."""
    seeds: dict[bool, list[int]] = {True: [], False: []}
    lat: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for m in sub.marks:
        if m.pin_id is None:
            seeds[m.positive].append(int(m.seed or 0))
            continue
        p = shared.pin(m.pin_id)
        if p is None:
            continue
        if p.seed is not None and p.class_index is None:
            seeds[m.positive].append(int(p.seed))
        else:
            lat[m.positive].append(np.asarray(p.ws, np.float32).reshape(-1, w_dim).mean(axis=0))

    def stack(v: list[np.ndarray]) -> np.ndarray:
        return np.stack(v) if v else np.zeros((0, w_dim), np.float32)
    # a pin of seed s and seed s itself marked alike count once
    return TrainingSet(tuple(dict.fromkeys(seeds[True])), tuple(dict.fromkeys(seeds[False])),
                       stack(lat[True]), stack(lat[False]))


@dataclass(frozen=True, eq=False)
class LabelsPart:
    view: ClassVar[View] = View.LABELS
    attribute: str = "attribute"
    page_seeds: tuple[int, ...] = ()                 # the panel's thumbnails (empty while dragging)
    positive: tuple[Source, ...] = ()                # marked as having the attribute
    negative: tuple[Source, ...] = ()                # marked as lacking it
    walk: tuple[np.ndarray, float] | None = None     # the learned direction ([w_dim] unit, scale)

    def render(self, rc) -> Figure:
        G, req = rc.G, rc.req
        if self.page_seeds:
            seeds = list(self.page_seeds)
            rc.extra("labels_page", rc.key(self.page_seeds), lambda: single(
                G, seeds_to_ws(G, seeds, req.psi, req.cutoff), req.noise_mode, [str(s) for s in seeds],
                meta={"seeds": seeds, "psi": req.psi, **rc.steering_meta()}))
        name = self.attribute or "the attribute"

        def marked(title: str, sources: tuple[Source, ...]):
            shown = sources[:SHOWN]
            more = (f" (the first {SHOWN} shown)" if len(sources) > SHOWN else
                    "" if sources else " (none yet: click thumbnails in the Labels panel)")
            return f"{title} {name}: {len(sources)}{more}", rc.sources_ws(shown), [s.label for s in shown]
        sections = [marked("has", self.positive), marked("lacks", self.negative)]
        if self.walk is not None:
            vector, scale = self.walk
            v = np.asarray(vector, np.float32).reshape(-1)
            if v.shape[0] != G.w_dim:
                raise ValueError(f"the direction {name!r} has {v.shape[0]} numbers, but this model's w "
                                 f"has {G.w_dim}: it was learned on another model")
            walk = np.concatenate([apply_direction(rc.current_ws, v, a * scale) for a in WALK_STEPS])
            sections.append((f"the current latent along {name} (steps of one sigma of w)", walk,
                             [f"{a:+g}" if a else "0" for a in WALK_STEPS]))
        fig = sections_figure(G, sections, ROW, req.noise_mode)
        fig.meta = {"attribute": self.attribute, "positive": [s.seed for s in self.positive],
                    "negative": [s.seed for s in self.negative], "psi": req.psi, **rc.steering_meta()}
        return fig


def _source(m: Mark, ctx: BuildContext) -> Source:
    if m.pin_id is not None:
        src = ctx.pin_source(m.pin_id)
        return dataclasses.replace(src, label=f"pin #{m.pin_id}")
    return Source(seed=int(m.seed or 0), label=f"seed {m.seed}")


def request(sub: LabelsState, ctx: BuildContext) -> LabelsPart:
    page = () if ctx.dragging else tuple(range(sub.page_start, sub.page_start + sub.page_size))
    pos = tuple(_source(m, ctx) for m in sub.marks if m.positive and (m.pin_id is None or ctx.shared.pin(m.pin_id)))
    neg = tuple(_source(m, ctx) for m in sub.marks if not m.positive and (m.pin_id is None or ctx.shared.pin(m.pin_id)))
    walk = None
    for d in ctx.shared.saved_directions:
        if d.name == sub.attribute:
            walk = (d.vector, float(d.scale))
    return LabelsPart(sub.attribute, page, pos, neg, walk)


SPEC = ViewSpec(View.LABELS, "Labels", LabelsState, request, extras={"labels_page": "Labelling page"})
