import numpy as np

from musicgen.representations import representation_from_card
from musicgen.representations.pianoroll import PianoRoll, PianoRollConfig
from musicgen.sequence import Note, NoteSequence

REP = PianoRoll()


def grid_piece(qpm=100.0):
    s = 60.0 / qpm / 4  # seconds per 16th
    notes = [Note(start=0, end=4 * s, pitch=60), Note(start=0, end=8 * s, pitch=64),
             Note(start=4 * s, end=6 * s, pitch=67), Note(start=9 * s, end=10 * s, pitch=72),
             Note(start=10 * s, end=16 * s, pitch=48)]
    return NoteSequence(notes=tuple(notes), qpm=qpm)


def triples(seq):
    return [(round(n.start, 6), round(n.end, 6), n.pitch) for n in seq.notes]


def test_round_trip_on_grid_is_exact():
    seq = grid_piece()
    roll = REP.encode(seq)
    assert roll.shape == (16, 128) and roll.dtype == np.uint8
    assert triples(REP.decode(roll, qpm=seq.qpm)) == triples(seq)


def test_repeated_notes_stay_separate_one_sixteenth_shorter():
    s = 60.0 / 120 / 4
    seq = NoteSequence(notes=(Note(start=0, end=4 * s, pitch=60), Note(start=4 * s, end=8 * s, pitch=60),
                              Note(start=8 * s, end=9 * s, pitch=60), Note(start=9 * s, end=10 * s, pitch=60)),
                       qpm=120)
    back = REP.decode(REP.encode(seq), qpm=120)
    # 4 + 4 steps split; the 1-step note cannot give a step, so it merges with the next one
    assert triples(back) == [(0, 3 * s, 60), (4 * s, 7 * s, 60), (8 * s, 10 * s, 60)]


def test_relaxed_roll_is_thresholded_and_fixed_length_encoding_cuts():
    roll = np.zeros((8, 128), dtype=np.float32)
    roll[0:3, 60] = [0.9, 0.6, 0.4]
    roll[5, 70] = 0.51
    back = REP.decode(roll, qpm=100)
    step = REP.step_seconds(100)
    assert [(n.pitch, round(n.start / step), round(n.end / step)) for n in back.notes] == [(60, 0, 2), (70, 5, 6)]
    assert REP.encode(grid_piece(), steps=6).shape == (6, 128)
    assert REP.encode(NoteSequence()).shape == (0, 128)


def test_config_round_trips_through_json():
    rep = PianoRoll(PianoRollConfig(qpm=90.0, threshold=0.4))
    again = representation_from_card("pianoroll", rep.to_json())
    assert again.config == rep.config and again.vocab_size == 128
