"""`toy`: a tiny deterministic corpus (scales and arpeggios in a few keys) for fast tests and toy presets."""

from __future__ import annotations

from musicgen.corpora.base import Corpus, make_split
from musicgen.sequence import Note, NoteSequence


def toy_corpus(n_pieces: int = 12, notes_per_piece: int = 48) -> Corpus:
    pieces = []
    patterns = [[0, 2, 4, 5, 7, 9, 11, 12], [0, 4, 7, 12, 7, 4], [0, 7, 4, 7]]
    for i in range(n_pieces):
        root = 55 + (i * 5) % 12
        pat = patterns[i % len(patterns)]
        step = 0.25
        notes = tuple(Note(start=k * step, end=(k + 1) * step, pitch=root + pat[k % len(pat)], velocity=80)
                      for k in range(notes_per_piece))
        pieces.append(NoteSequence(notes=notes, qpm=60.0, name=f"toy{i:02d}"))
    ids = [p.name for p in pieces]
    return Corpus(name="toy", pieces=tuple(pieces), split=make_split(ids))
