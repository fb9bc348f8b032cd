"""Fixed-length windows of per-piece arrays (time on axis 0), for families that read whole snippets
at once (the GANs): note-feature rows or a piano roll, cut into `window` steps.

Training windows start anywhere in a piece and are transposed by a random shift when augmenting
(`prepare` returns None when a shift leaves the range, and the window is used untransposed).
Validation and test windows are the non-overlapping windows of each piece in order, untransposed,
so they are the same on every call.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch

Prepare = Callable[[np.ndarray, int], "np.ndarray | None"]


class WindowBatches:
    def __init__(self, arrays: list[np.ndarray], *, window: int, batch_size: int, prepare: Prepare,
                 shifts: tuple[int, ...] = (0,)):
        self.arrays = [a for a in arrays if len(a) >= window]
        if not self.arrays:
            raise ValueError(f"no piece is at least {window} steps long")
        self.window, self.batch_size, self.prepare, self.shifts = window, batch_size, prepare, tuple(shifts)
        starts = np.array([len(a) - window + 1 for a in self.arrays], dtype=np.float64)
        self._piece_weights = torch.from_numpy(starts / starts.sum())

    def examples_per_epoch(self) -> int:
        return max(1, sum(len(a) for a in self.arrays) // self.window)

    def describe(self) -> str:
        return (f"{len(self.arrays)} pieces, {self.examples_per_epoch()} windows of {self.window} steps per epoch"
                f"{', transposed' if len(self.shifts) > 1 else ''}")

    def _window(self, piece: int, start: int, shift: int) -> np.ndarray:
        raw = self.arrays[piece][start:start + self.window]
        out = self.prepare(raw, shift)
        return out if out is not None else self.prepare(raw, 0)

    def _stack(self, windows: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(windows).astype(np.float32))

    def epoch(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Random windows (piece chosen in proportion to its length), as many as one pass holds."""
        n = self.examples_per_epoch()
        pieces = torch.multinomial(self._piece_weights, n, replacement=True, generator=generator).tolist()
        unit = torch.rand(n, generator=generator).tolist()
        shift_ix = torch.randint(0, len(self.shifts), (n,), generator=generator).tolist()
        for i in range(0, n, self.batch_size):
            batch = []
            for p, u, s in zip(pieces[i:i + self.batch_size], unit[i:i + self.batch_size],
                               shift_ix[i:i + self.batch_size]):
                start = int(u * (len(self.arrays[p]) - self.window + 1))
                batch.append(self._window(p, start, self.shifts[s]))
            yield self._stack(batch)

    def sequential(self) -> Iterator[torch.Tensor]:
        windows = [self._window(p, s, 0) for p, a in enumerate(self.arrays)
                   for s in range(0, len(a) - self.window + 1, self.window)]
        for i in range(0, len(windows), self.batch_size):
            yield self._stack(windows[i:i + self.batch_size])
