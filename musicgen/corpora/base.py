"""What every corpus source shares: the `Corpus` type, its error, the on-disk piece cache and the split.

Parsing is slow (about a minute for the chorales, ten for O'Neill's tunes), so the parsed pieces of the
music21 corpora are committed, compact, in `musicgen/corpora/packed/` (written by
`scripts/pack_corpora.py`; `tests/test_corpora.py` checks them against a fresh parse of a few pieces):
a fresh clone never parses them. Anything else parsed (a `folder:` corpus, a `refresh`) is cached as
.npz under the cache directory (outside git, `MUSICGEN_CACHE`, default `~/.cache/musicgen`). The split
of the shipped corpora is committed in `musicgen/corpora/splits/` so every machine trains and evaluates
on the same pieces.
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
PACKED_DIR = Path(__file__).parent / "packed"
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SEED = 20261122


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
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason) for source files that did not import

    def ids(self) -> list[str]:
        return [p.name for p in self.pieces]

    def subset(self, part: str) -> list[NoteSequence]:
        wanted = set(self.split[part])
        return [p for p in self.pieces if p.name in wanted]

    def piece(self, piece_id: str) -> NoteSequence:
        for p in self.pieces:
            if p.name == piece_id:
                return p
        raise CorpusError(f"corpus {self.name!r} has no piece {piece_id!r}")

    def heldout_piece(self, piece_id: str) -> NoteSequence:
        """A piece of the test split (the only pieces the app offers as real music or primers)."""
        if piece_id not in self.split["test"]:
            raise ValueError(f"{piece_id!r} is not a held-out (test) piece of {self.name}")
        return self.piece(piece_id)

    def split_digest(self) -> str:
        return hashlib.sha256(json.dumps(self.split, sort_keys=True).encode()).hexdigest()[:16]


def save_pieces(path: Path, pieces: list[NoteSequence]) -> None:
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


def read_pieces(path: Path) -> list[NoteSequence]:
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


def split_for(name: str, ids: list[str]) -> dict:
    """The committed split of a shipped corpus (checked against the pieces), else a seeded new one."""
    committed = SPLITS_DIR / f"{name}.json"
    if committed.exists():
        split = json.loads(committed.read_text())
        missing = set(split["train"] + split["valid"] + split["test"]) - set(ids)
        if missing:
            raise CorpusError(f"the committed split {committed.name} names {len(missing)} pieces this music21 "
                              f"install lacks (e.g. {sorted(missing)[0]}); install music21 from requirements.txt")
        return split
    return make_split(ids)


def packed_file(cache_name: str, suffix: str = "npz") -> Path:
    return PACKED_DIR / f"{cache_name}.v{CACHE_VERSION}.{suffix}"


def cached_corpus(name: str, cache_name: str, loader, *, refresh: bool = False) -> Corpus:
    """Pieces from the committed packed copy, else the user's .npz cache, else `loader()` once (then
    cached); `refresh` parses the sources again. With their split."""
    path = cache_dir() / f"{cache_name}.v{CACHE_VERSION}.npz"
    if not refresh and packed_file(cache_name).exists():
        pieces = read_pieces(packed_file(cache_name))
    elif not refresh and path.exists():
        pieces = read_pieces(path)
    else:
        pieces = loader()
        if not pieces:
            raise CorpusError(f"corpus {name!r} has no usable pieces")
        save_pieces(path, pieces)
    split = split_for(cache_name, [p.name for p in pieces])
    split_path = cache_dir() / f"{cache_name}.split.json"
    if not split_path.exists():
        split_path.write_text(json.dumps(split, indent=1))
    return Corpus(name=name, pieces=tuple(pieces), split=split)

