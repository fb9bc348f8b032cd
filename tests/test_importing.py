"""musicgen.importing: MIDI, ABC (every tune) and MusicXML files → NoteSequences, one-line problems."""

from pathlib import Path

import pytest

from musicgen.corpora import toy_corpus
from musicgen.importing import SUPPORTED_SUFFIXES, ImportProblem, kind_of, read_first, read_pieces
from musicgen.midi import MidiImportError, save_midi, to_midi_bytes
from musicgen.representations.abc import split_tunes
from musicgen.sequence import NoteSequence
from tests.shared_corpora import SHARED_CORPORA, needs_shared

SHARED = SHARED_CORPORA
IRISH = SHARED / "introtodeeplearning" / "mitdeeplearning" / "data" / "irish.abc"

# Two tunes, one music21 cannot read, and a tune that reuses an earlier X: number.
TUNES = """%abc-2.1 a small tune book
X:1
T:Scale
M:4/4
L:1/8
K:D
DEFG ABcd|dcBA GFED|]

X:2
T:Broken
M:4/4
L:1/8
K:C
[[[[CDE

X:3
T:Jig
M:6/8
L:1/8
K:G
"G"GAB "D"AGF|G3 G3|]

X:1
T:Scale again, same number
M:2/4
L:1/8
K:C
CDEF|GABc|]
"""


def tiny_score(*, bpm: float | None = 90.0):
    """A music21 score of eight quavers (with a tempo mark unless `bpm` is None)."""
    from music21 import meter, note, stream, tempo

    part = stream.Part()
    if bpm is not None:
        part.append(tempo.MetronomeMark(number=bpm))
    part.append(meter.TimeSignature("4/4"))
    for name in "C4 D4 E4 F4 G4 A4 B4 C5".split():
        part.append(note.Note(name, quarterLength=0.5))
    score = stream.Score()
    score.append(part)
    return score


def write_score(score, path: Path) -> Path:
    # music21's .mxl writer writes (then deletes) <stem>.musicxml beside it: write each in its own folder
    path.parent.mkdir(parents=True, exist_ok=True)
    score.write("mxl" if path.suffix == ".mxl" else "musicxml", fp=str(path))
    assert path.exists()
    return path


def test_every_tune_of_an_abc_file_is_a_piece_and_a_broken_tune_is_a_one_line_problem(tmp_path):
    path = tmp_path / "book.abc"
    path.write_text(TUNES)
    entries = read_pieces(path, "book.abc")
    assert [label for label, _ in entries] == ["book.abc#X:1", "book.abc#X:2", "book.abc#X:3",
                                               "book.abc#X:1 (tune 4)"]
    ok = {label: r for label, r in entries if isinstance(r, NoteSequence)}
    assert set(ok) == {"book.abc#X:1", "book.abc#X:3", "book.abc#X:1 (tune 4)"}
    assert ok["book.abc#X:1"].pitches[:4] == [62, 64, 66, 67] and len(ok["book.abc#X:1"]) == 16  # D E F# G in D
    assert len(ok["book.abc#X:3"]) == 8 and ok["book.abc#X:3"].name == "book.abc#X:3"
    problem = entries[1][1]
    assert isinstance(problem, ImportProblem) and problem.source == "book.abc#X:2"
    assert "music21 could not read this tune" in problem.problem and "\n" not in str(problem)
    # the upload path: the first readable tune, and how many the file holds
    seq, count = read_first(path.read_bytes(), "book.abc")
    assert seq.name == "book.abc#X:1" and count == 4


def test_an_abc_file_without_x_lines_is_one_tune_and_text_without_a_tune_is_a_problem(tmp_path):
    single = tmp_path / "one.abc"
    single.write_text("T:No number\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n")
    [(label, seq)] = read_pieces(single)
    assert label == str(single) and len(seq) == 8
    [(_, problem)] = read_pieces(b"just some words\n", "words.abc")
    assert isinstance(problem, ImportProblem) and "no ABC tune" in problem.problem
    with pytest.raises(ImportProblem, match="none of its 2 tunes could be read"):
        read_first(b"X:1\nK:C\n[[[[CDE\nX:2\nK:C\n", "bad.abc")


def test_musicxml_and_mxl_files_are_read_at_their_tempo(tmp_path):
    xml = write_score(tiny_score(bpm=90), tmp_path / "a" / "tiny.musicxml")
    mxl = write_score(tiny_score(bpm=90), tmp_path / "b" / "tiny.mxl")
    plain = write_score(tiny_score(bpm=None), tmp_path / "c" / "plain.xml")
    for path in (xml, mxl):
        [(label, seq)] = read_pieces(path, path.name)
        assert label == path.name and isinstance(seq, NoteSequence)
        assert seq.pitches == [60, 62, 64, 65, 67, 69, 71, 72] and seq.qpm == 90.0
        assert seq.duration == pytest.approx(8 * 0.5 * 60 / 90)
    [(_, seq)] = read_pieces(plain)
    assert seq.qpm == 120.0 and len(seq) == 8  # no tempo mark: 120
    seq, count = read_first(mxl.read_bytes(), "upload.mxl")  # bytes (an upload) go through a temporary file
    assert count == 1 and len(seq) == 8 and seq.qpm == 90.0


def test_broken_musicxml_files_are_one_line_problems(tmp_path):
    mxl = write_score(tiny_score(), tmp_path / "a" / "tiny.mxl").read_bytes()
    cases = {"truncated.mxl": (mxl[: len(mxl) // 2], "truncated or corrupt"),
             "page.xml": (b"<html><body>not music</body></html>", "could not read this MusicXML"),
             "half.musicxml": (b"<?xml version='1.0'?><score-partwise><part-list>", "could not read this MusicXML"),
             "empty.mxl": (b"", "empty file")}
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        for source in (tmp_path / name, data):
            [(label, problem)] = read_pieces(source, name)
            assert isinstance(problem, ImportProblem), name
            assert words in problem.problem and "\n" not in str(problem), (name, problem)
            assert label == name


def test_midi_files_as_before_and_unknown_formats(tmp_path):
    piece = toy_corpus().pieces[0]
    good = save_midi(piece, tmp_path / "good.mid")
    [(label, seq)] = read_pieces(good, "good.mid")
    assert label == "good.mid" and len(seq) == len(piece)
    disguised = tmp_path / "song.bin"  # a MIDI file by its first bytes, whatever its suffix
    disguised.write_bytes(to_midi_bytes(piece))
    assert isinstance(read_pieces(disguised)[0][1], NoteSequence)
    (tmp_path / "bad.mid").write_bytes(b"hello")
    [(_, problem)] = read_pieces(tmp_path / "bad.mid")
    assert isinstance(problem, ImportProblem) and "not a MIDI file" in problem.problem and problem.reason == "not MIDI"
    with pytest.raises(MidiImportError):  # the upload keeps MIDI's own error (the page says "as MIDI")
        read_first(b"hello", "bad.mid")
    (tmp_path / "notes.txt").write_text("C D E F")
    [(_, problem)] = read_pieces(tmp_path / "notes.txt")
    assert problem.reason == "unsupported" and "not a supported music file (.txt" in problem.problem
    [(_, problem)] = read_pieces(tmp_path / "missing.abc")
    assert problem.reason == "unreadable" and "cannot read file" in problem.problem
    assert kind_of("x.MID") == "midi" and kind_of("x.xml") == "musicxml" and kind_of("x.wav") is None
    assert set(SUPPORTED_SUFFIXES) == {".mid", ".midi", ".abc", ".mxl", ".musicxml", ".xml"}


@needs_shared
def test_real_files_from_the_shared_corpora(tmp_path):
    tunes = split_tunes(IRISH.read_text())
    assert len(tunes) > 800
    # three tunes and one music21 fails on (an inline M: field in the body) of the MIT lab's tune book
    broken = [i for i, (number, text) in enumerate(tunes) if number == "138" and "Magnificent Seven" in text]
    book = tmp_path / "irish.abc"
    book.write_text("\n".join(text for _, text in tunes[:3] + [tunes[broken[0]]]))
    entries = read_pieces(book, "irish.abc")
    assert [isinstance(r, NoteSequence) for _, r in entries] == [True, True, True, False]
    assert all(len(r) > 50 for _, r in entries[:3])
    assert entries[3][0] == "irish.abc#X:138" and "\n" not in str(entries[3][1])
    midis = sorted((SHARED / "Classical-Piano-Composer").rglob("*.mid"))[:3]
    assert midis
    for path in midis:
        [(_, seq)] = read_pieces(path)
        assert isinstance(seq, NoteSequence) and len(seq) > 100
