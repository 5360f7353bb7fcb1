"""High-level requests turned into ws, shared by the CLI and the window so both agree exactly.

Each function returns ws arrays [N, num_ws, w_dim] float32 ready for `synth.synthesize`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..latent import arithmetic, interp, stylemix
from ..latent.sampling import seeds_to_z
from ..models.protocol import GeneratorBase
from .synth import chosen_class, labels_for, seeds_to_ws, without_class, z_to_ws


def interpolation_ws(G: GeneratorBase, seeds: list[int], steps: int, method: str = "lerp",
                     space: str = "w", psi: float = 1.0, loop: bool = False,
                     class_index: int | None = None,
                     class_path: tuple[int, int] | None = None) -> np.ndarray:
    """Frames along the path through the seeds' latents, interpolated in Z or W.

    class_index: every seed's class (default: class follows seed). class_path (a, b): the
    label itself travels from class a to class b, interpolated before the mapping network
    (so the frames are mapped one by one; z follows the seeds' path in Z).
    """
    if class_path is not None:
        G = without_class(G)   # the label is chosen per frame here
        if not G.c_dim:
            raise ValueError("this model is not conditional: it has no classes to interpolate")
        a, b = (labels_for(G, [0], int(k))[0] for k in class_path)
        if len(seeds) == 1:
            z = np.repeat(seeds_to_z(seeds, G.z_dim), steps, axis=0)
        else:
            z = interp.path(list(seeds_to_z(seeds, G.z_dim)), steps, method, loop).astype(np.float32)
        t = np.linspace(0, 1, len(z), dtype=np.float32)[:, None]
        return z_to_ws(G, z, (1 - t) * a + t * b, psi)
    if space == "w":
        ws = seeds_to_ws(G, seeds, psi, class_index=class_index)
        return interp.path(list(ws), steps, method, loop)
    if space != "z":
        raise ValueError(f"unknown latent space {space!r}; use 'z' or 'w'")
    z = interp.path(list(seeds_to_z(seeds, G.z_dim)), steps, method, loop).astype(np.float32)
    c = None
    if G.c_dim:  # labels follow the same path, linearly
        c = interp.path(list(labels_for(G, seeds, class_index)), steps, "lerp", loop).astype(np.float32)
    return z_to_ws(G, z, c, psi)


@dataclass
class ArithmeticResult:
    members: list[np.ndarray]   # per group: [K_i, num_ws, w_dim] the individual samples
    means: np.ndarray           # [G, num_ws, w_dim] the concept averages
    result: np.ndarray          # [1, num_ws, w_dim] sum of signed means
    neighbours: np.ndarray      # [n, num_ws, w_dim] noisy neighbours of the result


def arithmetic_ws(G: GeneratorBase, groups: list[list[int]], signs: list[float],
                  space: str = "z", psi: float = 1.0, n_neighbours: int = 8,
                  sigma: float = arithmetic.DEFAULT_SIGMA, noise_seed: int = 0,
                  class_index: int | None = None) -> ArithmeticResult:
    """The DCGAN paper's figure: average each group, combine with signs, add neighbours.

    In Z (the paper's choice) means, result and neighbours are formed from z and then
    mapped; in W they are formed from the mapped (and truncated) w. A conditional model
    in Z needs one `class_index` for all (the label is not averaged).
    """
    if len(groups) != len(signs) or not groups or any(not g for g in groups):
        raise ValueError("give at least one non-empty group, each with a sign")
    if space == "w":
        members = [seeds_to_ws(G, g, psi, class_index=class_index) for g in groups]
        means = np.stack([arithmetic.group_mean(m) for m in members])
        result = arithmetic.combine(list(means), signs)[None]
        neigh = arithmetic.neighbours(result[0], n_neighbours, sigma, noise_seed)
        return ArithmeticResult(members, means, result, neigh)
    if space != "z":
        raise ValueError(f"unknown latent space {space!r}; use 'z' or 'w'")
    if class_index is None:
        class_index = chosen_class(G)   # the window's class control
    if G.c_dim and class_index is None:
        raise ValueError("arithmetic in Z on a conditional model needs one class for all "
                         "(--class K), or use the W space")
    zs = [seeds_to_z(g, G.z_dim) for g in groups]
    z_means = np.stack([arithmetic.group_mean(z) for z in zs])
    z_result = arithmetic.combine(list(z_means), signs)[None]
    z_neigh = arithmetic.neighbours(z_result[0], n_neighbours, sigma, noise_seed)

    def to_ws(z: np.ndarray) -> np.ndarray:
        return z_to_ws(G, z, labels_for(G, list(range(len(z))), class_index), psi)
    return ArithmeticResult([to_ws(z) for z in zs], to_ws(z_means), to_ws(z_result),
                            to_ws(z_neigh) if n_neighbours else
                            np.zeros((0, G.num_ws, G.w_dim), np.float32))


def mixing_ws(G: GeneratorBase, row_seeds: list[int], col_seeds: list[int], layers,
              psi: float = 1.0, class_index: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """StyleGAN fig. 3: cell (i, j) is row source i with layers taken from column source j.

    Returns (rows_ws [R, L, D], cols_ws [C, L, D], cells_ws [R, C, L, D]).
    """
    if not G.has_styles:
        raise ValueError("this model has no per-layer styles (a DCGAN has a single latent), "
                         "so style mixing does not apply")
    span = stylemix.resolve_layers(layers, G.num_ws, G.img_resolution, G.ws_per_resolution,
                                   G.ws_sampling_rates())
    rows = seeds_to_ws(G, row_seeds, psi, class_index=class_index)
    cols = seeds_to_ws(G, col_seeds, psi, class_index=class_index)
    shape = (len(rows), len(cols)) + rows.shape[1:]
    cells = stylemix.mix(np.broadcast_to(rows[:, None], shape), np.broadcast_to(cols[None, :], shape), span)
    return rows, cols, cells
