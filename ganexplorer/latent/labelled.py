"""Labelled directions (InterFaceGAN, Shen et al. 2020): the normal of a linear boundary
between latents with and without an attribute, and conditional manipulation.

    d = labelled_direction(G, pos_seeds=[...], neg_seeds=[...])
    d.accuracy                      # held-out (cross-validated) accuracy of the boundary
    d.to_directions().save("smile.npz")   # loads like a PCA/SeFa file

InterFaceGAN's recipe: a linear SVM separates the latent codes of positive and negative
samples; the unit normal n of its hyperplane is the editing direction (w + α n adds the
attribute), and the signed distance n·w + b says how strongly a sample has it. Latents are
W for the StyleGAN family (one w per seed, `G.mapping`) and Z for a DCGAN (its w is z;
the label columns of a conditional one are left out, so a direction never moves the
label). InterFaceGAN labels its samples by an attribute score and keeps only the most
positive and most negative ones: a linear boundary is a good model of the extremes, less
of the ambiguous middle.

Conditional manipulation (their sec. 2.2): to change one attribute and not others, move
along the part of n orthogonal to the other boundaries' normals, n - Σ (nᵀm_j) m_j for
orthonormalised m_j (Gram-Schmidt; with one condition this is their n1 - (n1ᵀn2) n2).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np
import torch

from ..models.protocol import Generator
from .directions import Directions
from .sampling import class_labels, sample_ws, seeds_to_z

DEFAULT_C = 0.01   # SVM regularisation: a wide margin generalises best from a few hundred labels
_LABEL_WORDS = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False,
                "+": True, "-": False, "pos": True, "neg": False, "positive": True, "negative": False,
                "+1": True, "-1": False}


@dataclass
class LabelledDirection:
    name: str                 # what the attribute is called ('smiling')
    direction: np.ndarray     # [w_dim] unit normal, pointing from negative to positive
    offset: float             # boundary: direction · (w - center) = offset
    center: np.ndarray        # [w_dim] mean of the labelled latents (the SVM ran on centred codes)
    accuracy: float           # held-out accuracy of the SVM boundary (k-fold cross-validation;
                              # before any projecting out of other directions)
    folds: int                # k of that cross-validation
    n_pos: int                # positive latents it was fitted on
    n_neg: int                # negative latents
    scale: float              # std of sampled w along `direction` (slider 1 = one sigma)
    conditioned_on: int = 0   # how many other directions were projected out

    def score(self, latents: np.ndarray) -> np.ndarray:
        """[N, w_dim] -> [N] signed distance to the boundary (> 0: has the attribute)."""
        lat = np.asarray(latents, np.float64).reshape(-1, self.direction.shape[0])
        return (lat - self.center) @ self.direction - self.offset

    def predict(self, latents: np.ndarray) -> np.ndarray:
        """[N, w_dim] -> [N] bool: on the positive side."""
        return self.score(latents) > 0

    def to_directions(self) -> Directions:
        """One row in the unit every direction file uses; loads like PCA/SeFa files."""
        return Directions("labelled", self.direction[None].astype(np.float32),
                          np.array([self.scale], np.float32), [self.name],
                          accuracy=np.array([self.accuracy], np.float32))


def seed_latents(G: Generator, seeds: list[int], psi: float = 1.0) -> np.ndarray:
    """[N, w_dim]: the w of each seed (NVIDIA's z convention, class = seed % c_dim), the
    latents the classifier sees. A DCGAN's w is its z (+ label)."""
    if not seeds:
        return np.zeros((0, G.w_dim), np.float32)
    z = torch.from_numpy(seeds_to_z(list(seeds), G.z_dim)).to(G.w_avg.device)
    c = torch.from_numpy(class_labels(list(seeds), G.c_dim)).to(z.device) if G.c_dim else None
    with torch.no_grad():
        return G.mapping(z, c, psi=psi)[:, 0].float().cpu().numpy()


def _free_dims(G: Generator) -> int:
    """Columns of w a direction may move: all but a conditional DCGAN's label."""
    return G.z_dim if (not G.has_styles and G.c_dim) else G.w_dim


def fit_boundary(latents: np.ndarray, labels: np.ndarray, C: float = DEFAULT_C, folds: int = 5,
                 seed: int = 0) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """Linear SVM on labelled latents [N, d] (labels [N] bool) ->
    (unit normal [d], offset, center [d], held-out accuracy, folds used).

    The latents are centred first (the SVM's intercept is regularised too, and w sits far
    from the origin); accuracy is k-fold cross-validated (k = folds, fewer when a class
    has fewer samples), and the returned boundary is then fitted on all of them.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.svm import LinearSVC
    x = np.asarray(latents, np.float64)
    y = np.asarray(labels, bool)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError("give one label per latent")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos < 2 or n_neg < 2:
        raise ValueError(f"a labelled direction needs at least 2 positive and 2 negative samples "
                         f"(got {n_pos} positive, {n_neg} negative)")
    if not C > 0:
        raise ValueError("the regularisation C must be positive")
    center = x.mean(axis=0)
    xc = x - center
    k = int(min(folds, n_pos, n_neg))
    svm = LinearSVC(C=C, max_iter=50_000)
    cv = StratifiedKFold(k, shuffle=True, random_state=seed)
    accuracy = float(cross_val_score(svm, xc, y, cv=cv).mean())
    svm.fit(xc, y)
    coef = svm.coef_[0]
    norm = float(np.linalg.norm(coef))
    if norm == 0:
        raise ValueError("the positive and negative samples cannot be told apart linearly")
    # coef·x + b = 0  <=>  n·x = -b / |coef|, n = coef / |coef|
    return coef / norm, float(-svm.intercept_[0] / norm), center, accuracy, k


def project_out(direction: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Conditional manipulation: the unit part of `direction` [d] orthogonal to every row of
    `others` [k, d] (orthonormalised first: Gram-Schmidt by QR)."""
    n = np.asarray(direction, np.float64).reshape(-1)
    m = np.asarray(others, np.float64).reshape(-1, n.shape[0])
    if len(m):
        q, _ = np.linalg.qr(m.T)                    # [d, k] orthonormal basis of the others
        n = n - q @ (q.T @ n)
    norm = float(np.linalg.norm(n))
    if norm < 1e-6:
        raise ValueError("the direction lies in the span of the directions to keep fixed: "
                         "nothing of it is left to move along")
    return n / norm


@torch.no_grad()
def direction_scale(G: Generator, direction: np.ndarray, n_samples: int = 10_000, seed: int = 0) -> float:
    """Std of sampled w along `direction`: the unit of PCA/SeFa scales too."""
    w = sample_ws(G, n_samples, seed).double().cpu().numpy()     # [n, w_dim]
    return float(max(((w - w.mean(axis=0)) @ np.asarray(direction, np.float64)).std(), 1e-6))


def labelled_direction_from_latents(G: Generator, latents: np.ndarray, labels: np.ndarray,
                                    name: str = "labelled", orthogonal_to: np.ndarray | None = None,
                                    C: float = DEFAULT_C, folds: int = 5, n_samples: int = 10_000,
                                    seed: int = 0) -> LabelledDirection:
    """The boundary normal of labelled latents [N, w_dim], made orthogonal to the rows of
    `orthogonal_to` [k, w_dim] when given (conditional manipulation)."""
    latents = np.asarray(latents, np.float32)
    if latents.ndim != 2 or latents.shape[1] != G.w_dim:
        raise ValueError(f"latents must be [N, {G.w_dim}], got {list(latents.shape)}")
    d = _free_dims(G)
    normal, offset, center, accuracy, k = fit_boundary(latents[:, :d], labels, C, folds, seed)
    normal = np.pad(normal, (0, G.w_dim - d))
    center = np.pad(center, (0, G.w_dim - d))
    conditioned = 0
    if orthogonal_to is not None and len(orthogonal_to):
        others = np.asarray(orthogonal_to, np.float64).reshape(-1, G.w_dim)
        normal, conditioned = project_out(normal, others), len(others)
        # The SVM's offset belongs to its own normal: along the projected one, put the
        # boundary midway between the two classes' mean scores.
        s = (latents.astype(np.float64) - center) @ normal
        y = np.asarray(labels, bool)
        offset = 0.5 * float(s[y].mean() + s[~y].mean())
    labels = np.asarray(labels, bool)
    return LabelledDirection(name=name, direction=normal.astype(np.float64), offset=offset,
                             center=center, accuracy=accuracy, folds=k, n_pos=int(labels.sum()),
                             n_neg=int((~labels).sum()),
                             scale=direction_scale(G, normal, n_samples, seed), conditioned_on=conditioned)


def labelled_direction(G: Generator, pos_seeds: list[int], neg_seeds: list[int], name: str = "labelled",
                       orthogonal_to: np.ndarray | None = None, psi: float = 1.0, C: float = DEFAULT_C,
                       folds: int = 5, n_samples: int = 10_000, seed: int = 0,
                       pos_latents: np.ndarray | None = None,
                       neg_latents: np.ndarray | None = None) -> LabelledDirection:
    """The InterFaceGAN direction from seeds marked as having (pos) or lacking (neg) the
    attribute (what `ganexplorer directions --method labelled` and the window call), plus
    latents [k, w_dim] marked the same way that come from no seed (the window's edited pins)."""
    both = set(pos_seeds) & set(neg_seeds)
    if both:
        raise ValueError(f"seed {min(both)} is marked both positive and negative")
    extra = [np.asarray(x, np.float32).reshape(-1, G.w_dim) if x is not None else np.zeros((0, G.w_dim), np.float32)
             for x in (pos_latents, neg_latents)]
    lat = np.concatenate([seed_latents(G, list(pos_seeds), psi), extra[0],
                          seed_latents(G, list(neg_seeds), psi), extra[1]])
    labels = np.r_[np.ones(len(pos_seeds) + len(extra[0]), bool), np.zeros(len(neg_seeds) + len(extra[1]), bool)]
    return labelled_direction_from_latents(G, lat, labels, name, orthogonal_to, C, folds, n_samples, seed)


def read_label_csv(path: str | os.PathLike) -> tuple[list[int], list[int]]:
    """A `seed,label` file -> (positive seeds, negative seeds). Labels: 1/0, true/false,
    yes/no, +/-, pos/neg; a header row, blank lines and '#' comments are skipped."""
    pos, neg = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            cells = [c.strip() for c in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            if len(cells) < 2:
                raise ValueError(f"{os.fspath(path)} line {lineno}: expected 'seed,label', got {','.join(cells)!r}")
            try:
                s = int(cells[0])
            except ValueError:
                if lineno == 1:       # a header such as 'seed,label'
                    continue
                raise ValueError(f"{os.fspath(path)} line {lineno}: {cells[0]!r} is not a seed number") from None
            label = _LABEL_WORDS.get(cells[1].lower())
            if label is None:
                raise ValueError(f"{os.fspath(path)} line {lineno}: label {cells[1]!r} is not one of "
                                 "1/0, true/false, yes/no, +/-")
            (pos if label else neg).append(s)
    return pos, neg
