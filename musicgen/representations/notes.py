"""Note-or-chord tokens with rhythm (study A's next-note tokens, made to keep time).

Study A used one token per note or chord and played every token on a fixed eighth-note grid. A token
per *set* of pitches explodes the vocabulary (thousands of 4-voice chords, most seen once), so a chord
is written here as its notes, lowest first, each token carrying pitch and duration, followed by a
time-shift token that moves to the next onset:

    C4/quarter E4/quarter G4/quarter  shift/quarter  D4/eighth  shift/eighth ...

so a chord is still one "step" of the melody and rhythm survives. Times are quantised to a
sixteenth-note grid at the sequence's tempo.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from musicgen.sequence import Note, NoteSequence

PAD, BOS, EOS = 0, 1, 2
N_SPECIAL = 3


@dataclass(frozen=True)
class NoteTokensConfig:
    low: int = 21  # piano range by default; notes outside are folded by octaves
    high: int = 108
    # Note lengths a token can carry, in grid steps (sixteenths): 1/16 .. whole note.
    durations: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16)
    max_shift: int = 16  # longer gaps become several shift tokens
    steps_per_quarter: int = 4
    velocity: int = 80  # chorales carry no dynamics; one velocity for every decoded note
    qpm: float = 100.0  # tempo of sampled music when no primer sets one


class NoteTokens:
    name = "notes"

    def __init__(self, config: NoteTokensConfig = NoteTokensConfig()):
        self.config = config
        c = config
        self.n_pitches = c.high - c.low + 1
        self.n_durations = len(c.durations)
        self.note_offset = N_SPECIAL
        self.shift_offset = N_SPECIAL + self.n_pitches * self.n_durations
        self.vocab_size = self.shift_offset + c.max_shift
        # Per-token lookup tables, used by samplers to track time and note counts without decoding.
        kinds = np.zeros(self.vocab_size, dtype=np.int64)  # 0 special, 1 note, 2 shift
        shift = np.zeros(self.vocab_size, dtype=np.int64)
        kinds[self.note_offset:self.shift_offset] = 1
        kinds[self.shift_offset:] = 2
        shift[self.shift_offset:] = np.arange(1, c.max_shift + 1)
        pitch = np.full(self.vocab_size, -1, dtype=np.int64)
        pitch[self.note_offset:self.shift_offset] = c.low + np.arange(self.n_pitches * self.n_durations) // self.n_durations
        self.token_kind = kinds
        self.token_shift = shift
        self.token_pitch = pitch

    # ---- (de)serialisation for the checkpoint card --------------------------------------------
    def to_json(self) -> dict:
        d = asdict(self.config)
        d["durations"] = list(self.config.durations)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "NoteTokens":
        d = dict(d)
        if "durations" in d:
            d["durations"] = tuple(d["durations"])
        return cls(NoteTokensConfig(**d))

    def step_seconds(self, qpm: float) -> float:
        return 60.0 / qpm / self.config.steps_per_quarter

    def note_token(self, pitch: int, dur_index: int) -> int:
        return self.note_offset + (pitch - self.config.low) * self.n_durations + dur_index

    def describe(self, token: int) -> str:
        if token < N_SPECIAL:
            return ("PAD", "BOS", "EOS")[token]
        if token >= self.shift_offset:
            return f"shift{token - self.shift_offset + 1}"
        i = token - self.note_offset
        return f"p{self.config.low + i // self.n_durations}d{self.config.durations[i % self.n_durations]}"

    # ---- encode / decode ----------------------------------------------------------------------
    def _fold(self, pitch: int) -> int:
        c = self.config
        while pitch < c.low:
            pitch += 12
        while pitch > c.high:
            pitch -= 12
        return pitch

    def _duration_index(self, steps: float) -> int:
        return int(np.argmin([abs(d - steps) for d in self.config.durations]))

    def encode(self, seq: NoteSequence) -> np.ndarray:
        """Tokens without BOS/EOS (callers add them, so primers can continue seamlessly)."""
        step = self.step_seconds(seq.qpm)
        onsets: dict[int, dict[int, int]] = {}
        for n in seq.notes:
            at = int(round(n.start / step))
            pitch = self._fold(n.pitch)
            dur = self._duration_index(max(1.0, (n.end - n.start) / step))
            # One token per pitch per onset; a doubled note keeps its longer length.
            prev = onsets.setdefault(at, {}).get(pitch)
            onsets[at][pitch] = dur if prev is None else max(prev, dur)
        tokens: list[int] = []
        times = sorted(onsets)
        for i, at in enumerate(times):
            if i == 0 and at > 0:
                tokens += self._shifts(at)
            tokens += [self.note_token(p, d) for p, d in sorted(onsets[at].items())]
            if i + 1 < len(times):
                tokens += self._shifts(times[i + 1] - at)
        return np.asarray(tokens, dtype=np.int64)

    def _shifts(self, steps: int) -> list[int]:
        out = []
        while steps > 0:
            k = min(steps, self.config.max_shift)
            out.append(self.shift_offset + k - 1)
            steps -= k
        return out

    def decode(self, tokens, *, qpm: float = 120.0, program: int = 0, name: str = "") -> NoteSequence:
        c = self.config
        step = self.step_seconds(qpm)
        cursor = 0
        seen: dict[tuple[int, int], Note] = {}
        for t in (int(x) for x in tokens):
            if t == EOS:
                break
            if t < N_SPECIAL or t >= self.vocab_size:
                continue
            if t >= self.shift_offset:
                cursor += t - self.shift_offset + 1
                continue
            i = t - self.note_offset
            pitch = c.low + i // self.n_durations
            dur = c.durations[i % self.n_durations]
            # rounded so float noise never differs between runs or platforms
            seen[(cursor, pitch)] = Note(start=round(cursor * step, 6), end=round((cursor + dur) * step, 6), pitch=pitch,
                                         velocity=c.velocity)
        return NoteSequence(notes=tuple(seen.values()), qpm=qpm, program=program, name=name)

    def transpose_tokens(self, tokens: np.ndarray, semitones: int) -> np.ndarray | None:
        """Shift the pitch of every note token; None if any note would leave [low, high]."""
        if semitones == 0:
            return tokens
        is_note = self.token_kind[tokens] == 1
        rel = tokens[is_note] - self.note_offset
        pitch = rel // self.n_durations + semitones
        if pitch.size and (pitch.min() < 0 or pitch.max() >= self.n_pitches):
            return None
        out = tokens.copy()
        out[is_note] = self.note_offset + pitch * self.n_durations + rel % self.n_durations
        return out
