"""Order-k Markov chain over note tokens: the classic baseline every neural model must beat.

Counts of (k previous tokens → next token) with Witten-Bell interpolation down to lower orders and a
uniform floor, so unseen contexts still get a proper distribution (and a finite held-out NLL).
It trains through the same loop as everything else: `train_step` only collects n-gram keys, and
`finish_training` turns them into count tables, which ship in safetensors like any weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from musicgen.models.base import MusicModel
from musicgen.models.token_sampling import sample_token_sequences


@dataclass(frozen=True, kw_only=True)
class MarkovConfig:
    vocab_size: int
    order: int = 3


class MarkovChain(MusicModel):
    family = "markov"
    supports_distributed = False  # it counts n-grams; there is nothing to average
    Config = MarkovConfig
    temperature_meaning = "log-probabilities ÷ T before each next-token draw (1 = the counted probabilities)"
    toy_config = {"order": 2}

    def __init__(self, *, config: MarkovConfig, representation):
        super().__init__(config=config, representation=representation)
        if config.vocab_size ** (config.order + 1) >= 2**62:
            raise ValueError("order too high for this vocabulary (n-gram keys overflow int64)")
        self._pending: list[np.ndarray] = [[] for _ in range(config.order + 1)]
        self._tables: list[dict[int, tuple[np.ndarray, np.ndarray]]] = [{} for _ in range(config.order + 1)]
        self._arrays: dict[str, torch.Tensor] = {}

    # ---- counting -----------------------------------------------------------------------------
    def _keys(self, batch: np.ndarray, j: int) -> np.ndarray:
        """int64 keys of every (j-token context, next) n-gram in each row of the batch."""
        V = self.config.vocab_size
        width = batch.shape[1]
        key = np.zeros((batch.shape[0], width - j), dtype=np.int64)
        for offset in range(j + 1):
            key = key * V + batch[:, offset:width - j + offset]
        return key.reshape(-1)

    def train_step(self, batch, optimizers, *, grad_clip=None) -> dict[str, float]:
        b = batch.numpy()
        for j in range(self.config.order + 1):
            self._pending[j].append(self._keys(b, j))
        return {"train_loss": float("nan"), "ngrams": float(b.size)}

    def finish_training(self) -> None:
        arrays = {}
        for j in range(self.config.order + 1):
            keys = np.concatenate(self._pending[j]) if self._pending[j] else np.zeros(0, dtype=np.int64)
            uniq, counts = np.unique(keys, return_counts=True)
            arrays[f"keys_{j}"] = torch.from_numpy(uniq)
            arrays[f"counts_{j}"] = torch.from_numpy(counts.astype(np.int32))
        self._pending = [[] for _ in range(self.config.order + 1)]
        self.load_inference_state_dict(arrays)

    def inference_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.contiguous() for k, v in self._arrays.items()}

    def load_inference_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        V = self.config.vocab_size
        expected = {f"{p}_{j}" for j in range(self.config.order + 1) for p in ("keys", "counts")}
        if set(state) != expected:
            raise ValueError(f"Markov weights hold {sorted(state)}, expected {sorted(expected)}")
        self._arrays = dict(state)
        for j in range(self.config.order + 1):
            keys = state[f"keys_{j}"].numpy().astype(np.int64)
            counts = state[f"counts_{j}"].numpy().astype(np.float64)
            ctx, nxt = keys // V, keys % V
            table = {}
            if len(keys):
                bounds = np.flatnonzero(np.diff(ctx)) + 1  # keys are sorted, so contexts are contiguous
                for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(keys)]):
                    table[int(ctx[lo])] = (nxt[lo:hi], counts[lo:hi])
            self._tables[j] = table

    # ---- probabilities ----------------------------------------------------------------------------
    def distribution(self, context: tuple[int, ...]) -> np.ndarray:
        """P(next | last `order` tokens of context), Witten-Bell interpolated."""
        V = self.config.vocab_size
        p = np.full(V, 1.0 / V)
        for j in range(self.config.order + 1):
            if j > len(context):
                break
            key = 0
            for t in context[len(context) - j:]:
                key = key * V + t
            hit = self._tables[j].get(key)
            if hit is None:
                break  # longer contexts containing this one are unseen too
            nxt, cnt = hit
            total, distinct = cnt.sum(), len(cnt)
            mixed = p * distinct
            mixed[nxt] += cnt
            p = mixed / (total + distinct)
        return p

    def loss(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        b = batch.numpy()
        nll, count = 0.0, 0
        for row in b:
            for i in range(1, len(row)):
                ctx = tuple(int(t) for t in row[max(0, i - self.config.order):i])
                nll -= math.log(self.distribution(ctx)[row[i]])
                count += 1
        return {"loss": torch.tensor(nll / max(count, 1))}

    def _sample(self, n, *, length, temperature, seed, top_k, top_p, primer):
        k = self.config.order

        def logits_for(contexts):
            return torch.from_numpy(np.log(np.stack([self.distribution(c) for c in contexts]) + 1e-30))

        def start(prefix):
            contexts = [tuple(int(t) for t in row[-k:]) if k else () for row in prefix]
            return contexts, logits_for(contexts)

        def step(tokens, contexts):
            contexts = [(c + (int(t),))[-k:] if k else () for c, t in zip(contexts, tokens)]
            return contexts, logits_for(contexts)

        return sample_token_sequences(representation=self.representation, start=start, step=step, n=n,
                                      length=length, temperature=temperature, seed=seed, top_k=top_k,
                                      top_p=top_p, primer=primer)
