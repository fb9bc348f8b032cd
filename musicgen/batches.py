"""Training batches from a corpus split, for token representations.

Pieces become one stream `BOS piece EOS BOS piece EOS ...`, the training part augmented by
transposing into every key that stays in range (as MidiNet did: the chorales are only ~300 pieces), or,
with `transpose_keys="corpus"`, into keys drawn from the corpus's own (musicgen/keys.py).
An epoch is the stream cut into non-overlapping windows at a random offset, shuffled, so each token
teaches once per pass and the loss covers all positions of every window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from musicgen.keys import corpus_key_shifts
from musicgen.representations.notes import BOS, EOS
from musicgen.sequence import NoteSequence

TRANSPOSE_RANGE = range(-6, 6)
TRANSPOSE_KEYS = ("all", "corpus")


def transpositions(pieces: list[NoteSequence], *, augment: bool, keys: str = "all") -> list[list[int]]:
    """Per piece, the shifts (semitones) its copies get: 0 alone without augmentation; every key in
    -6..5 (`keys="all"`); or as many copies in keys drawn from the pieces' own (`keys="corpus"`)."""
    if keys not in TRANSPOSE_KEYS:
        raise ValueError(f"transpose_keys must be one of {', '.join(TRANSPOSE_KEYS)}, not {keys!r}")
    if not augment:
        return [[0] for _ in pieces]
    if keys == "corpus":
        return corpus_key_shifts(pieces, copies=len(TRANSPOSE_RANGE))
    return [list(TRANSPOSE_RANGE) for _ in pieces]


def piece_tokens(representation, pieces: list[NoteSequence], *, augment: bool, keys: str = "all") -> list[np.ndarray]:
    out = []
    for seq, shifts in zip(pieces, transpositions(pieces, augment=augment, keys=keys)):
        base = representation.encode(seq)
        for k in shifts:
            t = representation.transpose_tokens(base, k)
            if t is not None:
                out.append(np.concatenate([[BOS], t, [EOS]]).astype(np.int64))
    return out


@dataclass
class TokenBatches:
    stream: np.ndarray  # int64
    window: int
    batch_size: int

    @classmethod
    def from_pieces(cls, representation, pieces, *, window: int, batch_size: int, augment: bool,
                    keys: str = "all") -> "TokenBatches":
        tokens = piece_tokens(representation, pieces, augment=augment, keys=keys)
        if not tokens:
            raise ValueError("no pieces to make batches from")
        return cls(np.concatenate(tokens), window, batch_size)

    def windows_per_epoch(self) -> int:
        return max(1, (len(self.stream) - 1) // self.window)

    examples_per_epoch = windows_per_epoch

    def describe(self) -> str:
        return f"{len(self.stream)} tokens in {self.windows_per_epoch()} windows of {self.window}"

    def epoch(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Shuffled (batch, window + 1) slices covering the stream once; targets are inputs shifted."""
        n = self.windows_per_epoch()
        spare = len(self.stream) - 1 - n * self.window
        offset = int(torch.randint(0, spare + 1, (1,), generator=generator)) if spare > 0 else 0
        starts = offset + self.window * torch.randperm(n, generator=generator).numpy()
        yield from self._batches(starts)

    def sequential(self) -> Iterator[torch.Tensor]:
        """Fixed windows in order (validation / test): the same numbers on every call."""
        yield from self._batches(np.arange(self.windows_per_epoch()) * self.window)

    def _batches(self, starts: np.ndarray) -> Iterator[torch.Tensor]:
        w = self.window + 1
        usable = [s for s in starts if s + w <= len(self.stream)]
        if not usable:  # stream shorter than one window: one short batch
            yield torch.from_numpy(self.stream[None, :].copy())
            return
        for i in range(0, len(usable), self.batch_size):
            chunk = usable[i:i + self.batch_size]
            yield torch.from_numpy(np.stack([self.stream[s:s + w] for s in chunk]))
