"""Drag editing (Pan et al. 2023, "Drag Your GAN"): move handle points of a generated image
to target points by optimising the latent, one step at a time.

    for st in drag_steps(G, ws, handles=[(20, 30)], targets=[(28, 30)], cancel=flag):
        show(st.image, st.handles)                 # st.done on the last one

Written from the paper (sec. 3.2 and 3.3; no code of theirs was read). Each step:

  * motion supervision (paper eq. 1): for every handle p_i with target t_i and
    d_i = (t_i - p_i) / ||t_i - p_i||, the features at the pixels q of a disc Ω1(p_i, r1)
    are pulled one pixel toward the target,

        L = Σ_i Σ_q || sg(F(q)) - F(q + d_i) ||_1  +  λ || (F - F0) · (1 - M) ||_1,

    F the generator's intermediate feature map sampled bilinearly at image-pixel positions
    (the paper resizes StyleGAN2's 6th-block features to the image size), sg the
    stop-gradient that makes the *shifted* patch follow the current one and not the other
    way round, F0 the features of the start latent and M the optional mask of the region
    allowed to move. One Adam step on the first `n_ws` rows of w+ (the paper: the first 6;
    the finer rows stay fixed, which keeps the appearance), or (space 'w') on one w
    offset shared by every row.
  * point tracking (sec. 3.3): each handle moves to the nearest neighbour, in L1, of its
    *original* feature f_i = F0(p_i) inside the square Ω2(p_i, r2) of the new features.

It stops when every handle is within `stop_distance` pixels of its target (the paper: 1 px
for up to 5 handles, 2 px for more) or when the steps run out, and checks `cancel` between
steps. Points are (x, y) image pixels: x the column, y the row, pixel centres at integers.

Choices the paper leaves open, made here: the L1 norms are divided by the channel count
(features of different layers and models differ in width), the mask term is averaged over
the fixed region's pixels (so it does not grow with the resolution) while the motion term
keeps the paper's sums over handles and disc pixels (so λ = 20 weighs the two as in the
paper for its r1 = 3); a handle that has reached its target gets no more motion
supervision (pushing it one more pixel would overshoot).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..models.protocol import Generator
from .optim_shared import CancelFn, is_cancelled

PAPER_LR = 2e-3           # the paper's Adam step size (FFHQ, AFHQ, SHHQ)
PAPER_N_WS = 6            # the paper optimises the first 6 rows of w+
PAPER_FEATURE_BLOCK = 5   # index of the 6th synthesis block in G.feature_layers()
SPACES = ("w+", "w")      # what is optimised: the first n_ws rows of w+, or one w for all rows


@dataclass
class DragConfig:
    steps: int = 200                   # optimisation steps at most
    lr: float = PAPER_LR               # Adam step size on the optimised ws rows
    r1: float = 3.0                    # motion-supervision disc radius, image pixels (paper: 3)
    r2: int | None = None              # point-tracking square half-size, image pixels; None: see tracking_radius
    lambda_mask: float = 20.0          # weight of keeping F where the mask is 0 (paper: λ = 20)
    n_ws: int = PAPER_N_WS             # w+: optimise ws rows [0, n_ws); the rest stay fixed
    space: str = "w+"                  # 'w+': rows [0, n_ws) each free; 'w': one offset shared by every row
    layer: str | None = None           # feature map to use; None: the paper's 6th block (see feature_layer)
    stop_distance: float | None = None # px; None: the paper's rule (1 px up to 5 handles, else 2)
    noise_mode: str = "const"          # StyleGAN noise while dragging (fixed, so only ws moves the image)

    def validate(self) -> list[str]:
        problems = []
        if self.steps < 1:
            problems.append("steps must be at least 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            problems.append("the step size (lr) must be a positive number")
        if not (math.isfinite(self.r1) and self.r1 >= 0):
            problems.append("r1 must be zero or more pixels")
        if self.r2 is not None and self.r2 < 0:
            problems.append("r2 must be zero or more pixels")
        if not (math.isfinite(self.lambda_mask) and self.lambda_mask >= 0):
            problems.append("lambda_mask must be zero or more")
        if self.n_ws < 1:
            problems.append("n_ws (the optimised ws rows) must be at least 1")
        if self.space not in SPACES:
            problems.append(f"space must be one of {', '.join(SPACES)}, not {self.space!r}")
        if self.stop_distance is not None and not (self.stop_distance >= 0):
            problems.append("stop_distance must be zero or more pixels")
        return problems


@dataclass
class DragStep:
    step: int                 # 1 = after the first Adam update
    steps: int                # planned number of steps
    ws: np.ndarray            # [1, num_ws, w_dim] the latent after this step
    image: np.ndarray         # [1, C, R, R] float, about [-1, 1]: G(ws)
    handles: np.ndarray       # [n, 2] (x, y) tracked handle positions in `image`
    targets: np.ndarray       # [n, 2] (x, y)
    loss: float               # the total loss of this step (before its update)
    terms: dict[str, float]   # 'motion' and 'mask' parts of it
    elapsed: float            # seconds since the generator started
    done: bool = False        # the last step: reached, out of steps, or cancelled
    reached: bool = False     # every handle within stop_distance of its target
    cancelled: bool = False   # stopped by cancel()

    @property
    def distances(self) -> np.ndarray:
        """[n] pixel distance of each handle to its target."""
        return np.linalg.norm(self.targets - self.handles, axis=1)


def feature_layer(G: Generator) -> str:
    """The paper's feature map: the 6th synthesis block's output (b128 of a 256-1024 px
    StyleGAN2); smaller models have fewer blocks and get the one before the last (b32 of a
    64 px model), which keeps the same balance of resolution and semantics."""
    names = G.feature_layers()
    if len(names) < 2:
        return names[-1]
    return names[min(PAPER_FEATURE_BLOCK, len(names) - 2)]


def tracking_radius(cfg: DragConfig, resolution: int) -> int:
    """Ω2's half-size: the paper's 12 px (on 256-1024 px images), or R/16 on smaller ones
    (at least 3): a 25 px window on a 64 px image spans a third of it, and point
    tracking then jumps to look-alike features elsewhere."""
    if cfg.r2 is not None:
        return int(cfg.r2)
    return int(min(12, max(3, resolution // 16)))


def feature_margin(G: Generator, layer: str) -> int:
    """Pixels on each side of a feature map that lie outside the image: StyleGAN3's
    non-critically-sampled layers carry a margin (their size is the sampling rate + 2 x
    margin_size, Karras et al. 2021 sec. 3.2) that the synthesis crops away at the end;
    StyleGAN2's and DCGAN's maps cover the image exactly."""
    # Only StyleGAN3's layers describe their geometry; the other models have no such attributes.
    module = getattr(getattr(G, "synthesis_network", None), layer, None)
    size, rate = getattr(module, "out_size", None), getattr(module, "out_sampling_rate", None)
    if size is None or rate is None:
        return 0
    return max(0, (int(size[-1]) - int(round(float(rate)))) // 2)


def _image_aligned(feat: torch.Tensor, margin: int) -> torch.Tensor:
    """[N, C, r, r] -> the part covering the image (margins cropped)."""
    return feat[..., margin:feat.shape[-2] - margin, margin:feat.shape[-1] - margin] if margin else feat


def stop_distance(cfg: DragConfig, n_handles: int) -> float:
    if cfg.stop_distance is not None:
        return float(cfg.stop_distance)
    return 1.0 if n_handles <= 5 else 2.0


# ---------------------------------------------------------------- sampling helpers

def sample_features(feat: torch.Tensor, points: torch.Tensor, resolution: int) -> torch.Tensor:
    """feat [1, C, r, r], points [..., 2] (x, y) in image pixels of a resolution x resolution
    image -> [..., C], bilinear: the same values as resizing `feat` to the image size
    (bilinear, half-pixel centres) and reading it at those points, without the resize."""
    shape = points.shape[:-1]
    # Image pixel x has its centre at (x + 0.5) / R of the width: grid_sample's
    # align_corners=False convention, shared by every resolution.
    grid = (2 * points.reshape(1, 1, -1, 2) + 1) / resolution - 1          # [1, 1, P, 2]
    out = F.grid_sample(feat, grid.to(feat.dtype), mode="bilinear", padding_mode="border",
                        align_corners=False)                                 # [1, C, 1, P]
    return out[0, :, 0].t().reshape(*shape, feat.shape[1])


def disc_offsets(r: float, device=None) -> torch.Tensor:
    """[P, 2] integer (dx, dy) with dx² + dy² <= r²: the pixels of Ω1 around a point."""
    k = int(math.floor(r))
    d = torch.arange(-k, k + 1, device=device, dtype=torch.float32)
    dy, dx = torch.meshgrid(d, d, indexing="ij")
    keep = dx ** 2 + dy ** 2 <= r ** 2 + 1e-6
    return torch.stack([dx[keep], dy[keep]], dim=1)


def square_offsets(r: int, device=None) -> torch.Tensor:
    """[P, 2] integer (dx, dy) with |dx|, |dy| <= r: the pixels of Ω2 around a point."""
    d = torch.arange(-int(r), int(r) + 1, device=device, dtype=torch.float32)
    dy, dx = torch.meshgrid(d, d, indexing="ij")
    return torch.stack([dx.reshape(-1), dy.reshape(-1)], dim=1)


@torch.no_grad()
def track_points(feat: torch.Tensor, f0: torch.Tensor, handles: torch.Tensor, r2: int,
                 resolution: int) -> torch.Tensor:
    """Point tracking: each handle -> the position in Ω2(handle, r2) whose feature is
    nearest (L1) its original feature.

    feat [1, C, r, r] the new features; f0 [n, C] the handles' original features;
    handles [n, 2] (x, y) current positions -> [n, 2]. Candidates are the handle plus
    integer offsets (clipped to the image), so an unchanged feature map gives back the
    handle exactly, sub-pixel part included.
    """
    offsets = square_offsets(r2, device=handles.device)                       # [P, 2]
    cand = (handles[:, None, :] + offsets[None]).clamp(0, resolution - 1)      # [n, P, 2]
    fc = sample_features(feat, cand, resolution)                               # [n, P, C]
    dist = (fc - f0[:, None, :]).abs().sum(dim=-1)                             # [n, P]
    best = dist.argmin(dim=1)                                                  # [n]
    return cand[torch.arange(len(handles), device=handles.device), best]


# ---------------------------------------------------------------- the loss

def motion_loss(feat: torch.Tensor, handles: torch.Tensor, targets: torch.Tensor, r1: float,
                resolution: int, active: torch.Tensor) -> torch.Tensor:
    """Paper eq. 1, first term: features at q + d_i should become the (detached) features
    at q, summed over q in the disc Ω1(p_i, r1) of every still-moving handle (L1 per
    channel)."""
    if not bool(active.any()):
        return feat.sum() * 0
    p, t = handles[active], targets[active]                                    # [m, 2]
    d = t - p
    d = d / d.norm(dim=1, keepdim=True).clamp_min(1e-8)                        # unit step toward t
    q = p[:, None, :] + disc_offsets(r1, device=p.device)[None]                # [m, P, 2]
    f_q = sample_features(feat, q, resolution).detach()                        # sg(F(q))
    f_qd = sample_features(feat, q + d[:, None, :], resolution)                # F(q + d_i)
    return (f_qd - f_q).abs().mean(dim=-1).sum()


def mask_loss(feat: torch.Tensor, feat0: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Paper eq. 1, second term, averaged over the fixed region: || (F - F0) · (1 - M) ||_1.

    keep [1, 1, r, r] is (1 - M) at the feature map's own resolution (the area average of
    the image-size mask), which weighs each image pixel as the resized map would."""
    denom = keep.sum().clamp_min(1.0) * feat.shape[1]
    return ((feat - feat0).abs() * keep).sum() / denom


# ---------------------------------------------------------------- the optimisation

def _as_points(points, name: str, resolution: int) -> torch.Tensor:
    p = torch.as_tensor(np.asarray(points, np.float32).reshape(-1, 2))
    if len(p) == 0:
        raise ValueError(f"give at least one {name} point")
    if not torch.isfinite(p).all() or (p < 0).any() or (p > resolution - 1).any():
        raise ValueError(f"{name} points must lie in the image: x and y between 0 and {resolution - 1}")
    return p


def drag_steps(G: Generator, ws: np.ndarray, handles: Sequence[Sequence[float]],
               targets: Sequence[Sequence[float]], mask: np.ndarray | None = None,
               cfg: DragConfig | None = None, cancel: CancelFn | None = None) -> Iterator[DragStep]:
    """Drag `handles` toward `targets`; yields one `DragStep` per optimisation step.

    G: a generator with feature maps (any model of the protocol; the paper's are StyleGAN2/3).
    ws: [1, num_ws, w_dim] the start latent. handles, targets: n (x, y) pairs in image pixels.
    mask: [R, R] (or [1, 1, R, R]) in [0, 1], 1 where the image may change; None: everywhere.
    cancel: a callable or threading.Event checked between steps.
    """
    cfg = cfg or DragConfig()
    problems = cfg.validate()
    if problems:
        raise ValueError("; ".join(problems))
    R = int(G.img_resolution)
    dev = G.w_avg.device
    ws0 = torch.as_tensor(np.asarray(ws, np.float32), device=dev)
    if ws0.ndim == 2:
        ws0 = ws0[None]
    G.check_ws(ws0)
    if ws0.shape[0] != 1:
        raise ValueError(f"drag one latent at a time: ws must be [1, {G.num_ws}, {G.w_dim}]")
    p = _as_points(handles, "handle", R).to(dev)
    t = _as_points(targets, "target", R).to(dev)
    if p.shape != t.shape:
        raise ValueError(f"give one target per handle ({len(p)} handles, {len(t)} targets)")
    layer = cfg.layer or feature_layer(G)
    n_opt = min(int(cfg.n_ws), G.num_ws)
    stop = stop_distance(cfg, len(p))
    r2 = tracking_radius(cfg, R)
    margin = feature_margin(G, layer)

    requires = [q.requires_grad for q in G.parameters()]
    G.requires_grad_(False)   # gradients for the latent only: much cheaper backward passes
    try:
        if cfg.space == "w":
            # W: one offset added to every row, so a seed's latent (equal rows) stays in W and a
            # projected or edited w+ moves as a whole.
            w_opt = torch.zeros_like(ws0[:, :1]).requires_grad_(True)         # [1, 1, w_dim]

            def current() -> torch.Tensor:
                return ws0 + w_opt
        else:
            w_opt = ws0[:, :n_opt].clone().requires_grad_(True)               # [1, n_opt, w_dim]
            w_fixed = ws0[:, n_opt:]                                           # [1, num_ws - n_opt, w_dim]

            def current() -> torch.Tensor:
                return torch.cat([w_opt, w_fixed], dim=1)
        opt = torch.optim.Adam([w_opt], lr=cfg.lr)
        # The features of the current latent: computed once per step, by the pass whose
        # graph the next step's loss differentiates (one forward, one backward per step).
        img, feats = G.synthesis_features(current(), [layer], noise_mode=cfg.noise_mode)
        feat = _image_aligned(feats[layer], margin)
        feat0 = feat.detach()                                                  # [1, C, r, r] F0
        f0 = sample_features(feat0, p, R)                                      # [n, C] original f_i
        keep = None
        if mask is not None:
            m = torch.as_tensor(np.asarray(mask, np.float32), device=dev)
            if m.ndim == 2:
                m = m[None, None]
            if m.shape != (1, 1, R, R):
                raise ValueError(f"the mask must be {R}x{R} (the image size), got {list(m.shape[-2:])}")
            keep = F.adaptive_avg_pool2d(1 - m.clamp(0, 1), feat0.shape[-2:])  # (1 - M) at r x r
        t_start = time.perf_counter()
        for step in range(1, cfg.steps + 1):
            active = (t - p).norm(dim=1) > stop
            l_motion = motion_loss(feat, p, t, cfg.r1, R, active)
            l_mask = (mask_loss(feat, feat0, keep) if keep is not None and cfg.lambda_mask > 0
                      else feat.sum() * 0)
            loss = l_motion + cfg.lambda_mask * l_mask
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            w_now = current()
            img, feats = G.synthesis_features(w_now, [layer], noise_mode=cfg.noise_mode)
            feat = _image_aligned(feats[layer], margin)
            p = track_points(feat.detach(), f0, p, r2, R)
            reached = bool(((t - p).norm(dim=1) <= stop).all())
            cancelled = is_cancelled(cancel)
            done = reached or cancelled or step == cfg.steps
            yield DragStep(step=step, steps=cfg.steps, ws=w_now.detach().cpu().numpy(),
                           image=img.detach().float().cpu().numpy(), handles=p.cpu().numpy(),
                           targets=t.cpu().numpy(), loss=float(loss.detach()),
                           terms={"motion": float(l_motion.detach()), "mask": float(l_mask.detach())},
                           elapsed=time.perf_counter() - t_start, done=done, reached=reached,
                           cancelled=cancelled and not reached)
            if done:
                return
    finally:
        for q, r in zip(G.parameters(), requires):
            q.requires_grad_(r)


def run_drag(G: Generator, ws: np.ndarray, handles, targets, mask: np.ndarray | None = None,
             cfg: DragConfig | None = None, cancel: CancelFn | None = None) -> list[DragStep]:
    """Every step of a drag, for callers that want the whole trajectory at once."""
    return list(drag_steps(G, ws, handles, targets, mask, cfg, cancel))
