"""A drag's trajectory (latent and handle positions per step) and the markers drawn on its
frames, for the window's "Save recording…" (and anyone else who records a drag).

    rec = DragRecording(ws0, handles, targets)
    for st in drag_steps(...):
        rec.add(st.step, st.ws, st.handles)
    ws = rec.frames_ws()                     # [T, num_ws, w_dim] start .. result, result held
    frames = draw_markers(images_uint8, rec.frame_handles(), rec.targets)

Memory stays bounded however long the drag runs: steps are kept on a grid of every
`stride`-th step; when `max_kept` are kept, every other one is dropped and the stride
doubles, so the kept steps stay evenly spread over the whole drag (the newest step is
always there as well). Rendering the frames is the caller's (it has the generator).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

HANDLE_RGB = (230, 40, 40)     # handles red, targets blue (DragGAN's convention)
TARGET_RGB = (40, 110, 255)
ARROW_RGB = (255, 255, 255)


@dataclass
class DragRecording:
    ws0: np.ndarray                                           # [1, num_ws, w_dim] the start
    handles0: np.ndarray                                      # [n, 2] (x, y) at the start
    targets: np.ndarray                                       # [n, 2] (x, y)
    max_kept: int = 512                                       # steps kept at most (then halved)
    _kept: list = field(default_factory=list, repr=False)     # (step, ws [num_ws, w_dim], handles [n, 2])
    _latest: tuple | None = field(default=None, repr=False)   # the newest step, kept or not
    _added: int = 0                                           # steps added so far
    _stride: int = 1                                          # keep every stride-th step

    def __post_init__(self):
        self.ws0 = np.asarray(self.ws0, np.float32).reshape(-1, *np.shape(self.ws0)[-2:])[:1]
        self.handles0 = np.asarray(self.handles0, np.float32).reshape(-1, 2)
        self.targets = np.asarray(self.targets, np.float32).reshape(-1, 2)

    def add(self, step: int, ws: np.ndarray, handles: np.ndarray) -> None:
        item = (int(step), np.asarray(ws, np.float32).reshape(np.shape(ws)[-2:]),
                np.asarray(handles, np.float32).reshape(-1, 2))
        i = self._added
        self._added += 1
        self._latest = item
        if i % self._stride:
            return
        if len(self._kept) >= self.max_kept:
            self._kept = self._kept[::2]
            self._stride *= 2
            if i % self._stride:
                return
        self._kept.append(item)

    def _items(self) -> list:
        """The kept steps, then the newest when it is not one of them."""
        if self._latest is not None and (not self._kept or self._kept[-1] is not self._latest):
            return self._kept + [self._latest]
        return list(self._kept)

    @property
    def steps(self) -> list[int]:
        return [s for s, _, _ in self._items()]

    @property
    def ws(self) -> list[np.ndarray]:
        return [w for _, w, _ in self._items()]

    @property
    def handles(self) -> list[np.ndarray]:
        return [h for _, _, h in self._items()]

    def __len__(self) -> int:
        return len(self._items())

    def _pick(self, max_frames: int) -> list[int]:
        """Indices into [start] + kept steps, evenly spread, first and last included."""
        n = len(self.steps) + 1
        return list(np.unique(np.linspace(0, n - 1, min(max_frames, n)).round().astype(int)))

    def frames_ws(self, max_frames: int = 96, hold: int = 8) -> np.ndarray:
        """[T, num_ws, w_dim]: the start, up to max_frames - 1 steps, the result held `hold` more."""
        path = [self.ws0[0]] + self.ws
        idx = self._pick(max_frames)
        return np.stack([path[i] for i in idx] + [path[-1]] * hold).astype(np.float32)

    def frame_handles(self, max_frames: int = 96, hold: int = 8) -> list[np.ndarray]:
        """The handle positions of each frame of `frames_ws` (same arguments)."""
        path = [self.handles0] + self.handles
        idx = self._pick(max_frames)
        return [path[i] for i in idx] + [path[-1]] * hold

    def track(self) -> list[dict]:
        """The kept steps as the CLI's --json writes them."""
        return [{"step": s, "handles": h.round(3).tolist(),
                 "distance": np.linalg.norm(self.targets - h, axis=1).round(3).tolist()}
                for s, _, h in self._items()]


def marker_scale(resolution: int, at_least: int = 256) -> int:
    """The integer enlargement that makes a frame at least `at_least` pixels wide, so
    markers a few pixels wide fit on a 64 px image."""
    return max(1, int(np.ceil(at_least / max(1, resolution))))


def draw_markers(frames: np.ndarray, handles: list[np.ndarray], targets: np.ndarray,
                 scale: int | None = None) -> np.ndarray:
    """frames [T, H, W, 3] uint8 (pixel-grid nearest enlargement by `scale`) with, on each,
    an arrow from every handle to its target, red handle dots and blue target dots.
    Points are (x, y) image pixels with pixel centres at integers."""
    frames = np.asarray(frames, np.uint8)
    T, H, W, _ = frames.shape
    s = marker_scale(max(H, W)) if scale is None else int(scale)
    big = frames.repeat(s, axis=1).repeat(s, axis=2) if s > 1 else frames
    r = max(4, round(0.025 * max(H, W) * s))           # target dot radius in output pixels
    rh = max(3, round(0.7 * r))                        # handles a little smaller: an arrived
                                                       # handle leaves its target's ring visible
    out = np.empty_like(big)
    targets = np.asarray(targets, np.float32).reshape(-1, 2)

    def at(p) -> tuple[float, float]:                   # image pixel centre -> output pixel
        return ((p[0] + 0.5) * s, (p[1] + 0.5) * s)

    for i in range(T):
        im = Image.fromarray(big[i])
        d = ImageDraw.Draw(im)
        for h, t in zip(np.asarray(handles[i], np.float32).reshape(-1, 2), targets):
            (hx, hy), (tx, ty) = at(h), at(t)
            n = float(np.hypot(tx - hx, ty - hy))
            if n > r:
                ux, uy = (tx - hx) / n, (ty - hy) / n
                ax, ay = tx - ux * r, ty - uy * r                 # the tip, on the target's rim
                head = [(ax, ay), (ax - 2 * r * (ux - 0.5 * uy), ay - 2 * r * (uy + 0.5 * ux)),
                        (ax - 2 * r * (ux + 0.5 * uy), ay - 2 * r * (uy - 0.5 * ux))]
                d.line([(hx, hy), (ax, ay)], fill=(0, 0, 0), width=max(3, r // 2 + 2))   # a dark halo
                d.line([(hx, hy), (ax, ay)], fill=ARROW_RGB, width=max(1, r // 2))
                d.polygon(head, fill=ARROW_RGB, outline=(0, 0, 0))
            d.ellipse([tx - r, ty - r, tx + r, ty + r], fill=TARGET_RGB, outline=(0, 0, 0))
            d.ellipse([hx - rh, hy - rh, hx + rh, hy + rh], fill=HANDLE_RGB, outline=(0, 0, 0))
        out[i] = np.asarray(im)
    return out
