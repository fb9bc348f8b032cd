"""A folder corpus with several held-out pieces (the toy corpus holds out one), for catch and continuation
tests: forty toy pieces written as MIDI files, read through `folder:`."""

from __future__ import annotations

from pathlib import Path

import pytest

from musicgen.corpora.toy import toy_corpus
from musicgen.midi import save_midi


@pytest.fixture
def pieces_corpus(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "pieces"
    folder.mkdir()
    for piece in toy_corpus(n_pieces=40, notes_per_piece=64).pieces:
        save_midi(piece, folder / f"{piece.name}.mid")
    return f"folder:{Path(folder)}"
