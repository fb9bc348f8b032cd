"""C-RNN-GAN's continuous note features: one row of 4 reals per note (study E).

Row = (time since the previous note's onset, duration, pitch, velocity), times in quarter notes so the
features do not depend on tempo. Notes are ordered by onset, then pitch (a chord is a run of rows
with time-since-onset 0). The paper feeds frequency; MIDI pitch is its logarithm and keeps octaves
equally spaced. Normalising to zero mean and unit spread is the model's job (constants in its
config), because the paper's public code skipped it and trained badly.

Decoding snaps onsets and durations to the sixteenth-note grid (the chorales' own grid; a generator
never hits exact multiples), rounds pitch and velocity, and drops a note that repeats a pitch
already struck at the same onset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from musicgen.sequence import Note, NoteSequence

FEATURES = ("time_since_onset", "duration", "pitch", "velocity")


@dataclass(frozen=True)
class NoteFeaturesConfig:
    qpm: float = 100.0
    grid_per_quarter: int = 4  # decoding snaps to sixteenths
    max_gap_quarters: float = 4.0  # a longer generated gap is clipped (it would be silence)
    max_duration_quarters: float = 8.0


class NoteFeatures:
    name = "features"
    vocab_size = len(FEATURES)  # values per row

    def __init__(self, config: NoteFeaturesConfig = NoteFeaturesConfig()):
        self.config = config

    def to_json(self) -> dict:
        return asdict(self.config)

    @classmethod
    def from_json(cls, d: dict) -> "NoteFeatures":
        return cls(NoteFeaturesConfig(**d))

    def encode(self, seq: NoteSequence) -> np.ndarray:
        """(notes, 4) float32 in quarter notes / MIDI units; the first row's gap is 0."""
        beat = 60.0 / seq.qpm
        rows, previous = [], None
        for n in seq.notes:  # already sorted by (start, pitch)
            gap = 0.0 if previous is None else (n.start - previous) / beat
            rows.append((gap, n.duration / beat, n.pitch, n.velocity))
            previous = n.start
        return np.asarray(rows, dtype=np.float32).reshape(-1, len(FEATURES))

    def transpose(self, rows: np.ndarray, semitones: int, *, low: int = 0, high: int = 127) -> np.ndarray | None:
        moved = rows.copy()
        moved[:, 2] += semitones
        return moved if moved[:, 2].min() >= low and moved[:, 2].max() <= high else None

    def decode(self, rows, *, qpm: float | None = None, program: int = 0, name: str = "") -> NoteSequence:
        c = self.config
        qpm = float(qpm or c.qpm)
        beat = 60.0 / qpm
        grid = 1.0 / c.grid_per_quarter
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))
        notes, onset, struck = [], 0.0, set()
        for i, (gap, duration, pitch, velocity) in enumerate(rows):
            gap = float(np.clip(np.round(gap / grid) * grid, 0.0, c.max_gap_quarters)) if i else 0.0
            if gap > 0:
                struck = set()
            onset += gap
            duration = float(np.clip(np.round(duration / grid) * grid, grid, c.max_duration_quarters))
            p = int(np.clip(np.rint(pitch), 0, 127))
            if p in struck:
                continue
            struck.add(p)
            notes.append(Note(start=round(onset * beat, 6), end=round((onset + duration) * beat, 6), pitch=p,
                              velocity=int(np.clip(np.rint(velocity), 1, 127))))
        return NoteSequence(notes=tuple(notes), qpm=qpm, program=program, name=name)
