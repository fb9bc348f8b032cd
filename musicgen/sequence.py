"""The one note type of musicgen.

Units (as in pretty_midi / note-seq): times in seconds, pitch as MIDI number 0-127,
velocity 1-127. Both classes are frozen and hashable so they can key caches directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

PITCH_MIN, PITCH_MAX = 0, 127
VELOCITY_MIN, VELOCITY_MAX = 1, 127


class InvalidNoteError(ValueError):
    """A note or sequence violates the documented units."""


@dataclass(frozen=True, order=True, kw_only=True)
class Note:
    # Keyword-only; field order makes sorting by (start, pitch) natural.
    start: float
    pitch: int
    end: float
    velocity: int = 80

    def __post_init__(self) -> None:
        if not isinstance(self.pitch, int) or not PITCH_MIN <= self.pitch <= PITCH_MAX:
            raise InvalidNoteError(f"pitch {self.pitch!r} is outside MIDI range 0-127")
        if not isinstance(self.velocity, int) or not VELOCITY_MIN <= self.velocity <= VELOCITY_MAX:
            raise InvalidNoteError(f"velocity {self.velocity!r} is outside 1-127")
        if not (self.start >= 0.0):  # also rejects NaN
            raise InvalidNoteError(f"note start {self.start!r} must be >= 0 seconds")
        if not (self.end > self.start):
            raise InvalidNoteError(f"note end {self.end!r} must be after its start {self.start!r}")

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class NoteSequence:
    """An immutable, time-sorted list of notes for one instrument (General MIDI program)."""

    notes: tuple[Note, ...] = ()
    qpm: float = 120.0
    program: int = 0
    name: str = ""
    # Free-form provenance (e.g. source file, corpus id); kept as sorted key/value pairs to stay hashable.
    meta: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        notes = tuple(sorted(self.notes))
        object.__setattr__(self, "notes", notes)
        if not (self.qpm > 0):
            raise InvalidNoteError(f"qpm {self.qpm!r} must be positive")
        if not 0 <= self.program <= 127:
            raise InvalidNoteError(f"program {self.program!r} is outside 0-127")

    @classmethod
    def from_notes(cls, notes: Iterable[Note], **kwargs) -> "NoteSequence":
        return cls(notes=tuple(notes), **kwargs)

    def __len__(self) -> int:
        return len(self.notes)

    @property
    def duration(self) -> float:
        """End of the last sounding note, in seconds (0 for an empty sequence)."""
        return max((n.end for n in self.notes), default=0.0)

    @property
    def pitches(self) -> list[int]:
        return [n.pitch for n in self.notes]

    # ---- pure transforms -------------------------------------------------------------------
    def transpose(self, semitones: int, *, low: int = PITCH_MIN, high: int = PITCH_MAX) -> "NoteSequence":
        """Shift every pitch; raises InvalidNoteError if any note would leave [low, high]."""
        shifted = []
        for n in self.notes:
            p = n.pitch + semitones
            if not low <= p <= high:
                raise InvalidNoteError(f"transposing by {semitones} moves pitch {n.pitch} out of {low}-{high}")
            shifted.append(replace(n, pitch=p))
        return replace(self, notes=tuple(shifted))

    def shift_time(self, seconds: float) -> "NoteSequence":
        return replace(self, notes=tuple(replace(n, start=n.start + seconds, end=n.end + seconds) for n in self.notes))

    def slice_time(self, start: float, end: float) -> "NoteSequence":
        """Notes starting in [start, end), cut at `end` and moved so that `start` becomes 0."""
        kept = []
        for n in self.notes:
            if start <= n.start < end:
                kept.append(Note(start=n.start - start, pitch=n.pitch, end=min(n.end, end) - start, velocity=n.velocity))
        return replace(self, notes=tuple(kept))

    def first_notes(self, count: int) -> "NoteSequence":
        return replace(self, notes=self.notes[:count])

    def concat(self, other: "NoteSequence", gap: float = 0.0) -> "NoteSequence":
        """`other` appended after this sequence ends (plus `gap` seconds)."""
        offset = self.duration + gap
        return replace(self, notes=self.notes + other.shift_time(offset).notes)

    def with_meta(self, **items: str) -> "NoteSequence":
        merged = dict(self.meta)
        merged.update({k: str(v) for k, v in items.items()})
        return replace(self, meta=tuple(sorted(merged.items())))

    def meta_dict(self) -> dict[str, str]:
        return dict(self.meta)


def opening(seq: NoteSequence, seconds: float) -> NoteSequence:
    """The first `seconds` of a piece, starting at its first note (how every real clip and primer is cut)."""
    if len(seq) == 0:
        return seq
    first = seq.notes[0].start
    return seq.slice_time(first, first + seconds)
