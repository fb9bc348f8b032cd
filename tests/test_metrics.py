import math

import numpy as np
import pytest

from musicgen import metrics as m
from musicgen.sequence import Note, NoteSequence


def melody(pitches, step=0.5, qpm=120.0, dur=None):
    dur = dur or step
    return NoteSequence(notes=tuple(Note(start=i * step, end=i * step + dur, pitch=p) for i, p in enumerate(pitches)),
                        qpm=qpm)


C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def test_c_major_scale():
    seq = melody(C_MAJOR)
    assert m.used_pitches(seq) == 8
    assert m.used_pitch_classes(seq) == 7
    assert m.pitch_range(seq) == 12
    assert m.scale_consistency(seq) == 1.0
    # six pitch classes once, C twice: 6 * (1/8 * 3 bits) + 2/8 * 2 bits
    assert m.pitch_class_entropy(seq) == pytest.approx(2.75)
    assert m.pitch_class_histogram(seq).sum() == pytest.approx(1.0)
    assert m.polyphony(seq) == 1.0
    assert m.silence_ratio(seq) == 0.0
    assert m.note_density(seq) == pytest.approx(8 / 4.0)
    assert m.repeated_2grams(seq) == 0.0


def test_repeated_note():
    seq = melody([67] * 10)
    assert m.pitch_class_entropy(seq) == 0.0
    assert m.used_pitches(seq) == 1 and m.pitch_range(seq) == 0
    assert m.repeated_2grams(seq) == 1.0 and m.repeated_3grams(seq) == 1.0
    assert m.scale_consistency(seq) == 1.0


def test_chromatic_and_minor_scales():
    assert m.pitch_class_entropy(melody(range(60, 72))) == pytest.approx(math.log2(12))
    assert m.scale_consistency(melody(range(60, 72))) == pytest.approx(7 / 12)
    a_harmonic_minor = [57, 59, 60, 62, 64, 65, 68, 69]  # G# is outside every major scale with the rest
    assert m.scale_consistency(melody(a_harmonic_minor)) == 1.0


def test_repeated_patterns():
    seq = melody([60, 62, 64, 60, 62, 64, 65])
    assert m.repeated_2grams(seq) == pytest.approx(4 / 6)  # (60,62) and (62,64) twice each
    assert m.repeated_3grams(seq) == pytest.approx(2 / 5)  # (60,62,64) twice
    assert m.repeated_3grams(melody([60, 62])) == 0.0


def test_polyphony_and_silence():
    chord = NoteSequence(notes=tuple(Note(start=0.0, end=1.0, pitch=p) for p in (60, 64, 67)))
    assert m.polyphony(chord) == pytest.approx(3.0)
    # one note 0-1 s, silence 1-2 s, a two-note chord 2-3 s
    seq = NoteSequence(notes=(Note(start=0.0, end=1.0, pitch=60), Note(start=2.0, end=3.0, pitch=62),
                              Note(start=2.0, end=3.0, pitch=65)))
    assert m.silence_ratio(seq) == pytest.approx(1 / 3)
    assert m.polyphony(seq) == pytest.approx(1.5)
    assert m.note_density(seq) == pytest.approx(1.0)
    late = NoteSequence(notes=(Note(start=1.0, end=2.0, pitch=60),))
    assert m.silence_ratio(late) == pytest.approx(0.5)  # the clip starts at 0


def test_rhythm_histograms_use_the_tempo():
    # 0.25 s apart at 120 qpm = half a beat; each note 0.5 s = one beat
    seq = melody([60, 62, 64, 65], step=0.25, dur=0.5, qpm=120.0)
    assert m.ioi_histogram(seq).tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert m.duration_histogram(seq).tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert m.RHYTHM_BIN_LABELS[2] == "1/2" and m.RHYTHM_BIN_LABELS[4] == "1"
    slow = melody([60, 62, 64, 65], step=0.25, dur=0.5, qpm=60.0)  # same seconds, quarter-beat onsets
    assert m.ioi_histogram(slow).argmax() == 1
    chords = NoteSequence(notes=tuple(Note(start=t, end=t + 0.5, pitch=p) for t in (0.0, 0.5) for p in (60, 64)))
    assert m.ioi_histogram(chords).sum() == 1.0 and m.onset_intervals_beats(chords).tolist() == [1.0]


def test_qualified_notes():
    # at 60 qpm a 32nd note lasts 1/8 s
    seq = NoteSequence(notes=(Note(start=0.0, end=0.1, pitch=60), Note(start=1.0, end=1.125, pitch=62),
                              Note(start=2.0, end=3.0, pitch=64), Note(start=3.0, end=3.05, pitch=65)), qpm=60.0)
    assert m.qualified_note_ratio(seq) == pytest.approx(0.5)


def test_empty_and_single_note_sequences_are_finite():
    for seq in (NoteSequence(), NoteSequence(notes=(Note(start=0.0, end=0.5, pitch=60),))):
        feats = m.piece_features(seq)
        assert set(feats) == set(m.FEATURES)
        for name, value in feats.items():
            assert np.all(np.isfinite(value)), name
    empty = m.piece_features(NoteSequence())
    assert all(np.all(np.asarray(v) == 0) for v in empty.values())


def test_feature_table_and_matrix_shapes():
    pieces = [melody(C_MAJOR), melody([60] * 5), NoteSequence()]
    table = m.feature_table(pieces)
    assert table["pitch_class_histogram"].shape == (3, 12)
    assert table["ioi_histogram"].shape == (3, len(m.RHYTHM_BIN_LABELS))
    assert table["polyphony"].shape == (3,)
    n_scalar = len(m.FEATURES) - len(m.VECTOR_FEATURES)
    assert m.feature_matrix(table).shape == (3, n_scalar + 12 + 2 * len(m.RHYTHM_BIN_LABELS))
