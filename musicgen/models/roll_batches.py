"""Fixed-length piano-roll windows for the latent families (lstm-vae, tvae): the `make_batches` object.

Each piece is encoded once with the `pianoroll` representation (steps × 128, 16th notes). Training
draws windows of `window` steps at random beat-aligned offsets, transposed by up to ±6 semitones when
augmenting (a shift that would push a note off the keyboard is skipped, as in classifier_ascent);
validation/test cut every piece into non-overlapping windows in order. Batches are plain float
tensors (batch, window, 128); a model keeps only its own key range (`KeyRange`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from musicgen.representations.pianoroll import N_PITCHES

MAX_TRANSPOSE = 6
START_STRIDE = 4  # windows start on a beat (4 sixteenths)


@dataclass(frozen=True)
class KeyRange:
    """The keys a model reads and writes: MIDI pitches low .. low + keys - 1 (notes outside are dropped)."""

    low: int
    keys: int

    def __post_init__(self) -> None:
        if not (0 <= self.low and self.keys >= 1 and self.low + self.keys <= N_PITCHES):
            raise ValueError(f"key range {self.low}..{self.low + self.keys - 1} is not inside MIDI 0..127")

    def narrow(self, rolls: torch.Tensor) -> torch.Tensor:
        """(..., 128) → (..., keys)."""
        return rolls[..., self.low:self.low + self.keys]

    def widen(self, rolls: np.ndarray) -> np.ndarray:
        """(steps, keys) → (steps, 128) with silence outside the range (what `PianoRoll.decode` reads)."""
        out = np.zeros((rolls.shape[0], N_PITCHES), dtype=np.float32)
        out[:, self.low:self.low + self.keys] = rolls
        return out


class RollWindows:
    """Pieces → windows of `window` piano-roll steps; `epoch(generator)`, `sequential()` as the loop expects."""

    def __init__(self, rolls: list[np.ndarray], *, window: int, batch_size: int, augment: bool):
        rolls = [r for r in rolls if len(r) > 0]
        if not rolls:
            raise ValueError("no pieces with notes to make piano-roll windows from")
        self.rolls, self.window, self.batch_size, self.augment = rolls, window, batch_size, augment
        self.starts = [(i, s) for i, r in enumerate(rolls) for s in range(0, max(1, len(r) - window + 1), START_STRIDE)]

    @classmethod
    def from_pieces(cls, representation, pieces, *, window: int, batch_size: int, augment: bool) -> RollWindows:
        return cls([representation.encode(p) for p in pieces], window=window, batch_size=batch_size, augment=augment)

    def examples_per_epoch(self) -> int:
        return sum(max(1, len(r) // self.window) for r in self.rolls)

    def describe(self) -> str:
        aug = f", transposed by up to ±{MAX_TRANSPOSE} semitones" if self.augment else ""
        return (f"{len(self.rolls)} pieces; {self.examples_per_epoch()} random windows of {self.window} "
                f"16th-note steps per epoch{aug}")

    def window_at(self, piece: int, start: int, shift: int = 0) -> np.ndarray:
        out = np.zeros((self.window, N_PITCHES), dtype=np.float32)
        part = self.rolls[piece][start:start + self.window]
        out[:len(part)] = part
        if shift == 0:
            return out
        wraps = out[:, -shift:].any() if shift > 0 else out[:, :-shift].any()
        return out if wraps else np.roll(out, shift, axis=1)

    def epoch(self, generator: torch.Generator):
        n = self.examples_per_epoch()
        picks = torch.randint(len(self.starts), (n,), generator=generator).tolist()
        shifts = (torch.randint(-MAX_TRANSPOSE, MAX_TRANSPOSE + 1, (n,), generator=generator).tolist()
                  if self.augment else [0] * n)
        for i in range(0, n, self.batch_size):
            rows = [self.window_at(*self.starts[p], k) for p, k in zip(picks[i:i + self.batch_size],
                                                                      shifts[i:i + self.batch_size])]
            yield torch.from_numpy(np.stack(rows))

    def sequential(self):
        """Every piece cut into non-overlapping windows, in order (a short piece gives one padded window)."""
        picks = [(i, s) for i, r in enumerate(self.rolls) for s in range(0, max(1, len(r) - self.window + 1),
                                                                         self.window)]
        for i in range(0, len(picks), self.batch_size):
            yield torch.from_numpy(np.stack([self.window_at(p, s) for p, s in picks[i:i + self.batch_size]]))
