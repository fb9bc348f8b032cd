"""Sampling helpers shared by every family: lengths, parameter checks, logit filtering, seeded draws.

Randomness only ever comes from a local `torch.Generator`: Streamlit serves many sessions from one
process, so touching global seeds would make one user's clip depend on another's clicks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

MAX_SECONDS = 600.0
MAX_NOTES = 5000
TEMPERATURE_RANGE = (0.05, 5.0)


class SamplingError(ValueError):
    """An out-of-range sampling parameter; the message says the allowed range."""


@dataclass(frozen=True)
class Length:
    """How much music to make: `value` seconds or `value` notes."""

    value: float
    unit: str = "seconds"

    def __post_init__(self) -> None:
        if self.unit not in ("seconds", "notes"):
            raise SamplingError(f"length unit must be 'seconds' or 'notes', not {self.unit!r}")
        limit = MAX_SECONDS if self.unit == "seconds" else MAX_NOTES
        if not (0 < self.value <= limit):
            raise SamplingError(f"length must be between 0 and {limit:g} {self.unit}, got {self.value:g}")

    @classmethod
    def parse(cls, text: "str | float | int | Length") -> "Length":
        """'30', '30s' → 30 seconds; '200n' or '200 notes' → 200 notes."""
        if isinstance(text, Length):
            return text
        if isinstance(text, (int, float)):
            return cls(float(text), "seconds")
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|sec|seconds|n|notes)?\s*", str(text))
        if not m:
            raise SamplingError(f"cannot read length {text!r}: use e.g. 30s (seconds) or 200n (notes)")
        unit = "notes" if (m.group(2) or "s").startswith("n") else "seconds"
        return cls(float(m.group(1)), unit)

    def __str__(self) -> str:
        return f"{self.value:g}{'s' if self.unit == 'seconds' else 'n'}"


def check_params(*, temperature: float, top_k: int | None, top_p: float | None, seed: int, n: int = 1) -> None:
    lo, hi = TEMPERATURE_RANGE
    if not (lo <= temperature <= hi):
        raise SamplingError(f"temperature must be between {lo} and {hi}, got {temperature}")
    if top_k is not None and top_k < 1:
        raise SamplingError(f"top-k must be at least 1 (or unset), got {top_k}")
    if top_p is not None and not (0.0 < top_p <= 1.0):
        raise SamplingError(f"top-p must be in (0, 1] (or unset), got {top_p}")
    if not (0 <= seed < 2**63):
        raise SamplingError(f"seed must be a non-negative integer below 2^63, got {seed}")
    if not (1 <= n <= 256):
        raise SamplingError(f"number of samples must be between 1 and 256, got {n}")


def make_generator(seed: int) -> torch.Generator:
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    return g


def filter_logits(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Logits ÷ T, then keep the top-k and/or the smallest set with probability ≥ top-p (rows)."""
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        # drop a token when the mass *before* it already reaches top_p (always keeps the best one)
        drop_sorted = (cum - torch.softmax(sorted_logits, dim=-1)) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One categorical draw per row of (already filtered) logits."""
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
