"""The ABC corpus of system C-abc: Irish and Scottish folk tunes as normalised ABC text.

Source: music21's own corpus files (anyone can install them): O'Neill's 1850 (`oneills1850`, ~1000
tunes) and Ryan's Mammoth Collection (`ryansMammoth`, ~1060). Each tune keeps only what the model
needs (M:, L:, K: and the body); titles, sources, notes, fingerings and chord names in quotes,
`!decorations!`, bowing marks and comments are dropped, runs of spaces become one, so the alphabet
stays small (`representations.abc.DEFAULT_CHARS`). Tunes that music21 cannot read, that have fewer
than 8 notes, or that keep a character outside the alphabet are left out (counted in `describe`).

The corpus' pieces are NoteSequences (for evaluation and primers) that carry their ABC text in meta
`abc` (for training). The split by tune is committed in `musicgen/corpora/splits/irish-abc.json`; the parsed
tunes (JSON text + npz notes) are committed in `musicgen/corpora/packed/` like the other music21
corpora (`base.py`), and a `refresh` parse is cached under the cache directory.
"""

from __future__ import annotations

import json
from pathlib import Path

from musicgen.corpora.base import PACKED_DIR, Corpus, CorpusError, cache_dir, read_pieces, save_pieces, split_for
# split_tunes / normalise_tune live with the ABC text code (musicgen.importing reads ABC files too)
from musicgen.representations.abc import AbcParseError, AbcText, abc_to_sequence, normalise_tune, split_tunes
from musicgen.sequence import NoteSequence

CORPUS_NAME = "irish-abc"
COLLECTIONS = {"oneills1850": "oneills1850", "ryansMammoth": "ryans"}  # music21 work → name prefix
CACHE_VERSION = 1
MIN_NOTES = 8


def raw_tunes() -> list[tuple[str, str]]:
    """[(piece name, normalised text)] for every tune of both collections, in file order."""
    from music21 import corpus  # slow import: only when the tunes are parsed

    out, seen = [], set()
    for work, prefix in COLLECTIONS.items():
        for path in sorted(corpus.getWork(work)):
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            for number, tune in split_tunes(text):
                name = f"{prefix}/{Path(path).stem}/{number}"
                while name in seen:
                    name += "'"
                seen.add(name)
                out.append((name, normalise_tune(tune)))
    return out


def _parse_all(representation) -> tuple[list[NoteSequence], dict]:
    pieces, dropped = [], {"alphabet": 0, "parse": 0, "short": 0}
    for name, text in raw_tunes():
        if representation.unknown_chars(text):
            dropped["alphabet"] += 1
            continue
        try:
            seq = abc_to_sequence(text, qpm=representation.config.qpm, name=name)
        except AbcParseError:
            dropped["parse"] += 1
            continue
        if len(seq) < MIN_NOTES:
            dropped["short"] += 1
            continue
        pieces.append(seq)
    return pieces, dropped


def _files(folder: Path) -> tuple[Path, Path]:
    """(notes .npz, texts .json) of the parsed tunes in a folder."""
    return folder / f"{CORPUS_NAME}.v{CACHE_VERSION}.npz", folder / f"{CORPUS_NAME}.v{CACHE_VERSION}.json"


def load_abc_corpus(name: str = CORPUS_NAME, *, refresh: bool = False) -> Corpus:
    """The Corpus of parsed tunes, each NoteSequence carrying its ABC text in meta `abc`."""
    if name != CORPUS_NAME:
        raise CorpusError(f"unknown ABC corpus {name!r}; use {CORPUS_NAME}")
    notes_path, text_path = _files(cache_dir())
    packed_notes, packed_text = _files(PACKED_DIR)
    if packed_notes.exists() and packed_text.exists() and not refresh:  # the committed parse (base.py)
        doc = json.loads(packed_text.read_text())
        pieces = read_pieces(packed_notes)
    elif notes_path.exists() and text_path.exists() and not refresh:
        doc = json.loads(text_path.read_text())
        pieces = read_pieces(notes_path)
    else:
        pieces, dropped = _parse_all(AbcText())
        if not pieces:
            raise CorpusError("no ABC tunes could be read from music21's corpus; install music21 (requirements.txt)")
        save_pieces(notes_path, pieces)
        doc = {"texts": {p.name: p.meta_dict()["abc"] for p in pieces}, "dropped": dropped}
        text_path.write_text(json.dumps(doc))
    pieces = [p.with_meta(abc=doc["texts"][p.name]) for p in pieces]
    split = split_for(name, [p.name for p in pieces])
    return Corpus(name=name, pieces=tuple(pieces), split=split)


def dropped_counts() -> dict:
    """How many tunes the loader left out and why (read from the cache; empty before the first load)."""
    for folder in (PACKED_DIR, cache_dir()):
        path = _files(folder)[1]
        if path.exists():
            return json.loads(path.read_text()).get("dropped", {})
    return {}
