"""Corpora → NoteSequences → cached arrays, with a fixed, seeded train/valid/test split by piece.

Corpora anyone can install come from music21 (`bach-chorales`, `oneills-1850`); any folder of MIDI
or ABC files works too (`folder:/path`). Parsing is slow (about a minute for the chorales), so the
NoteSequences are cached as .npz under the cache directory (outside git, `MUSICGEN_CACHE`, default
`~/.cache/musicgen`). The split of the shipped corpora is committed in `musicgen/splits/` so every
machine trains and evaluates on the same pieces.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicgen.sequence import Note, NoteSequence

CACHE_VERSION = 2
SPLITS_DIR = Path(__file__).parent / "splits"
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SEED = 20261122
CHORALE_QPM = 100.0  # chorales carry no tempo marking; a typical hymn tempo
FOLK_QPM = 120.0


class CorpusError(RuntimeError):
    """A corpus cannot be loaded; the message says which and why."""


def cache_dir() -> Path:
    d = Path(os.environ.get("MUSICGEN_CACHE", Path.home() / ".cache" / "musicgen"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass(frozen=True)
class Corpus:
    name: str
    pieces: tuple[NoteSequence, ...]
    split: dict  # {"train": [ids], "valid": [...], "test": [...]}

    def ids(self) -> list[str]:
        return [p.name for p in self.pieces]

    def subset(self, part: str) -> list[NoteSequence]:
        wanted = set(self.split[part])
        return [p for p in self.pieces if p.name in wanted]

    def split_digest(self) -> str:
        return hashlib.sha256(json.dumps(self.split, sort_keys=True).encode()).hexdigest()[:16]


# ---- music21 → NoteSequence ------------------------------------------------------------------
def score_to_sequence(score, *, name: str, qpm: float) -> NoteSequence:
    """All parts of a music21 score as one sequence; ties merged; grace notes dropped."""
    sec_per_quarter = 60.0 / qpm
    notes = []
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


def _load_bach_chorales() -> list[NoteSequence]:
    from music21 import corpus

    out, seen = [], set()
    for fname in corpus.chorales.Iterator(returnType="filename"):
        if fname in seen:  # the iterator lists 21 chorales twice; a duplicate could straddle the split
            continue
        seen.add(fname)
        score = corpus.parse(fname)
        seq = score_to_sequence(score, name=str(fname).replace("bach/", ""), qpm=CHORALE_QPM)
        if len(seq) >= 8:
            out.append(seq)
    return out


def _load_abc_opus_files(paths, prefix: str) -> list[NoteSequence]:
    from music21 import converter

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
            if len(seq) >= 8:
                out.append(seq)
    return out


def _load_oneills() -> list[NoteSequence]:
    from music21 import corpus

    return _load_abc_opus_files(sorted(corpus.getWork("oneills1850")), "oneills1850")


def _load_folder(folder: Path) -> list[NoteSequence]:
    from musicgen.midi import MidiImportError, load_midi

    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist")
    out = []
    for path in sorted(folder.rglob("*")):
        suffix = path.suffix.lower()
        if suffix in (".mid", ".midi"):
            try:
                seq = load_midi(path)
            except MidiImportError:
                continue
            out.append(NoteSequence(notes=seq.notes, qpm=seq.qpm, program=seq.program,
                                    name=str(path.relative_to(folder))))
        elif suffix == ".abc":
            out.extend(_load_abc_opus_files([path], str(path.relative_to(folder))))
    return out


LOADERS = {"bach-chorales": _load_bach_chorales, "oneills-1850": _load_oneills}


# ---- cache --------------------------------------------------------------------------------------
def _save_pieces(path: Path, pieces: list[NoteSequence]) -> None:
    rows, offsets = [], [0]
    for p in pieces:
        rows.extend((n.start, n.end, n.pitch, n.velocity) for n in p.notes)
        offsets.append(len(rows))
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, notes=np.asarray(rows, dtype=np.float64).reshape(-1, 4),
                        offsets=np.asarray(offsets, dtype=np.int64),
                        names=np.asarray([p.name for p in pieces]),
                        qpm=np.asarray([p.qpm for p in pieces]),
                        program=np.asarray([p.program for p in pieces], dtype=np.int64))
    tmp.replace(path)  # atomic: a killed first run never leaves a half-written cache


def _read_pieces(path: Path) -> list[NoteSequence]:
    z = np.load(path, allow_pickle=False)
    notes, offsets = z["notes"], z["offsets"]
    out = []
    for i, name in enumerate(z["names"]):
        rows = notes[offsets[i]:offsets[i + 1]]
        out.append(NoteSequence(
            notes=tuple(Note(start=float(s), end=float(e), pitch=int(p), velocity=int(v)) for s, e, p, v in rows),
            qpm=float(z["qpm"][i]), program=int(z["program"][i]), name=str(name)))
    return out


def make_split(ids: list[str], *, seed: int = SPLIT_SEED) -> dict:
    """Seeded split by piece: the same ids always give the same split."""
    order = sorted(ids)
    rng = np.random.default_rng(seed)
    rng.shuffle(order)
    n_train = int(round(len(order) * SPLIT_FRACTIONS[0]))
    n_valid = int(round(len(order) * SPLIT_FRACTIONS[1]))
    return {"train": sorted(order[:n_train]), "valid": sorted(order[n_train:n_train + n_valid]),
            "test": sorted(order[n_train + n_valid:])}


def _split_for(name: str, ids: list[str]) -> dict:
    committed = SPLITS_DIR / f"{name}.json"
    if committed.exists():
        split = json.loads(committed.read_text())
        missing = set(split["train"] + split["valid"] + split["test"]) - set(ids)
        if missing:
            raise CorpusError(f"the committed split {committed.name} names {len(missing)} pieces this music21 "
                              f"install lacks (e.g. {sorted(missing)[0]}); install music21 from requirements.txt")
        return split
    return make_split(ids)


_LOADED: dict[tuple[str, str], Corpus] = {}


def load_corpus(name: str, *, refresh: bool = False) -> Corpus:
    """`bach-chorales`, `oneills-1850` or `folder:/some/path` → Corpus (cached on disk after the first
    call, and in memory for the process: the app asks for held-out pieces on every click)."""
    memo_key = (name, str(cache_dir()))
    if not refresh and memo_key in _LOADED:
        return _LOADED[memo_key]
    corpus = _load_corpus_uncached(name, refresh=refresh)
    _LOADED[memo_key] = corpus
    return corpus


def _load_corpus_uncached(name: str, *, refresh: bool) -> Corpus:
    if name == "irish-abc":  # tunes as ABC text and notes: its own loader (C-abc)
        from musicgen.data_abc import load_abc_corpus

        return load_abc_corpus(name, refresh=refresh)
    if name.startswith("folder:"):
        folder = Path(name[len("folder:"):]).expanduser().resolve()
        if not folder.is_dir():
            raise CorpusError(f"corpus folder {folder} does not exist")
        # Keyed on the files' names, sizes and times too, so an edited folder is parsed again.
        listing = sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi", ".abc"))
        key = hashlib.sha256(json.dumps([str(folder), listing]).encode()).hexdigest()[:12]
        loader = lambda: _load_folder(folder)  # noqa: E731
        cache_name = f"folder-{key}"
    elif name in LOADERS:
        loader, cache_name = LOADERS[name], name
    else:
        raise CorpusError(f"unknown corpus {name!r}; use one of {sorted([*LOADERS, 'irish-abc'])} or folder:/path")
    path = cache_dir() / f"{cache_name}.v{CACHE_VERSION}.npz"
    if path.exists() and not refresh:
        pieces = _read_pieces(path)
    else:
        pieces = loader()
        if not pieces:
            raise CorpusError(f"corpus {name!r} has no usable pieces")
        _save_pieces(path, pieces)
    split = _split_for(cache_name, [p.name for p in pieces])
    split_path = cache_dir() / f"{cache_name}.split.json"
    if not split_path.exists():
        split_path.write_text(json.dumps(split, indent=1))
    return Corpus(name=name, pieces=tuple(pieces), split=split)


def toy_corpus(n_pieces: int = 12, notes_per_piece: int = 48) -> Corpus:
    """A tiny deterministic corpus (scales and arpeggios in a few keys) for fast tests."""
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
    from music21 import corpus

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


def _load_music21_composers() -> list[NoteSequence]:
    from music21 import corpus

    out = []
    for composer, count in COMPOSER_PIECES.items():
        for name, path in composer_piece_files(composer, count):
            try:
                seq = score_to_sequence(corpus.parse(path), name=name, qpm=COMPOSER_QPM)
            except Exception:  # a score music21 cannot read: skip it, keep the rest
                continue
            if len(seq) >= 8:
                out.append(seq)
    return out


LOADERS["music21-composers"] = _load_music21_composers
