"""LSTM-only numbers: state carried between steps vs the studies' re-run window, and training throughput."""

from __future__ import annotations

import time
from contextlib import contextmanager

import torch

from musicgen.bench.pipeline import median
from musicgen.models import build_model
from musicgen.presets import Preset
from musicgen.representations import representation_from_card
from musicgen.representations.notes import N_SPECIAL

WINDOW = 100  # the studies' context: the last 100 tokens, re-read from scratch for every new token


@contextmanager
def _mkldnn(enabled: bool):
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = previous


def _draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.multinomial(torch.softmax(logits[:, -1], dim=-1), 1, generator=generator)  # (1, 1)


def _primer(model, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(N_SPECIAL, model.representation.vocab_size, (1, WINDOW), generator=g)


def run_cached(model, n_tokens: int) -> float:
    """Read a 100-token primer once, then one LSTM step per new token (what `sample` does)."""
    g = torch.Generator().manual_seed(0)
    primer = _primer(model)
    t = time.perf_counter()
    logits, state = model(primer)
    for _ in range(n_tokens):
        token = _draw(logits, g)
        logits, state = model(token, state)
    return time.perf_counter() - t


def run_naive(model, n_tokens: int) -> float:
    """The studies' loop: for every new token, run the model over the last 100 tokens from a zero state."""
    g = torch.Generator().manual_seed(0)
    context = _primer(model)
    t = time.perf_counter()
    for _ in range(n_tokens):
        logits, _ = model(context[:, -WINDOW:])
        context = torch.cat([context[:, -WINDOW:], _draw(logits, g)], dim=1)
    return time.perf_counter() - t


def _per_token(run, model, n_tokens: int, runs: int, mkldnn: bool) -> float:
    with _mkldnn(mkldnn):
        run(model, 3)  # warm-up
        return median([run(model, n_tokens) for _ in range(runs)]) / n_tokens


def cached_vs_naive(model, *, n_tokens: int, cached_runs: int, naive_runs: int, probe_tokens: int = 5,
                    naive_budget_s: float = 60.0) -> dict:
    """Seconds per token, both loops drawing the same way; only the forward differs.

    The headline uses one-token steps as `sample` runs them (oneDNN off) and the re-run window with
    whichever oneDNN setting is faster here (a short probe of each; the slow one can be ~40× slower).
    Every naive token costs the same (the window is always full), so on a slow or busy machine the
    naive loop runs fewer tokens to stay within `naive_budget_s`; `naive_tokens` says how many."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            cached = {on: _per_token(run_cached, model, n_tokens, cached_runs, on) for on in (False, True)}
            probe = {on: _per_token(run_naive, model, probe_tokens, 1, on) for on in (True, False)}
            best = min(probe, key=probe.get)
            naive_tokens = int(min(n_tokens, max(probe_tokens, naive_budget_s / (probe[best] * naive_runs))))
            naive = _per_token(run_naive, model, naive_tokens, naive_runs, best)
    finally:
        model.train(was_training)
    return {"tokens": n_tokens, "naive_tokens": naive_tokens, "window": WINDOW, "cached_runs": cached_runs,
            "naive_runs": naive_runs,
            "cached_ms_per_token": 1000 * cached[False], "naive_ms_per_token": 1000 * naive,
            "speedup": naive / cached[False], "cached_mkldnn_on_ms_per_token": 1000 * cached[True],
            "naive_mkldnn": best, "naive_probe_ms_per_token": {"mkldnn_on": 1000 * probe[True],
                                                               "mkldnn_off": 1000 * probe[False]}}


def training_throughput(preset: Preset, *, warmup_steps: int, steps: int, seed: int = 0) -> dict:
    """`train_step` on random tokens of the preset's batch shape (batch × window+1), default threads."""
    rep = representation_from_card(preset.representation, preset.representation_config)
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's global seed
        torch.manual_seed(seed)
        model = build_model(preset.family, preset.model_config, rep)
    t = preset.train
    optimizers = model.make_optimizers(lr=t.lr, weight_decay=t.weight_decay)
    g = torch.Generator().manual_seed(seed)
    batch = torch.randint(N_SPECIAL, rep.vocab_size, (t.batch_size, t.window + 1), generator=g)
    model.train()
    for _ in range(warmup_steps):
        model.train_step(batch, optimizers, grad_clip=t.grad_clip)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_step(batch, optimizers, grad_clip=t.grad_clip)
        times.append(time.perf_counter() - start)
    step_s = median(times)
    return {"preset": preset.id, "batch_size": t.batch_size, "window": t.window, "steps": steps,
            "warmup_steps": warmup_steps, "step_median_s": step_s, "sequences_per_s": t.batch_size / step_s,
            "tokens_per_s": t.batch_size * t.window / step_s, "torch_threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.enabled}
