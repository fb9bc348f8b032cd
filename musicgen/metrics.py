"""Per-piece features of a NoteSequence, as plain functions (numpy only).

Every function takes one `NoteSequence` and returns a float or a fixed-length numpy vector, and every
one is defined for an empty sequence (zeros, never NaN), so a model that emits silence is scored, not
crashed on. Times are turned into beats (quarter notes) with the piece's own `qpm`, so the rhythm
histograms compare pieces at different tempi. The set-level comparison lives in `evaluation.py`.

`FEATURES` lists them all, in the order `feature_vector` concatenates them; `docs/evaluation.md`
documents each one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from musicgen.sequence import NoteSequence

# Rhythm bins in beats (quarter notes): 32nd, 16th, 8th, dotted 8th, quarter, dotted quarter, half,
# dotted half, whole, longer. Edges sit between the note values so a value lands in its own bin.
RHYTHM_BIN_LABELS = ("1/8", "1/4", "1/2", "3/4", "1", "3/2", "2", "3", "4", ">4")
RHYTHM_BIN_EDGES = np.array([0.0, 0.1875, 0.375, 0.625, 0.875, 1.25, 1.75, 2.5, 3.5, 5.0, np.inf])
QUALIFIED_BEATS = 1 / 8  # a 32nd note is an eighth of a quarter
_ONSET_TOL = 1e-6  # seconds: onsets closer than this are one chord

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)
# Natural minor scales are the relative major's pitch classes, so major + harmonic minor covers
# "major or minor" without counting a set twice.
SCALES = np.array([[((pc - root) % 12) in pattern for pc in range(12)]
                   for pattern in (_MAJOR, _HARMONIC_MINOR) for root in range(12)], dtype=float)


def _pitches(seq: NoteSequence) -> np.ndarray:
    return np.fromiter((n.pitch for n in seq.notes), dtype=np.int64, count=len(seq.notes))


def _beats(seconds: np.ndarray | float, seq: NoteSequence):
    return np.asarray(seconds, dtype=float) * seq.qpm / 60.0


# ---- pitch -----------------------------------------------------------------------------------------
def used_pitches(seq: NoteSequence) -> float:
    """How many different MIDI pitches the piece uses."""
    return float(len(set(seq.pitches)))


def used_pitch_classes(seq: NoteSequence) -> float:
    """How many of the 12 pitch classes the piece uses (MuseGAN's UPC)."""
    return float(len({p % 12 for p in seq.pitches}))


def pitch_range(seq: NoteSequence) -> float:
    """Highest minus lowest pitch, in semitones (0 when empty)."""
    p = seq.pitches
    return float(max(p) - min(p)) if p else 0.0


def pitch_class_histogram(seq: NoteSequence) -> np.ndarray:
    """Share of notes on each pitch class C, C#, ..., B (sums to 1; zeros when empty)."""
    counts = np.bincount(_pitches(seq) % 12, minlength=12).astype(float)
    total = counts.sum()
    return counts / total if total else counts


def pitch_class_entropy(seq: NoteSequence) -> float:
    """Shannon entropy of the pitch-class histogram in bits: 0 for one pitch class, log2(12) for all equally."""
    h = pitch_class_histogram(seq)
    h = h[h > 0]
    return float(-(h * np.log2(h)).sum()) if h.size else 0.0


def scale_consistency(seq: NoteSequence) -> float:
    """Largest share of notes that fit one major or (harmonic/natural) minor scale (C-RNN-GAN's statistic)."""
    h = pitch_class_histogram(seq)
    return float((SCALES @ h).max()) if h.sum() else 0.0


def _repeated_ngram_share(seq: NoteSequence, n: int) -> float:
    p = seq.pitches  # notes in time order (chords lowest first)
    if len(p) < n:
        return 0.0
    grams = [tuple(p[i:i + n]) for i in range(len(p) - n + 1)]
    counts: dict[tuple, int] = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    return float(sum(c for c in counts.values() if c > 1) / len(grams))


def repeated_2grams(seq: NoteSequence) -> float:
    """Share of consecutive 2-note pitch patterns that occur more than once in the piece."""
    return _repeated_ngram_share(seq, 2)


def repeated_3grams(seq: NoteSequence) -> float:
    """Share of consecutive 3-note pitch patterns that occur more than once in the piece."""
    return _repeated_ngram_share(seq, 3)


# ---- time ------------------------------------------------------------------------------------------
def _sounding_profile(seq: NoteSequence) -> tuple[np.ndarray, np.ndarray]:
    """(segment lengths in seconds, notes sounding in each segment) over [0, end of last note]."""
    if not seq.notes:
        return np.zeros(0), np.zeros(0)
    starts = np.array([n.start for n in seq.notes])
    ends = np.array([n.end for n in seq.notes])
    times = np.concatenate([[0.0], starts, ends])
    deltas = np.concatenate([[0], np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((deltas, times))  # at equal times ends (-1) before starts (+1)
    times, count = times[order], np.cumsum(deltas[order])
    return np.diff(times), count[:-1]


def polyphony(seq: NoteSequence) -> float:
    """Mean number of notes sounding, over the time when at least one sounds (1 = monophonic)."""
    lengths, count = _sounding_profile(seq)
    busy = count > 0
    t = lengths[busy].sum()
    return float((lengths[busy] * count[busy]).sum() / t) if t > 0 else 0.0


def silence_ratio(seq: NoteSequence) -> float:
    """Share of the clip (from 0 to the end of the last note) in which no note sounds."""
    lengths, count = _sounding_profile(seq)
    total = lengths.sum()
    return float(lengths[count <= 0].sum() / total) if total > 0 else 0.0


def note_density(seq: NoteSequence) -> float:
    """Notes per second over the clip (from 0 to the end of the last note)."""
    return float(len(seq) / seq.duration) if seq.duration > 0 else 0.0


def _histogram(values_beats: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(values_beats, bins=RHYTHM_BIN_EDGES)
    counts = counts.astype(float)
    return counts / counts.sum() if counts.sum() else counts


def onset_intervals_beats(seq: NoteSequence) -> np.ndarray:
    """Time between successive distinct onsets (a chord is one onset), in beats."""
    onsets = np.unique(np.round(np.array([n.start for n in seq.notes]) / _ONSET_TOL) * _ONSET_TOL)
    return _beats(np.diff(onsets), seq)


def ioi_histogram(seq: NoteSequence) -> np.ndarray:
    """Share of inter-onset intervals in each of the RHYTHM_BIN_LABELS bins (beats)."""
    return _histogram(onset_intervals_beats(seq))


def duration_histogram(seq: NoteSequence) -> np.ndarray:
    """Share of note durations in each of the RHYTHM_BIN_LABELS bins (beats)."""
    return _histogram(_beats(np.array([n.duration for n in seq.notes]), seq))


def qualified_note_ratio(seq: NoteSequence) -> float:
    """Share of notes at least a 32nd note long at the piece's tempo (MuseGAN's QN); 0 when empty."""
    if not seq.notes:
        return 0.0
    d = _beats(np.array([n.duration for n in seq.notes]), seq)
    return float((d >= QUALIFIED_BEATS * (1 - 1e-6)).mean())


# ---- the table -------------------------------------------------------------------------------------
FEATURES: dict[str, Callable[[NoteSequence], float | np.ndarray]] = {
    "used_pitches": used_pitches,
    "used_pitch_classes": used_pitch_classes,
    "pitch_range": pitch_range,
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "polyphony": polyphony,
    "repeated_2grams": repeated_2grams,
    "repeated_3grams": repeated_3grams,
    "note_density": note_density,
    "silence_ratio": silence_ratio,
    "qualified_note_ratio": qualified_note_ratio,
    "pitch_class_histogram": pitch_class_histogram,
    "ioi_histogram": ioi_histogram,
    "duration_histogram": duration_histogram,
}
VECTOR_FEATURES = ("pitch_class_histogram", "ioi_histogram", "duration_histogram")


def piece_features(seq: NoteSequence) -> dict[str, float | np.ndarray]:
    """Every feature of one piece, by name."""
    return {name: fn(seq) for name, fn in FEATURES.items()}


def feature_table(pieces: list[NoteSequence]) -> dict[str, np.ndarray]:
    """Features of many pieces: name → array of shape (pieces,) or (pieces, bins)."""
    rows = [piece_features(p) for p in pieces]
    return {name: np.array([r[name] for r in rows], dtype=float) for name in FEATURES}


def feature_matrix(table: dict[str, np.ndarray]) -> np.ndarray:
    """One row per piece: scalar features then histogram bins, in FEATURES order."""
    cols = [table[name].reshape(len(table[name]), -1) for name in FEATURES]
    return np.concatenate(cols, axis=1)
