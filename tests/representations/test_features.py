"""C-RNN-GAN's note features: encode/decode round trip on the sixteenth grid, snapping, clipping."""

import numpy as np

from musicgen.representations import NoteFeatures, representation_from_card
from musicgen.sequence import Note, NoteSequence


def _seq(*notes, qpm=100.0):
    return NoteSequence(notes=tuple(Note(start=s, end=e, pitch=p, velocity=v) for s, e, p, v in notes), qpm=qpm)


def test_round_trip_on_the_grid():
    beat = 0.6  # qpm 100
    seq = _seq((0.0, beat, 60, 80), (0.0, 2 * beat, 64, 80), (beat, 1.25 * beat, 67, 90), (2 * beat, 3 * beat, 72, 70))
    rep = NoteFeatures()
    rows = rep.encode(seq)
    assert rows.shape == (4, 4)
    assert rows[0, 0] == 0 and rows[1, 0] == 0  # a chord: no gap between its notes
    np.testing.assert_allclose(rows[2], [1.0, 0.25, 67, 90])
    again = rep.decode(rows, qpm=100.0)
    assert [(n.start, n.end, n.pitch, n.velocity) for n in again.notes] == \
        [(round(n.start, 6), round(n.end, 6), n.pitch, n.velocity) for n in seq.notes]


def test_decode_snaps_to_sixteenths_and_drops_repeated_pitch_in_a_chord():
    rep = NoteFeatures()
    rows = np.array([[0.3, 0.9, 60.2, 80.4], [0.05, 1.1, 59.8, 80], [0.27, -1.0, 200.0, 500.0]])
    out = rep.decode(rows, qpm=60.0)
    assert [n.pitch for n in out.notes] == [60, 127]  # 59.8 rounds to 60, struck already at that onset
    first, last = out.notes
    assert first.start == 0.0 and first.end == 1.0  # duration 0.9 → 1.0 quarter (one second at 60 qpm)
    assert last.start == 0.25 and last.end == 0.5  # gap 0.27 → 0.25; duration at least one sixteenth
    assert last.velocity == 127


def test_transpose_refuses_to_leave_the_midi_range():
    rep = representation_from_card("features", {})
    rows = rep.encode(_seq((0.0, 0.5, 120, 80)))
    assert rep.transpose(rows, 7)[0, 2] == 127
    assert rep.transpose(rows, 8) is None
