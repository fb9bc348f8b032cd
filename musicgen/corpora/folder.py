"""`folder:/path`: any folder of MIDI or ABC files (nested folders too) as a corpus."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from musicgen.corpora.base import Corpus, CorpusError, cached_corpus
from musicgen.corpora.music21_sources import load_abc_opus_files
from musicgen.midi import MidiImportError, load_midi
from musicgen.sequence import NoteSequence

PREFIX = "folder:"
SUFFIXES = (".mid", ".midi", ".abc")


def read_folder(folder: Path) -> list[NoteSequence]:
    """Every readable piece under `folder`; files that do not import are skipped."""
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
            out.extend(load_abc_opus_files([path], str(path.relative_to(folder))))
    return out


def folder_cache_name(folder: Path) -> str:
    """Keyed on the files' names, sizes and times too, so an edited folder is parsed again."""
    listing = sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                     for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
    return "folder-" + hashlib.sha256(json.dumps([str(folder), listing]).encode()).hexdigest()[:12]


def folder_path(name: str) -> Path:
    return Path(name[len(PREFIX):]).expanduser().resolve()


def folder_corpus(name: str, *, refresh: bool = False) -> Corpus:
    folder = folder_path(name)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist")
    return cached_corpus(name, folder_cache_name(folder), lambda: read_folder(folder), refresh=refresh)
