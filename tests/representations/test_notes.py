import numpy as np

from musicgen.representations import representation_from_card
from musicgen.representations.notes import NoteTokens
from musicgen.sequence import Note, NoteSequence

REP = NoteTokens()


def chorale_like(qpm=100.0):
    q = 60.0 / qpm  # seconds per quarter
    notes = []
    for beat, chord in enumerate([(48, 55, 64, 72), (50, 57, 65, 74), (52, 59, 67, 76)]):
        for p in chord:
            notes.append(Note(start=beat * q, end=(beat + 1) * q, pitch=p, velocity=80))
    notes.append(Note(start=3 * q, end=3.5 * q, pitch=60, velocity=80))  # an eighth
    notes.append(Note(start=3.5 * q, end=5.5 * q, pitch=62, velocity=80))  # a half
    return NoteSequence(notes=tuple(notes), qpm=qpm)


def test_round_trip_on_grid_is_exact():
    seq = chorale_like()
    back = REP.decode(REP.encode(seq), qpm=seq.qpm)
    assert [(round(x.start, 6), round(x.end, 6), x.pitch) for x in back.notes] == \
           [(round(x.start, 6), round(x.end, 6), x.pitch) for x in seq.notes]


def test_chord_is_notes_then_shift():
    tokens = REP.encode(chorale_like())
    words = [REP.describe(int(t)) for t in tokens]
    assert words[:5] == ["p48d4", "p55d4", "p64d4", "p72d4", "shift4"]


def test_off_grid_and_out_of_range_notes_are_quantised_and_folded():
    seq = NoteSequence(notes=(Note(start=0.013, end=0.31, pitch=10, velocity=50),), qpm=120)
    back = REP.decode(REP.encode(seq), qpm=120)
    assert back.notes[0].pitch == 22 and back.notes[0].start == 0.0


def test_long_gaps_become_several_shifts_and_transpose():
    seq = NoteSequence(notes=(Note(start=0, end=0.1, pitch=60), Note(start=20.0, end=20.1, pitch=60)), qpm=60)
    tokens = REP.encode(seq)
    assert sum(REP.token_shift[tokens]) == 80  # 20 s = 20 quarters = 80 sixteenths
    up = REP.transpose_tokens(tokens, 5)
    assert REP.decode(up, qpm=60).pitches == [65, 65]
    assert REP.transpose_tokens(REP.encode(NoteSequence(notes=(Note(start=0, end=1, pitch=108),))), 1) is None


def test_config_json_round_trip():
    rep = representation_from_card("notes", REP.to_json())
    assert rep.vocab_size == REP.vocab_size
    assert np.array_equal(rep.encode(chorale_like()), REP.encode(chorale_like()))
