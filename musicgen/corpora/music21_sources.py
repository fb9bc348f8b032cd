"""Corpora anyone can install, read from music21's own corpus: Bach chorales, O'Neill's 1850 tunes and a
few composers' scores (for the composer classifier). Each loader returns NoteSequences; caching and the
split are `base.cached_corpus`'s job.
"""

from __future__ import annotations

from pathlib import Path

from musicgen.scores import score_to_sequence
from musicgen.sequence import NoteSequence

CHORALE_QPM = 100.0  # chorales carry no tempo marking; a typical hymn tempo
FOLK_QPM = 120.0
MIN_NOTES = 8


def chorale_files() -> list[str]:
    """music21's chorale files, each once (its iterator lists 21 twice; a duplicate could straddle the split)."""
    from music21 import corpus  # music21 takes seconds to import: only when a corpus is parsed

    return list(dict.fromkeys(str(f) for f in corpus.chorales.Iterator(returnType="filename")))


def read_chorale(fname: str) -> NoteSequence:
    from music21 import corpus  # slow import: only when a corpus is parsed

    return score_to_sequence(corpus.parse(fname), name=fname.replace("bach/", ""), qpm=CHORALE_QPM)


def load_bach_chorales() -> list[NoteSequence]:
    return [seq for seq in map(read_chorale, chorale_files()) if len(seq) >= MIN_NOTES]


def load_abc_opus_files(paths, prefix: str) -> list[NoteSequence]:
    """Every tune of some (multi-tune) ABC files; a file or tune music21 cannot read is skipped."""
    from music21 import converter  # slow import: only when ABC files are parsed

    out = []
    for path in paths:
        try:
            parsed = converter.parse(str(path), format="abc")
        except Exception:  # music21 raises many kinds on malformed tunes; skip the file, keep the rest
            continue
        scores = parsed.scores if hasattr(parsed, "scores") else [parsed]
        for i, score in enumerate(scores):
            number = getattr(score.metadata, "number", None) or i
            name = f"{prefix}/{Path(path).stem}/{number}"
            try:
                seq = score_to_sequence(score, name=name, qpm=FOLK_QPM)
            except Exception:
                continue
            if len(seq) >= MIN_NOTES:
                out.append(seq)
    return out


def oneills_files() -> list[str]:
    from music21 import corpus  # slow import: only when the corpus is parsed

    return sorted(str(p) for p in corpus.getWork("oneills1850"))


def load_oneills() -> list[NoteSequence]:
    return load_abc_opus_files(oneills_files(), "oneills1850")


# ---- music21 composers (for the composer classifier, D-classifier-ascent) ------------------------
# Piece names carry the composer as a prefix ("bach/bwv1.6") because the cache keeps names only.
# Pieces are taken evenly from each composer's sorted list (so Palestrina is not all Agnus Dei) and
# capped so the first parse takes about 3 minutes; whole-quartet files and .krn duplicates of .mxl
# movements are left out. Haydn (9 movements) is left out: the by-piece split gave it no test piece.
COMPOSER_PIECES = {"bach": 40, "palestrina": 40, "monteverdi": 40, "beethoven": 14, "mozart": 16}
COMPOSERS = tuple(COMPOSER_PIECES)
COMPOSER_QPM = 100.0  # one tempo for every score: the 16th-note grid follows the notation, not a recording
_COMPOSER_SKIP = {"beethoven/opus132", "beethoven/opus133", "beethoven/opus18no3", "beethoven/opus18no4",
                  "beethoven/opus18no5", "beethoven/opus74"}


def composer_piece_files(composer: str, count: int) -> list[tuple[str, str]]:
    """[(piece name, file path)] for one composer: score files only, evenly spaced, at most `count`."""
    from music21 import corpus  # slow import: only when the corpus is parsed

    by_name: dict[str, str] = {}
    for path in sorted(str(p) for p in corpus.getComposer(composer)):
        stem, _, ext = path.rpartition(".")
        if ext not in ("mxl", "xml", "musicxml", "krn"):
            continue
        name = stem.split("/corpus/")[-1]
        if name.split("/")[0] != composer:  # e.g. a file under another folder
            name = f"{composer}/{name.split('/')[-1]}"
        if name in _COMPOSER_SKIP or name in by_name:  # .krn sorts before .mxl: one per movement
            continue
        by_name[name] = path
    names = sorted(by_name)
    picked = names[::max(1, len(names) // count)][:count]
    return [(n, by_name[n]) for n in picked]


def read_composer_piece(name: str, path: str) -> NoteSequence | None:
    """One composer's score, or None when music21 cannot read it."""
    from music21 import corpus  # slow import: only when the corpus is parsed

    try:
        return score_to_sequence(corpus.parse(path), name=name, qpm=COMPOSER_QPM)
    except Exception:  # a score music21 cannot read: skip it, keep the rest
        return None


def load_music21_composers() -> list[NoteSequence]:
    out = []
    for composer, count in COMPOSER_PIECES.items():
        for name, path in composer_piece_files(composer, count):
            seq = read_composer_piece(name, path)
            if seq is not None and len(seq) >= MIN_NOTES:
                out.append(seq)
    return out
