import json

import pytest

from musicgen.corpora import CorpusError, load_corpus, toy_corpus
from musicgen.corpora.base import SPLITS_DIR, make_split


def test_split_is_seeded_by_piece_and_disjoint():
    ids = [f"p{i}" for i in range(50)]
    a, b = make_split(ids), make_split(list(reversed(ids)))
    assert a == b
    parts = [set(a[k]) for k in ("train", "valid", "test")]
    assert sum(map(len, parts)) == 50 and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(a["train"]) == 40


def test_toy_corpus_is_deterministic():
    assert toy_corpus().pieces == toy_corpus().pieces


def test_unknown_corpus_and_missing_folder():
    with pytest.raises(CorpusError, match="unknown corpus"):
        load_corpus("nope")
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus("folder:/definitely/not/here")


def test_folder_corpus_of_midi_files(tmp_path, monkeypatch):
    from musicgen.midi import save_midi

    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    for seq in toy_corpus().pieces[:6]:
        save_midi(seq, tmp_path / "midi" / f"{seq.name}.mid") if (tmp_path / "midi").mkdir(exist_ok=True) is None else None
    (tmp_path / "midi" / "broken.mid").write_bytes(b"not midi")
    corpus = load_corpus(f"folder:{tmp_path / 'midi'}")
    assert len(corpus.pieces) == 6  # the broken file is skipped
    assert sorted(corpus.split["train"] + corpus.split["valid"] + corpus.split["test"]) == sorted(corpus.ids())


@pytest.mark.slow
def test_bach_chorales_load_with_committed_split():
    corpus = load_corpus("bach-chorales")
    committed = json.loads((SPLITS_DIR / "bach-chorales.json").read_text())
    assert corpus.split == committed
    assert 350 <= len(corpus.pieces) <= 420
    assert len(corpus.subset("test")) == len(committed["test"]) > 30


@pytest.mark.slow
def test_oneills_irish_tunes_load():
    corpus = load_corpus("oneills-1850")
    assert len(corpus.pieces) > 1000
    assert all(len(p) >= 8 for p in corpus.pieces[:50])
