"""Corpora: one registry of named sources → `Corpus` (pieces + a fixed, seeded train/valid/test split).

`load_corpus(name)` is the only way in. Names: the registry below (`corpus_names()`), or `folder:/path`
for any folder of MIDI or ABC files. A corpus is parsed once per machine (cached on disk, see
`base.py`) and kept in memory for the process: the app asks for held-out pieces on every click.
"""

from __future__ import annotations

from typing import Callable

from musicgen.corpora import folder, irish_abc, music21_sources, toy
from musicgen.corpora.base import Corpus, CorpusError, cache_dir, cached_corpus

__all__ = ["Corpus", "CorpusError", "CORPORA", "corpus_names", "forget_loaded", "load_corpus", "toy_corpus"]

toy_corpus = toy.toy_corpus


def _music21(name: str, loader) -> Callable[..., Corpus]:
    return lambda refresh=False: cached_corpus(name, name, loader, refresh=refresh)


# name → (refresh=False) -> Corpus; explicit and in menu order. `folder:/path` is handled by `load_corpus`.
CORPORA: dict[str, Callable[..., Corpus]] = {
    "bach-chorales": _music21("bach-chorales", music21_sources.load_bach_chorales),
    "irish-abc": irish_abc.load_abc_corpus,  # tunes as ABC text and notes (C-abc): its own cache
    "oneills-1850": _music21("oneills-1850", music21_sources.load_oneills),
    "music21-composers": _music21("music21-composers", music21_sources.load_music21_composers),
    "toy": lambda refresh=False: toy.toy_corpus(),
}

_LOADED: dict[tuple[str, str], Corpus] = {}


def forget_loaded() -> None:
    """Drop the in-memory corpora (tests that swap a registry entry; the disk cache stays)."""
    _LOADED.clear()


def corpus_names() -> list[str]:
    return list(CORPORA)


def load_corpus(name: str, *, refresh: bool = False) -> Corpus:
    """A registered corpus or `folder:/some/path` → Corpus (parsed once, then cached on disk and in memory).

    `refresh=True` parses the sources again (after the music21 install or the folder changed)."""
    memo_key = (name, str(cache_dir()))
    if not refresh and memo_key in _LOADED:
        return _LOADED[memo_key]
    if name.startswith(folder.PREFIX):
        corpus = folder.folder_corpus(name, refresh=refresh)
    elif name in CORPORA:
        corpus = CORPORA[name](refresh=refresh)
    else:
        raise CorpusError(f"unknown corpus {name!r}; use one of {', '.join(CORPORA)} or folder:/path")
    _LOADED[memo_key] = corpus
    return corpus
