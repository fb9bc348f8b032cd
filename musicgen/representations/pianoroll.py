"""Piano roll: a (steps × 128) grid of 0/1 on a 16th-note grid at the sequence's tempo (study D).

A note covers the steps from its rounded start to its rounded end (at least one step). A note that
starts on the step where a note of the same pitch ends would merge with it on the grid, so the
earlier note gives up its last step (when it has more than one): repeated notes stay separate notes,
one 16th shorter. Decoding turns every run of "on" steps in a pitch row into one note; a relaxed roll
(values between 0 and 1, e.g. after gradient ascent) is cut at `threshold` first. Velocity is not
kept (the composer corpora carry none).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from musicgen.sequence import Note, NoteSequence

N_PITCHES = 128


@dataclass(frozen=True)
class PianoRollConfig:
    steps_per_quarter: int = 4  # 16th notes
    velocity: int = 80  # every decoded note
    qpm: float = 100.0  # tempo of decoded music when nothing else sets one
    threshold: float = 0.5  # a relaxed cell at or above this is a sounding note


class PianoRoll:
    name = "pianoroll"
    vocab_size = N_PITCHES  # pitch rows per step (the checkpoint card records it like a vocabulary size)

    def __init__(self, config: PianoRollConfig = PianoRollConfig()):
        self.config = config

    def to_json(self) -> dict:
        return asdict(self.config)

    @classmethod
    def from_json(cls, d: dict) -> "PianoRoll":
        return cls(PianoRollConfig(**d))

    def step_seconds(self, qpm: float) -> float:
        return 60.0 / qpm / self.config.steps_per_quarter

    def encode(self, seq: NoteSequence, *, steps: int | None = None) -> np.ndarray:
        """(steps, 128) uint8; `steps` defaults to the end of the last note (notes past it are cut)."""
        step = self.step_seconds(seq.qpm)
        spans = []
        for n in seq.notes:
            start = int(round(n.start / step))
            spans.append((start, max(start + 1, int(round(n.end / step))), n.pitch))
        total = steps if steps is not None else max((e for _, e, _ in spans), default=0)
        roll = np.zeros((total, N_PITCHES), dtype=np.uint8)
        onset = np.zeros_like(roll, dtype=bool)
        for start, end, pitch in spans:
            if start < total:
                roll[start:min(end, total), pitch] = 1
                onset[start, pitch] = True
        # A held cell right before another note's onset (not itself an onset) gives way to it.
        split = onset[1:] & (roll[:-1] == 1) & ~onset[:-1]
        roll[:-1][split] = 0
        return roll

    def decode(self, roll, *, qpm: float | None = None, program: int = 0, name: str = "",
               threshold: float | None = None) -> NoteSequence:
        """Runs of cells ≥ threshold in each pitch row → notes (a relaxed roll is thresholded first)."""
        qpm = float(qpm or self.config.qpm)
        on = np.asarray(roll, dtype=np.float32) >= (self.config.threshold if threshold is None else threshold)
        step = self.step_seconds(qpm)
        padded = np.zeros((on.shape[0] + 2, on.shape[1]), dtype=np.int8)
        padded[1:-1] = on
        change = np.diff(padded, axis=0)  # +1 where a run starts, -1 one past where it ends
        notes = []
        for pitch in np.flatnonzero(on.any(axis=0)):
            starts = np.flatnonzero(change[:, pitch] == 1)
            ends = np.flatnonzero(change[:, pitch] == -1)
            for s, e in zip(starts, ends):
                # rounded so float noise never differs between runs or platforms
                notes.append(Note(start=round(int(s) * step, 6), end=round(int(e) * step, 6), pitch=int(pitch),
                                  velocity=self.config.velocity))
        return NoteSequence(notes=tuple(notes), qpm=qpm, program=program, name=name)
