"""Voice grid: four pitches per eighth note, highest first (A-gan and B-gan's 100-step sequences).

Study A's GAN turned each token id into one float and decoded it by rounding — neighbouring ids are
unrelated chords, and its decoder squeezed every pitch into one octave. Here a step is the four
pitches sounding at that eighth note (soprano, alto, tenor, bass order), so a generator's continuous
output rounds to a *neighbouring pitch*, which is a small error rather than a different chord.

Encoding: the pitches sounding at each grid point, highest first. More than four: the top two and
the bottom two are kept; fewer: voices double (a unison is one note when decoded); none sounding
(a rest): the previous step's pitches are held. Decoding: a run of equal pitches in a voice is one
held note; runs of one pitch in several voices merge, split where any voice strikes it anew.
Notes shorter than an eighth that start between grid points are lost, and a repeated note in one
voice decodes as one held note: both are limitations of the grid, said in the cards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from musicgen.sequence import Note, NoteSequence

VOICES = 4


@dataclass(frozen=True)
class VoiceGridConfig:
    steps_per_quarter: int = 2  # eighth notes
    qpm: float = 100.0
    velocity: int = 80


class VoiceGrid:
    name = "voices"
    vocab_size = 128  # values a voice can take (MIDI pitches)

    def __init__(self, config: VoiceGridConfig = VoiceGridConfig()):
        self.config = config

    def to_json(self) -> dict:
        return asdict(self.config)

    @classmethod
    def from_json(cls, d: dict) -> "VoiceGrid":
        return cls(VoiceGridConfig(**d))

    def step_seconds(self, qpm: float | None = None) -> float:
        return 60.0 / (qpm or self.config.qpm) / self.config.steps_per_quarter

    def encode(self, seq: NoteSequence) -> np.ndarray:
        """(steps, 4) int16 pitches, highest voice first."""
        step = self.step_seconds(seq.qpm)
        if not seq.notes:
            return np.zeros((0, VOICES), dtype=np.int16)
        total = int(round(max(n.end for n in seq.notes) / step))
        starts = np.array([n.start for n in seq.notes])
        ends = np.array([n.end for n in seq.notes])
        pitches = np.array([n.pitch for n in seq.notes])
        out = np.zeros((total, VOICES), dtype=np.int16)
        previous = None
        for t in range(total):
            x = t * step + 1e-6
            sounding = np.sort(np.unique(pitches[(starts <= x) & (ends > x)]))[::-1]
            if len(sounding) == 0:
                if previous is None:
                    continue  # leading silence: trimmed below
                row = previous
            else:
                row = _four(sounding)
            out[t] = previous = row
        first = next((t for t in range(total) if out[t].any()), total)
        return out[first:]

    def transpose(self, grid: np.ndarray, semitones: int, *, low: int = 0, high: int = 127) -> np.ndarray | None:
        moved = grid.astype(np.int16) + semitones
        return moved if moved.min() >= low and moved.max() <= high else None

    def decode(self, grid, *, qpm: float | None = None, program: int = 0, name: str = "") -> NoteSequence:
        """(steps, voices) pitches (floats are rounded, clipped to 0-127) → notes."""
        grid = np.clip(np.rint(np.asarray(grid, dtype=np.float64)), 0, 127).astype(np.int64)
        qpm = float(qpm or self.config.qpm)
        step = self.step_seconds(qpm)
        steps = grid.shape[0]
        occupied = np.zeros((steps + 1, 128), dtype=bool)
        onset = np.zeros((steps + 1, 128), dtype=bool)
        for v in range(grid.shape[1]):
            col = grid[:, v]
            occupied[np.arange(steps), col] = True
            new_run = np.ones(steps, dtype=bool)
            new_run[1:] = col[1:] != col[:-1]
            onset[np.flatnonzero(new_run), col[new_run]] = True
        notes = []
        for pitch in np.flatnonzero(occupied.any(axis=0)):
            t = 0
            while t < steps:
                if not occupied[t, pitch]:
                    t += 1
                    continue
                end = t + 1
                while end < steps and occupied[end, pitch] and not onset[end, pitch]:
                    end += 1
                notes.append(Note(start=round(t * step, 6), end=round(end * step, 6), pitch=int(pitch),
                                  velocity=self.config.velocity))
                t = end
        return NoteSequence(notes=tuple(notes), qpm=qpm, program=program, name=name)


def _four(sounding_desc: np.ndarray) -> np.ndarray:
    k = len(sounding_desc)
    if k >= VOICES:
        picks = [0, 1, k - 2, k - 1]
    else:
        picks = {1: [0, 0, 0, 0], 2: [0, 0, 1, 1], 3: [0, 1, 1, 2]}[k]
    return sounding_desc[picks].astype(np.int16)
