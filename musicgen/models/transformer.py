"""Small decoder-only Transformer with learned relative positions (Music Transformer style).

Pre-LayerNorm blocks (causal self-attention + GELU feed-forward), a learned embedding per head for each
relative distance (Huang et al. 2018, "Music Transformer"; distances past `max_distance` share the last
one), computed with the paper's "skewing" trick so training needs no L×L×d tensor. The output head shares
the token embedding's weights (fewer parameters for ~300 chorales).

Each position attends to at most `context` tokens (itself included): a sliding window. Training windows are
no longer than that, so there the band changes nothing; it lets the model read sequences longer than it was
trained on (held-out NLL uses 512-token windows) and makes key-value-cached sampling *exact*: the cache keeps
the last `context` keys/values per layer, which are precisely what a full forward pass over the whole
sequence would use, so sampling does one token of work per new token at any length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from musicgen.models.base import MusicModel
from musicgen.models.token_sampling import sample_token_sequences
from musicgen.representations.notes import PAD


@dataclass(frozen=True, kw_only=True)
class TransformerConfig:
    vocab_size: int
    d_model: int = 128
    heads: int = 4
    layers: int = 4
    ff: int = 512
    dropout: float = 0.1  # on embeddings, attention outputs and feed-forward outputs
    attn_dropout: float = 0.0  # on attention weights: costs ~25 % of a CPU step (an L×L mask per head)
    context: int = 256  # tokens each position attends to, itself included (= KV cache length)
    max_distance: int = 256  # relative distances ≥ max_distance - 1 share one learned embedding
    warmup_steps: int = 200  # linear learning-rate warm-up (on top of the loop's cosine decay)

    def __post_init__(self) -> None:
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by heads {self.heads}")


def skew(qer: torch.Tensor) -> torch.Tensor:
    """(…, L, L) logits against distances L-1..0 (column r = distance L-1-r) → (…, L, L) with entry [i, j]
    the logit for distance i-j (valid for j ≤ i; the rest is masked). Pad, reshape, drop a row: no gather."""
    *lead, L, _ = qer.shape
    padded = F.pad(qer, (1, 0))
    return padded.reshape(*lead, L + 1, L)[..., 1:, :]


class RelativeSelfAttention(nn.Module):
    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.heads, self.dh, self.context, self.max_distance = c.heads, c.d_model // c.heads, c.context, c.max_distance
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.rel = nn.Parameter(torch.randn(c.heads, c.max_distance, self.dh) * 0.02)  # [head, distance]
        self.drop = nn.Dropout(c.attn_dropout)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, L, _ = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
        return q, k, v  # each (B, H, L, dh)

    def _rel(self, n: int) -> torch.Tensor:
        """Embeddings for distances n-1, ..., 0 (clipped): (H, n, dh)."""
        dist = torch.arange(n - 1, -1, -1, device=self.rel.device).clamp(max=self.max_distance - 1)
        return self.rel[:, dist]

    def _merge(self, att: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        y = att @ v  # (B, H, L, dh)
        return self.proj(y.transpose(1, 2).reshape(y.shape[0], y.shape[2], -1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        q, k, v = self._heads(x)
        qs = q / math.sqrt(self.dh)  # scale the (L × dh) queries, not the (L × L) scores
        scores = qs @ k.transpose(-1, -2) + skew(qs @ self._rel(x.shape[1]).transpose(-1, -2))
        out = self._merge(self.drop(scores.masked_fill(mask, float("-inf")).softmax(-1)), v)
        with torch.no_grad():  # the sampler's cache also carries the distance table, gathered once
            table = self._rel(self.context)
        return out, (k[:, :, -self.context:], v[:, :, -self.context:], table)

    def step(self, x: torch.Tensor, cache):
        """One new position (x: B×1×d) against the cache (keys, values of the last `context - 1` positions,
        relative embeddings for distances context-1..0)."""
        q, k, v = self._heads(x)
        k = torch.cat([cache[0], k], dim=2)[:, :, -self.context:]
        v = torch.cat([cache[1], v], dim=2)[:, :, -self.context:]
        rel = cache[2][:, -k.shape[2]:]  # distances T-1..0 are the table's last T rows
        scores = (q @ k.transpose(-1, -2) + q @ rel.transpose(-1, -2)) / math.sqrt(self.dh)
        return self._merge(scores.softmax(-1), v), (k, v, cache[2])


class Block(nn.Module):
    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.attn = RelativeSelfAttention(c)
        self.ff = nn.Sequential(nn.Linear(c.d_model, c.ff), nn.GELU(), nn.Linear(c.ff, c.d_model), nn.Dropout(c.dropout))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, mask):
        a, cache = self.attn(self.ln1(x), mask)
        x = x + self.drop(a)
        return x + self.ff(self.ln2(x)), cache

    def step(self, x, cache):
        a, cache = self.attn.step(self.ln1(x), cache)
        x = x + a
        return x + self.ff(self.ln2(x)), cache


def band_mask(n: int, context: int, device=None) -> torch.Tensor:
    """True where attention is forbidden: the future, and the past beyond `context` tokens."""
    i = torch.arange(n, device=device)
    d = i[:, None] - i[None, :]
    return (d < 0) | (d >= context)


class RelativeTransformer(MusicModel):
    family = "transformer"
    Config = TransformerConfig
    temperature_meaning = "logits ÷ T before each next-token draw (1 = as trained)"
    toy_config: ClassVar[dict] = {"d_model": 32, "heads": 2, "layers": 2, "ff": 64, "dropout": 0.0, "context": 32,
                                  "max_distance": 24, "warmup_steps": 5}
    toy_train: ClassVar[dict] = {"lr": 3e-3}

    def __init__(self, *, config: TransformerConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: residual projections shrink with depth
            if name.endswith(("attn.proj.weight", "ff.2.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * c.layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln_f(x) @ self.embed.weight.T  # tied output head

    def forward(self, tokens: torch.Tensor):
        """(B, L) tokens → (B, L, vocab) logits and the per-layer KV cache of the last `context` positions."""
        mask = band_mask(tokens.shape[1], self.config.context, tokens.device)
        x = self.drop(self.embed(tokens))
        caches = []
        for block in self.blocks:
            x, cache = block(x, mask)
            caches.append(cache)
        return self._logits(x), caches

    def step(self, tokens: torch.Tensor, caches: list):
        """(B,) new tokens → (B, vocab) logits and the updated caches: one token of work."""
        x = self.embed(tokens[:, None])
        new = []
        for block, cache in zip(self.blocks, caches):
            x, cache = block.step(x, cache)
            new.append(cache)
        return self._logits(x)[:, -1], new

    def loss(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, _ = self(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), ignore_index=PAD)
        return {"loss": loss}

    # ---- training hooks ---------------------------------------------------------------------------
    def make_optimizers(self, *, lr: float, weight_decay: float = 0.0) -> dict[str, torch.optim.Optimizer]:
        # Weight decay on matrices only: not on biases, LayerNorms or the (tied) embedding.
        decay = [p for n, p in self.named_parameters() if p.dim() >= 2 and not n.startswith("embed")]
        rest = [p for n, p in self.named_parameters() if not (p.dim() >= 2 and not n.startswith("embed"))]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
        return {"model": torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98))}

    def train_step(self, batch, optimizers: dict, *, grad_clip: float | None = 1.0) -> dict[str, float]:
        # Linear warm-up on top of whatever the loop's scheduler set. The count lives in the optimizer's
        # param groups, so it is saved and resumed with the optimizer, and the model holds no state.
        opt = optimizers["model"]
        scheduled = [g["lr"] for g in opt.param_groups]
        for g in opt.param_groups:
            g["steps_done"] = g.get("steps_done", 0) + 1
            g["lr"] = g["lr"] * min(1.0, g["steps_done"] / max(1, self.config.warmup_steps))
        try:
            return super().train_step(batch, optimizers, grad_clip=grad_clip)
        finally:
            for g, lr in zip(opt.param_groups, scheduled):
                g["lr"] = lr

    # ---- sampling ---------------------------------------------------------------------------------
    def _sample(self, n, *, length, temperature, seed, top_k, top_p, primer):
        was_training = self.training
        self.eval()
        # One-token steps are too small to split across threads: the `sample` runtime profile runs them
        # on one (musicgen/runtime.py; measured 38 s instead of 0.25 s for a 30 s clip with 2 busy threads).
        try:
            def start(prefix):
                logits, caches = self(prefix)
                return caches, logits[:, -1]

            def step(tokens, caches):
                logits, caches = self.step(tokens, caches)
                return caches, logits

            return sample_token_sequences(representation=self.representation, start=start, step=step, n=n,
                                          length=length, temperature=temperature, seed=seed, top_k=top_k,
                                          top_p=top_p, primer=primer)
        finally:
            self.train(was_training)
