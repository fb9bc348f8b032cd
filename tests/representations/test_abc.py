"""ABC text ⇄ ids ⇄ notes (system C-abc)."""
import pytest

from musicgen.corpora.irish_abc import normalise_tune, split_tunes
from musicgen.representations import representation_from_card
from musicgen.representations.abc import (
    BOS,
    EOS,
    AbcParseError,
    AbcText,
    AbcVocabularyError,
    abc_to_sequence,
    sequence_to_abc,
)

REP = AbcText()
JIG = "M:6/8\nL:1/8\nK:D\nFAA dAA|B2c d2e|fed ^cBA|d3 d2 z|"
REEL = "M:C|\nL:1/8\nK:G\nGABc dBGB|c2ec BdAF|GABc dBGB|[1 cAFA G2 z2:|[2 cAFA G4||"


def _notes(seq):
    return [(n.pitch, round(n.start, 6), round(n.end, 6)) for n in seq.notes]


def test_text_ids_round_trip_and_fixed_vocabulary():
    ids = REP.encode_text(REEL)
    assert REP.decode_text(ids) == REEL
    assert REP.decode_text([BOS, *ids, EOS, *ids]) == REEL  # specials dropped, stops at the end of the tune
    assert REP.vocab_size == 3 + len(REP.config.chars) < 70
    again = representation_from_card("abc", REP.to_json())
    assert again.config == REP.config and again.vocab_size == REP.vocab_size
    with pytest.raises(AbcVocabularyError, match="outside"):
        REP.encode_text("K:C\nABC £")


def test_a_tune_parses_into_the_right_notes():
    seq = abc_to_sequence(JIG, qpm=120.0)
    assert seq.pitches[:6] == [66, 69, 69, 74, 69, 69]  # F# (key of D) A A d A A
    assert seq.notes[0].start == 0 and seq.notes[0].end == pytest.approx(0.25)  # an eighth at 120 qpm
    assert seq.pitches[13] == 73  # ^c
    assert seq.meta_dict()["abc"] == JIG


@pytest.mark.parametrize("text", ["", "qwe 123 ||", "M:4/4\nK:C\n(((("])
def test_text_that_is_not_a_tune_raises_a_clear_error(text):
    with pytest.raises(AbcParseError):
        abc_to_sequence(text)


@pytest.mark.parametrize("tune", [JIG, REEL, "M:3/4\nL:1/8\nK:Ador\nA2 B>c d2|e4 _B2|A,2 C2 E2|a6|"])
def test_notes_to_abc_to_notes_round_trip(tune):
    seq = abc_to_sequence(tune)
    text = sequence_to_abc(seq)
    assert REP.unknown_chars(text) == set()
    back = abc_to_sequence(text, qpm=seq.qpm)
    assert _notes(back) == _notes(seq)
    assert _notes(REP.decode([BOS, *REP.encode(seq.with_meta(abc=""))])) == _notes(seq)  # via the notes
    assert REP.encode(seq).tolist() == REP.encode_text(tune).tolist()  # a parsed tune encodes as its own text


def test_notes_crossing_bar_lines_are_tied_and_gaps_are_rests():
    from musicgen.sequence import Note, NoteSequence

    seq = NoteSequence(notes=(Note(start=0.0, end=1.5, pitch=60), Note(start=1.5, end=2.5, pitch=74),
                              Note(start=2.75, end=3.0, pitch=61), Note(start=2.75, end=3.0, pitch=50)), qpm=120.0)
    text = sequence_to_abc(seq)
    assert text.endswith("=C12 =d4- | =d4 z2 ^C2 |")  # a sixteenth is 0.125 s at 120 qpm; 16 to a bar
    assert _notes(abc_to_sequence(text)) == [(60, 0.0, 1.5), (74, 1.5, 2.5), (61, 2.75, 3.0)]  # highest of a chord


def test_normalise_keeps_what_the_model_needs():
    raw = ('X: 7\nT: The Tune\nM: 2/4\nL: 1/16\nB: "O\'Neill\'s 7"\nN: slow\nZ: someone\nK:Gm\n'
           '"4"vA2  (Bc)!trill!d | % comment\nuG4 z4 ||\n')
    assert normalise_tune(raw) == "M:2/4\nL:1/16\nK:Gm\nA2 (Bc)d |\nG4 z4 ||"
    assert [n for n, _ in split_tunes("X:1\nK:C\nC|\n\nX: 2\nK:D\nD|\n")] == ["1", "2"]
