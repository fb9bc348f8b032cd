"""music21 score → NoteSequence: the one conversion every music21-backed source shares.

Takes an already parsed score object, so this module never imports music21 itself (it is slow to import).
"""

from __future__ import annotations

from musicgen.sequence import Note, NoteSequence


def score_to_sequence(score, *, name: str, qpm: float, strip_ties_in_place: bool = False) -> NoteSequence:
    """All parts of a music21 score as one sequence; ties merged; grace notes dropped.

    `strip_ties_in_place` merges ties in the caller's score instead of a deep copy of it (the copy is
    most of the time for a short tune): for callers that parsed the score themselves and drop it after."""
    sec_per_quarter = 60.0 / qpm
    notes = []
    if strip_ties_in_place:
        score.stripTies(inPlace=True)
        flat = score.flatten()
    else:
        flat = score.stripTies().flatten()
    for el in flat.notes:
        ql = float(el.duration.quarterLength)
        if ql <= 0:
            continue
        start = float(el.offset) * sec_per_quarter
        for p in el.pitches:
            midi = int(p.midi)
            if 0 <= midi <= 127:
                notes.append(Note(start=start, end=start + ql * sec_per_quarter, pitch=midi, velocity=80))
    return NoteSequence(notes=tuple(notes), qpm=qpm, name=name)
