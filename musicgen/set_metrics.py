"""Statistics of two *sets* of pieces: how alike are generated and real music, feature by feature?

- MGEval (Yang & Lerch 2018): per feature, the distances within the real set (intra-set) and between
  generated and real pieces (inter-set), each smoothed with a Gaussian KDE; the overlapping area (OA)
  and KL divergence of the two curves. OA 1 = generated pieces sit among real ones like real ones do.
- A classifier two-sample test (C2ST): class-weighted logistic regression on standardised features,
  k-fold cross-validated with a fixed seed; balanced accuracy 0.5 = cannot tell them apart.
- Diversity: identical samples, or pairwise piano-roll distance near zero while real pieces sit far
  apart, is mode collapse.

Pure numpy over per-piece features from `metrics.py`: cheap enough for a GAN to score its snapshots while
training (`overlap_mean`), and the core of `evaluation.py`.
"""

from __future__ import annotations

import math

import numpy as np

from musicgen.metrics import FEATURES, feature_matrix, feature_table
from musicgen.sequence import NoteSequence

SEED = 0
KDE_GRID = 2048


class EvaluationError(ValueError):
    """The sets cannot be compared (too few pieces); the message says which."""


# ---- MGEval: distance distributions, KDE, overlap and KL -------------------------------------------
def _as_rows(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values.reshape(len(values), -1)


def intra_set_distances(values: np.ndarray) -> np.ndarray:
    """Euclidean distance of every unordered pair within one set (|a-b| for scalars)."""
    x = _as_rows(values)
    i, j = np.triu_indices(len(x), k=1)
    return np.linalg.norm(x[i] - x[j], axis=1)


def inter_set_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of every (a, b) pair."""
    x, y = _as_rows(a), _as_rows(b)
    return np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2).ravel()


def _kde(samples: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    z = (grid[:, None] - samples[None, :]) / bandwidth
    density = np.exp(-0.5 * z * z).sum(axis=1) / (len(samples) * bandwidth * math.sqrt(2 * math.pi))
    return density / np.trapezoid(density, grid)  # renormalise on the grid


def _scott_bandwidth(samples: np.ndarray) -> float:
    # Same rule as scipy.stats.gaussian_kde's default in one dimension.
    sd = samples.std(ddof=1) if len(samples) > 1 else 0.0
    return float(sd * len(samples) ** (-1 / 5))


def overlap_and_kl(p_samples: np.ndarray, q_samples: np.ndarray) -> tuple[float, float]:
    """Overlapping area of the two smoothed densities, and KL(p || q) in nats.

    Zero variance is guarded: a bandwidth never falls below 1 % of the pooled spread, and two sets of
    one identical value give (1, 0). q is floored at 1e-6 of its peak so KL stays finite.
    """
    p, q = np.asarray(p_samples, float), np.asarray(q_samples, float)
    if len(p) == 0 or len(q) == 0:
        raise ValueError("need at least one distance on each side (sets of at least 2 pieces)")
    pooled = np.concatenate([p, q])
    spread = pooled.std()
    if spread <= 1e-12 * max(1.0, abs(pooled).max()):
        return 1.0, 0.0
    floor = 0.01 * spread
    bw_p, bw_q = max(_scott_bandwidth(p), floor), max(_scott_bandwidth(q), floor)
    pad = 4 * max(bw_p, bw_q)
    grid = np.linspace(pooled.min() - pad, pooled.max() + pad, KDE_GRID)
    dp, dq = _kde(p, grid, bw_p), _kde(q, grid, bw_q)
    oa = float(np.trapezoid(np.minimum(dp, dq), grid))
    dq = np.maximum(dq, 1e-6 * dq.max())
    # log p - log q, not log(p / q): a tiny p over a large q underflows to 0, and log(0) made the sum -inf
    integrand = np.where(dp > 0, dp * (np.log(np.where(dp > 0, dp, 1.0)) - np.log(dq)), 0.0)
    kl = float(max(np.trapezoid(integrand, grid), 0.0))
    return min(oa, 1.0), kl


def _summary(values: np.ndarray) -> tuple:
    mean, std = values.mean(axis=0), values.std(axis=0)
    return (mean.round(4).tolist(), std.round(4).tolist()) if values.ndim > 1 else (round(float(mean), 4),
                                                                                    round(float(std), 4))


def compare_feature(generated: np.ndarray, real: np.ndarray) -> dict:
    """MGEval numbers for one feature: OA/KL of real intra-set vs inter-set distances, plus means."""
    real_intra, inter = intra_set_distances(real), inter_set_distances(generated, real)
    oa, kl = overlap_and_kl(real_intra, inter)
    oa_gen, _ = overlap_and_kl(intra_set_distances(generated), inter)
    g_mean, g_std = _summary(np.asarray(generated, float))
    r_mean, r_std = _summary(np.asarray(real, float))
    return {"oa": round(oa, 4), "kl": round(kl, 4), "oa_generated_intra": round(oa_gen, 4),
            "generated_mean": g_mean, "generated_std": g_std, "real_mean": r_mean, "real_std": r_std}


# ---- classifier two-sample test ----------------------------------------------------------------------
def _fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, iters: int = 50) -> np.ndarray:
    """Weighted, L2-regularised logistic regression by Newton's method; x has a bias column last."""
    beta = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (w * (p - y)) + reg * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def c2st_accuracy(a: np.ndarray, b: np.ndarray, *, folds: int = 5, repeats: int = 5, seed: int = SEED,
                  l2: float = 1.0) -> float:
    """Cross-validated balanced accuracy of telling rows of `a` from rows of `b` (0.5 = indistinguishable).

    Stratified k folds, repeated with seeds seed..seed+repeats-1 and averaged; standardised with each
    training fold's mean and spread; the two classes weigh the same in the fit, and accuracy is the
    mean of the two classes' recalls. Small sets scatter it by about ±0.05 around 0.5 when the sets
    do not differ (values a little under 0.5 are chance, not a better-than-real model).
    """
    a, b = _as_rows(a), _as_rows(b)
    if min(len(a), len(b)) < 2:
        raise ValueError("the classifier test needs at least 2 pieces per set")
    x, y = np.concatenate([a, b]), np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    k = min(folds, len(a), len(b))
    scores = []
    for r in range(repeats):
        rng = np.random.default_rng(seed + r)
        fold = np.empty(len(y), dtype=int)
        for cls in (0, 1):
            idx = np.flatnonzero(y == cls)
            fold[rng.permutation(idx)] = np.arange(len(idx)) % k
        predicted = np.empty(len(y))
        for f in range(k):
            tr, te = fold != f, fold == f
            mu, sd = x[tr].mean(axis=0), x[tr].std(axis=0)
            sd[sd < 1e-12] = 1.0
            design = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])  # bias column last
            weights = np.where(y[tr] == 1, 0.5 / y[tr].sum(), 0.5 / (1 - y[tr]).sum()) * tr.sum()
            beta = _fit_logistic(design[tr], y[tr], weights, l2)
            predicted[te] = (design[te] @ beta > 0).astype(float)
        scores.append(np.mean([(predicted[y == cls] == cls).mean() for cls in (0, 1)]))
    return float(np.mean(scores))


# ---- two sets of pieces -----------------------------------------------------------------------------
def _feature_comparison(generated: list[NoteSequence], real: list[NoteSequence]) -> tuple[dict, dict, dict]:
    """Both sets' feature tables and the MGEval numbers per feature."""
    if min(len(generated), len(real)) < 2:
        raise EvaluationError(f"need at least 2 pieces per set (got {len(generated)} and {len(real)})")
    g, r = feature_table(generated), feature_table(real)
    return g, r, {name: compare_feature(g[name], r[name]) for name in FEATURES}


def _mean_overlap(features: dict) -> float:
    return round(float(np.mean([f["oa"] for f in features.values()])), 4)


def overlap_mean(generated: list[NoteSequence], real: list[NoteSequence]) -> float:
    """The mean MGEval overlap of two sets alone (no C2ST): cheap enough to score a model while training."""
    return _mean_overlap(_feature_comparison(generated, real)[2])


def compare_sets(generated: list[NoteSequence], real: list[NoteSequence], *, seed: int = SEED) -> dict:
    """MGEval per feature, their means, and the C2ST accuracy for two sets of (already cut) pieces."""
    g, r, features = _feature_comparison(generated, real)
    return {"overlap_mean": _mean_overlap(features),
            "kl_mean": round(float(np.mean([f["kl"] for f in features.values()])), 4),
            "c2st_accuracy": round(c2st_accuracy(feature_matrix(g), feature_matrix(r), seed=seed), 4),
            "features": features}


# ---- diversity: is every sample the same piece? -------------------------------------------------------
def _roll_cells(seq: NoteSequence, step: float) -> set[tuple[int, int]]:
    """(sixteenth at 100 qpm, pitch) cells a piece sounds in."""
    cells = set()
    for n in seq.notes:
        first = int(round(n.start / step))
        for t in range(first, max(first + 1, int(round(n.end / step)))):
            cells.add((t, n.pitch))
    return cells


def mean_pairwise_roll_distance(pieces: list[NoteSequence], *, step: float = 0.15) -> float:
    """Mean Jaccard distance between the sounding cells of every pair (0 = identical, 1 = no cell shared)."""
    cells = [_roll_cells(p, step) for p in pieces]
    distances = [1.0 - len(a & b) / len(a | b) if (a or b) else 0.0
                 for i, a in enumerate(cells) for b in cells[i + 1:]]
    return float(np.mean(distances)) if distances else 0.0


def diversity(generated: list[NoteSequence], real: list[NoteSequence]) -> dict:
    return {"distinct_samples": len({p.notes for p in generated}), "n_samples": len(generated),
            "mean_pairwise_roll_distance": round(mean_pairwise_roll_distance(generated), 4),
            "real_mean_pairwise_roll_distance": round(mean_pairwise_roll_distance(real), 4)}
