import json

import pytest

from musicgen import corpora
from musicgen.corpora import CorpusError, load_corpus, toy_corpus
from musicgen.corpora.base import PACKED_DIR, SPLITS_DIR, make_split


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


def test_folder_corpus_of_midi_abc_and_musicxml_lists_what_it_skipped(tmp_path, monkeypatch):
    from musicgen.corpora import folder
    from musicgen.midi import save_midi
    from tests.test_importing import TUNES, tiny_score, write_score

    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "music"
    (root / "midi").mkdir(parents=True)
    for seq in toy_corpus().pieces[:3]:
        save_midi(seq, root / "midi" / f"{seq.name}.mid")
    (root / "midi" / "broken.mid").write_bytes(b"not midi")
    (root / "book.abc").write_text(TUNES)  # 4 tunes, X:2 broken
    mxl = write_score(tiny_score(), root / "scores" / "tiny.mxl")
    (root / "scores" / "cut.mxl").write_bytes(mxl.read_bytes()[:100])
    (root / "README.txt").write_text("not music, not a candidate")
    name = f"folder:{root}"

    corpus = load_corpus(name)
    assert sorted(corpus.ids()) == sorted(["book.abc#X:1", "book.abc#X:3", "book.abc#X:1 (tune 4)", "scores/tiny.mxl"]
                                          + [f"midi/{p.name}.mid" for p in toy_corpus().pieces[:3]])
    assert [f for f, _ in corpus.skipped] == ["book.abc#X:2", "midi/broken.mid", "scores/cut.mxl"]
    reasons = dict(corpus.skipped)
    assert "music21 could not read this tune" in reasons["book.abc#X:2"]
    assert "not a MIDI file" in reasons["midi/broken.mid"] and "truncated or corrupt" in reasons["scores/cut.mxl"]

    # a cached reload (a new process) parses nothing and still knows what it skipped
    corpora.forget_loaded()
    monkeypatch.setattr(folder, "read_folder", lambda _: pytest.fail("the cached corpus was parsed again"))
    again = load_corpus(name)
    assert again.skipped == corpus.skipped and again.pieces == corpus.pieces and again.split == corpus.split


def test_folder_corpus_with_nothing_readable_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "broken.abc").write_text("X:1\nK:C\n[[[[CDE\n")
    with pytest.raises(CorpusError, match=r"no usable pieces; 1 skipped, e.g. broken.abc#X:1: music21 could not"):
        load_corpus(f"folder:{tmp_path / 'music'}")


def test_bach_chorales_load_with_committed_split():
    corpus = load_corpus("bach-chorales")
    committed = json.loads((SPLITS_DIR / "bach-chorales.json").read_text())
    assert corpus.split == committed
    assert 350 <= len(corpus.pieces) <= 420
    assert len(corpus.subset("test")) == len(committed["test"]) > 30


def test_oneills_irish_tunes_load():
    corpus = load_corpus("oneills-1850")
    assert len(corpus.pieces) > 1000
    assert all(len(p) >= 8 for p in corpus.pieces[:50])


# ---- the committed parse (musicgen/corpora/packed/) ---------------------------------------------
def test_packed_corpora_load_without_parsing(tmp_path, monkeypatch):
    """A fresh machine (empty cache) gets the music21 corpora from the committed copy, with no parse."""
    from musicgen.corpora import music21_sources

    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(corpora, "_LOADED", {})
    for loader in ("load_bach_chorales", "load_oneills", "load_music21_composers"):
        monkeypatch.setattr(music21_sources, loader, lambda: pytest.fail("parsed although a packed copy exists"))
    manifest = json.loads((PACKED_DIR / "manifest.json").read_text())
    for name in ("bach-chorales", "oneills-1850", "music21-composers", "irish-abc"):
        assert len(load_corpus(name).pieces) == manifest[name]["pieces"], name
    assert not list((tmp_path / "cache").glob("*.npz"))


def _packed_piece(name: str, piece: str):
    return next(p for p in load_corpus(name).pieces if p.name == piece)


def test_packed_chorales_match_a_fresh_parse():
    from musicgen.corpora.music21_sources import chorale_files, read_chorale

    files = chorale_files()
    for fname in (files[0], files[len(files) // 2]):
        fresh = read_chorale(fname)
        assert _packed_piece("bach-chorales", fresh.name).notes == fresh.notes, fname


def test_packed_composers_and_oneills_match_a_fresh_parse():
    from musicgen.corpora.music21_sources import (composer_piece_files, load_abc_opus_files, oneills_files,
                                                  read_composer_piece)

    name, path = composer_piece_files("mozart", 16)[0]
    assert _packed_piece("music21-composers", name).notes == read_composer_piece(name, path).notes
    [first_file] = oneills_files()[:1]
    fresh = load_abc_opus_files([first_file], "oneills1850")[:3]
    assert fresh and all(_packed_piece("oneills-1850", p.name).notes == p.notes for p in fresh)


def test_packed_irish_tunes_match_a_fresh_parse():
    from musicgen.corpora.irish_abc import raw_tunes
    from musicgen.representations.abc import abc_to_sequence

    corpus = load_corpus("irish-abc")
    packed = {p.name: p for p in corpus.pieces}
    texts = [(name, text) for name, text in raw_tunes() if name in packed][:: len(packed) // 3][:3]
    for name, text in texts:
        assert packed[name].meta_dict()["abc"] == text
        assert abc_to_sequence(text, name=name).notes == packed[name].notes, name
