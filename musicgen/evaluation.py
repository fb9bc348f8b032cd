"""`python -m musicgen evaluate`: how close are a model's pieces to real, held-out ones?

For each model: N samples at seeds 0..N-1 with the card's default settings, 30 s each, against the
corpus's test pieces cut to the same 30 s (so length gives nothing away). Per-piece features come from
`metrics.py`; the sets are compared two ways:

- MGEval (Yang & Lerch 2018): per feature, the distances within the real set (intra-set) and between
  generated and real pieces (inter-set), each smoothed with a Gaussian KDE; the overlapping area (OA)
  and KL divergence of the two curves. OA 1 = generated pieces sit among real ones like real ones do.
- A classifier two-sample test (C2ST): class-weighted logistic regression on standardised features,
  k-fold cross-validated with a fixed seed; balanced accuracy 0.5 = cannot tell them apart.

The ceiling is the same comparison with N training pieces in place of samples. Every model also gets a
diversity row (mode collapse shows there: identical samples, or pairwise piano-roll distance near
zero while real pieces sit far apart), and a family that sets `compare_with_untrained` (the GANs) gets
the same evaluation of its untrained network, so "it learned" is a difference, not an impression.
`docs/evaluation.md` documents the JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np

from musicgen.metrics import FEATURES, VECTOR_FEATURES, feature_matrix, feature_table
from musicgen.sequence import NoteSequence

CLIP_SECONDS = 30.0
REFERENCE_SPLIT, CEILING_SPLIT = "test", "train"
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
    integrand = np.where(dp > 0, dp * np.log(np.where(dp > 0, dp, 1.0) / dq), 0.0)
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


# ---- sets of pieces ----------------------------------------------------------------------------------
def clip(pieces: list[NoteSequence], seconds: float = CLIP_SECONDS) -> list[NoteSequence]:
    """The first `seconds` of each piece, from its first note (as the app's clips are cut)."""
    from musicgen.generate import opening

    return [opening(p, seconds) for p in pieces]


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


def corpus_for(name: str):
    """The corpus a card names (`toy` is the test corpus)."""
    from musicgen.data import load_corpus, toy_corpus

    return toy_corpus() if name == "toy" else load_corpus(name)


def reference_pieces(corpus) -> list[NoteSequence]:
    real = clip(corpus.subset(REFERENCE_SPLIT))
    if len(real) < 2:
        raise EvaluationError(f"corpus {corpus.name!r} has {len(real)} test piece(s); evaluation needs at least 2")
    return real


def ceiling(corpus, n: int, *, seed: int = SEED) -> dict:
    """Real test pieces against `n` training pieces (drawn with a fixed seed): the best a model can do."""
    train = corpus.subset(CEILING_SPLIT)
    picks = np.sort(np.random.default_rng(seed).choice(len(train), size=min(n, len(train)), replace=False))
    result = compare_sets(clip([train[i] for i in picks]), reference_pieces(corpus), seed=seed)
    return {"compared": CEILING_SPLIT, "reference": REFERENCE_SPLIT, "n_samples": len(picks), "sample_seed": seed,
            **result}


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


def untrained_baseline(checkpoint, n: int, real: list[NoteSequence]) -> dict:
    """The same evaluation for the family's network as initialised before training (same seed)."""
    import torch

    from musicgen.checkpoints import LoadedCheckpoint
    from musicgen.models import build_model

    card = checkpoint.card
    torch.manual_seed(int(card.get("training", {}).get("train_config", {}).get("seed", 0)))  # as the loop seeds init
    model = build_model(card["family"], card.get("model_config", {}), checkpoint.model.representation)
    fresh = LoadedCheckpoint(card=card, model=model, history={})
    generated, _ = sample_model(fresh, n)
    result = compare_sets(clip(generated), real)
    return {"overlap_mean": result["overlap_mean"], "kl_mean": result["kl_mean"],
            "c2st_accuracy": result["c2st_accuracy"]}


# ---- models and the command --------------------------------------------------------------------------
def sample_model(checkpoint, n: int) -> tuple[list[NoteSequence], dict]:
    """`n` pieces at seeds 0..n-1 with the card's default settings, 30 s long (as `generate` makes them)."""
    from musicgen.generate import Request, generate

    defaults = checkpoint.card.get("sampling", {}).get("defaults", {})
    base = Request(model=checkpoint.id, temperature=float(defaults.get("temperature", 1.0)),
                   top_k=defaults.get("top_k"), top_p=defaults.get("top_p"), length=f"{CLIP_SECONDS:g}s")
    pieces = [generate(checkpoint, dataclasses.replace(base, seed=s)) for s in range(n)]
    settings = {"temperature": base.temperature, "top_k": base.top_k, "top_p": base.top_p, "length": base.length,
                "seeds": [0, n - 1]}
    return pieces, settings


def _finite_or_none(x):
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


def evaluate_model(checkpoint, n: int, *, ceilings: dict | None = None) -> dict:
    """The card's `evaluation` field for one loaded checkpoint (`ceilings` caches the real-vs-train rows)."""
    from musicgen.train import code_version

    ceilings = {} if ceilings is None else ceilings
    corpus_name = checkpoint.card.get("training", {}).get("corpus", "bach-chorales")
    corpus = corpus_for(corpus_name)
    real = reference_pieces(corpus)
    if (corpus_name, n) not in ceilings:
        ceilings[(corpus_name, n)] = ceiling(corpus, n)
    started = time.perf_counter()  # the model's own time: sampling and comparing
    generated, settings = sample_model(checkpoint, n)
    # A family may drop samples that are not music (C-abc: tunes that do not parse) and report extra numbers.
    hook = getattr(checkpoint.model, "evaluation_extras", None)
    generated, extras = hook(generated) if hook else (generated, {})
    result = compare_sets(clip(generated), real)
    extras["diversity"] = diversity(clip(generated), real[:n])
    if getattr(checkpoint.model, "compare_with_untrained", False):
        extras["untrained"] = untrained_baseline(checkpoint, n, real)
    ceiling_row = ceilings[(corpus_name, n)]
    return {"n_samples": n, "reference": REFERENCE_SPLIT, "corpus": corpus_name, "reference_pieces": len(real),
            "clip_seconds": CLIP_SECONDS, "settings": settings,
            "overlap_mean": result["overlap_mean"], "kl_mean": result["kl_mean"],
            "c2st_accuracy": result["c2st_accuracy"],
            "nll_per_token": _finite_or_none(checkpoint.card.get("training", {}).get("test_nll_per_token")),
            "features": result["features"],
            "real_vs_train": dict(ceiling_row), **extras,
            "seconds": round(time.perf_counter() - started, 1), "code_version": code_version(),
            "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _fmt(x, spec: str) -> str:
    return format(x, spec) if isinstance(x, (int, float)) else "—"


def format_table(results: dict[str, dict]) -> str:
    head = f"{'model':<24} {'overlap':>7} {'KL':>6} {'C2ST':>6} {'NLL/tok':>8} {'n':>4} {'seconds':>8}"
    lines, ceilings = [head, "-" * len(head)], {}
    for cid, ev in results.items():
        lines.append(f"{cid:<24} {_fmt(ev['overlap_mean'], '7.3f')} {_fmt(ev['kl_mean'], '6.3f')} "
                     f"{_fmt(ev['c2st_accuracy'], '6.3f')} {_fmt(ev['nll_per_token'], '8.3f')} {ev['n_samples']:>4} "
                     f"{_fmt(ev['seconds'], '8.1f')}")
        ceilings.setdefault(ev["corpus"], ev["real_vs_train"])
    for corpus, c in ceilings.items():
        label = f"real: {CEILING_SPLIT} vs {REFERENCE_SPLIT}"[:24]
        lines.append(f"{label:<24} {_fmt(c['overlap_mean'], '7.3f')} {_fmt(c['kl_mean'], '6.3f')} "
                     f"{_fmt(c['c2st_accuracy'], '6.3f')} {'—':>8} {c['n_samples']:>4} {'':>8}  ({corpus})")
    return "\n".join(lines)


def run_cli(args) -> int:
    from musicgen.checkpoints import CheckpointError, list_checkpoint_ids, load_checkpoint, update_card_evaluation
    from musicgen.cli import UsageError
    from musicgen.data import CorpusError

    if args.n is None or args.n < 2:
        raise UsageError(f"--n must be at least 2 (samples per model), got {args.n}")
    known = list_checkpoint_ids()
    ids = list(dict.fromkeys(args.model)) if args.model else known
    if not ids:
        raise UsageError("no checkpoints found; train one with `python -m musicgen train markov`")
    unknown = [m for m in ids if m not in known]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; choose from {', '.join(known) or 'none'}")
    results, ceilings = {}, {}
    for cid in ids:
        try:
            checkpoint = load_checkpoint(cid)
            results[cid] = evaluate_model(checkpoint, args.n, ceilings=ceilings)
        except (CheckpointError, CorpusError, EvaluationError) as e:
            raise UsageError(f"{cid}: {e}") from None
        if not args.no_write:
            update_card_evaluation(cid, results[cid])
        print(f"{cid}: evaluated in {results[cid]['seconds']:.1f} s", flush=True)
    print(format_table(results))
    if args.json:
        doc = {"n_samples": args.n, "clip_seconds": CLIP_SECONDS, "reference": REFERENCE_SPLIT,
               "features": {name: (fn.__doc__ or "").strip().splitlines()[0] for name, fn in FEATURES.items()},
               "vector_features": list(VECTOR_FEATURES), "models": results,
               "ceilings": {corpus: c for (corpus, _), c in ceilings.items()}}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.json}")
    return 0
