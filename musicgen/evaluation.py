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

A sample set (`samples:<name>`, files made by an outside model) is evaluated the same way: its files at
seeds 0..N-1 (N capped at the number of files, with a `note`), cut to 30 s, against its corpus's test
pieces; it has no NLL (`nll_per_token` null) and no untrained baseline.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch

from musicgen.checkpoints import LoadedCheckpoint
from musicgen.corpora import Corpus, load_corpus
from musicgen.metrics import FEATURES, VECTOR_FEATURES
from musicgen.models import build_model
from musicgen.sequence import NoteSequence, opening
from musicgen.set_metrics import SEED, EvaluationError, compare_sets, diversity
from musicgen.systems import (System, checkpoint_system, default_request, load_system_model, make_clip,
                              sample_checkpoint)
from musicgen.train import code_version

CLIP_SECONDS = 30.0
REFERENCE_SPLIT, CEILING_SPLIT = "test", "train"
__all__ = ["CLIP_SECONDS", "EvaluationError", "evaluate_model", "format_table", "json_document"]


# ---- sets of pieces ----------------------------------------------------------------------------------
def clip(pieces: list[NoteSequence], seconds: float = CLIP_SECONDS) -> list[NoteSequence]:
    """The first `seconds` of each piece, from its first note (as the app's clips are cut)."""
    return [opening(p, seconds) for p in pieces]


def reference_pieces(corpus: Corpus) -> list[NoteSequence]:
    real = clip(corpus.subset(REFERENCE_SPLIT))
    if len(real) < 2:
        raise EvaluationError(f"corpus {corpus.name!r} has {len(real)} test piece(s); evaluation needs at least 2")
    return real


def ceiling(corpus: Corpus, n: int, *, seed: int = SEED) -> dict:
    """Real test pieces against `n` training pieces (drawn with a fixed seed): the best a model can do."""
    train = corpus.subset(CEILING_SPLIT)
    picks = np.sort(np.random.default_rng(seed).choice(len(train), size=min(n, len(train)), replace=False))
    result = compare_sets(clip([train[i] for i in picks]), reference_pieces(corpus), seed=seed)
    return {"compared": CEILING_SPLIT, "reference": REFERENCE_SPLIT, "n_samples": len(picks), "sample_seed": seed,
            **result}


def untrained_baseline(checkpoint: LoadedCheckpoint, n: int, real: list[NoteSequence]) -> dict:
    """The same evaluation for the family's network as initialised before training (same seed).

    The loop seeds weight init with the global generator; `fork_rng` keeps that from leaking out of here."""
    card = checkpoint.card
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(card.training.seed)
        model = build_model(card.family, card.model_config, checkpoint.model.representation)
    fresh = LoadedCheckpoint(card=card, model=model, history={})
    base = default_request(checkpoint_system(card), length=f"{CLIP_SECONDS:g}s")
    generated = [sample_checkpoint(fresh, dataclasses.replace(base, seed=s)) for s in range(n)]
    result = compare_sets(clip(generated), real)
    return {"overlap_mean": result["overlap_mean"], "kl_mean": result["kl_mean"],
            "c2st_accuracy": result["c2st_accuracy"]}


# ---- models and the command --------------------------------------------------------------------------
def sample_system(system: System, n: int, *, first_seed: int = 0) -> tuple[list[NoteSequence], dict]:
    """`n` clips at seeds first_seed..first_seed+n-1 (default 0..n-1) with the system's default settings,
    30 s long (as the app makes them). Other seeds than 0..n-1 check a setting chosen on those (a sweep)."""
    base = default_request(system, length=f"{CLIP_SECONDS:g}s")
    seeds = range(first_seed, first_seed + n)
    pieces = [make_clip(dataclasses.replace(base, seed=s)) for s in seeds]
    if system.is_samples:
        return pieces, {"length": base.length, "seeds": [seeds[0], seeds[-1]]}
    settings = {"temperature": base.temperature, "top_k": base.top_k, "top_p": base.top_p, "length": base.length,
                "seeds": [seeds[0], seeds[-1]]}
    return pieces, settings


def sample_model(checkpoint: LoadedCheckpoint, n: int) -> tuple[list[NoteSequence], dict]:
    """`n` clips of a checkpoint at seeds 0..n-1 with the card's default settings, 30 s long."""
    return sample_system(checkpoint_system(checkpoint.card), n)


def _finite_or_none(x):
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


def evaluate_model(target: LoadedCheckpoint | System, n: int, *, ceilings: dict | None = None,
                   first_seed: int = 0) -> dict:
    """The `evaluation` field for one system: a loaded checkpoint (or a checkpoint System, loaded here) or
    a sample set System (`ceilings` caches the real-vs-train rows).

    A sample set offers at most its number of files: `n` is capped there and the result's `note` says so."""
    ceilings = {} if ceilings is None else ceilings
    checkpoint = target if isinstance(target, LoadedCheckpoint) else None
    if checkpoint is None and target.card is not None:
        checkpoint = load_system_model(target.id)
    system = checkpoint_system(checkpoint.card) if checkpoint is not None else target
    if checkpoint is None and not system.is_samples:
        raise EvaluationError(f"{system.id} is real music, not a model; it is the reference itself")
    extras: dict = {}
    if system.is_samples and n > system.sample_set.n_files:
        extras["note"] = (f"{n} samples asked for, but sample set {system.sample_set.name} has "
                          f"{system.sample_set.n_files} files: evaluated on all {system.sample_set.n_files}")
        n = system.sample_set.n_files
    corpus_name = system.corpus
    corpus = load_corpus(corpus_name)
    real = reference_pieces(corpus)
    if (corpus_name, n) not in ceilings:
        ceilings[(corpus_name, n)] = ceiling(corpus, n)
    started = time.perf_counter()  # the model's own time: sampling and comparing
    generated, settings = sample_system(system, n, first_seed=first_seed)
    # A family may drop samples that are not music (C-abc: tunes that do not parse) and report extra numbers.
    hook = getattr(checkpoint.model, "evaluation_extras", None) if checkpoint is not None else None
    generated, more = hook(generated) if hook else (generated, {})
    extras.update(more)
    result = compare_sets(clip(generated), real)
    extras["diversity"] = diversity(clip(generated), real[:n])
    if checkpoint is not None and getattr(checkpoint.model, "compare_with_untrained", False):
        extras["untrained"] = untrained_baseline(checkpoint, n, real)
    ceiling_row = ceilings[(corpus_name, n)]
    nll = checkpoint.card.training.test_nll_per_token if checkpoint is not None else None
    return {"n_samples": n, "reference": REFERENCE_SPLIT, "corpus": corpus_name, "reference_pieces": len(real),
            "clip_seconds": CLIP_SECONDS, "settings": settings,
            "overlap_mean": result["overlap_mean"], "kl_mean": result["kl_mean"],
            "c2st_accuracy": result["c2st_accuracy"],
            "nll_per_token": _finite_or_none(nll),
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


def json_document(results: dict[str, dict], ceilings: dict, n: int) -> dict:
    """What `evaluate --json` writes (`docs/evaluation.md`)."""
    return {"n_samples": n, "clip_seconds": CLIP_SECONDS, "reference": REFERENCE_SPLIT,
            "features": {name: (fn.__doc__ or "").strip().splitlines()[0] for name, fn in FEATURES.items()},
            "vector_features": list(VECTOR_FEATURES), "models": results,
            "ceilings": {corpus: c for (corpus, _), c in ceilings.items()}}
