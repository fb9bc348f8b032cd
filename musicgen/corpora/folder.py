"""`folder:/path`: any folder of MIDI, ABC or MusicXML files (nested folders too) as a corpus.

Files are read by `musicgen.importing` (every tune of an ABC file is a piece, named `<file>#X:<n>`).
A file or tune that does not import is left out and listed, with its reason, in `Corpus.skipped`;
the list is cached beside the parsed pieces (`<cache name>.v<N>.skipped.json`), so a cached reload
still says what was left out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from musicgen.corpora.base import CACHE_VERSION, Corpus, CorpusError, cache_dir, cached_corpus
from musicgen.importing import SUPPORTED_SUFFIXES, ImportProblem, read_pieces
from musicgen.sequence import NoteSequence

PREFIX = "folder:"
SUFFIXES = SUPPORTED_SUFFIXES
FOLDER_FORMAT = 2  # in the cache key: 2 = read through musicgen.importing, with the skip list


def read_folder(folder: Path) -> tuple[list[NoteSequence], list[tuple[str, str]]]:
    """(every readable piece under `folder`, [(file or tune, why it was skipped)]), in path order."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist")
    pieces, skipped = [], []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        for label, result in read_pieces(path, str(path.relative_to(folder))):
            if isinstance(result, ImportProblem):
                skipped.append((label, result.problem))
            else:  # no meta: the cached pieces (notes, tempo, program, name) must equal a fresh parse
                pieces.append(NoteSequence(notes=result.notes, qpm=result.qpm, program=result.program, name=label))
    return pieces, skipped


def folder_cache_name(folder: Path) -> str:
    """Keyed on the files' names, sizes and times too, so an edited folder is parsed again."""
    listing = sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                     for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
    key = json.dumps([FOLDER_FORMAT, str(folder), listing])
    return "folder-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def skipped_file(cache_name: str) -> Path:
    """The cached skip list, beside the cached pieces."""
    return cache_dir() / f"{cache_name}.v{CACHE_VERSION}.skipped.json"


def _read_skipped(path: Path) -> tuple[tuple[str, str], ...] | None:
    try:
        return tuple((str(f), str(why)) for f, why in json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None  # missing or damaged: parse the folder again


def _write_skipped(path: Path, skipped: list[tuple[str, str]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(skipped, indent=0))
    tmp.replace(path)


def folder_path(name: str) -> Path:
    return Path(name[len(PREFIX):]).expanduser().resolve()


def folder_corpus(name: str, *, refresh: bool = False) -> Corpus:
    folder = folder_path(name)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist")
    cache_name = folder_cache_name(folder)
    skipped_path = skipped_file(cache_name)
    skipped = None if refresh else _read_skipped(skipped_path)

    def load() -> list[NoteSequence]:
        nonlocal skipped
        pieces, found = read_folder(folder)
        if not pieces:
            why = f"; {len(found)} skipped, e.g. {found[0][0]}: {found[0][1]}" if found else \
                f"; it has no {', '.join(SUFFIXES)} files"
            raise CorpusError(f"corpus {name!r} has no usable pieces{why}")
        _write_skipped(skipped_path, found)  # cached pieces without this list are parsed again
        skipped = tuple(found)
        return pieces

    corpus = cached_corpus(name, cache_name, load, refresh=refresh or skipped is None)
    return replace(corpus, skipped=skipped)
