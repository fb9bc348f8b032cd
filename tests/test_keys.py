import dataclasses
from collections import Counter

import pytest

from musicgen.keys import Key, corpus_key_shifts, estimate_key, nearest_shift
from musicgen.sequence import Note, NoteSequence


def melody(pitches, name="m") -> NoteSequence:
    return NoteSequence(notes=tuple(Note(pitch=p, velocity=80, start=i * 0.5, end=i * 0.5 + 0.5)
                                    for i, p in enumerate(pitches)), qpm=120.0, name=name)


C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 67, 60, 64, 67]  # scale, then the tonic triad
A_MINOR = [57, 59, 60, 62, 64, 65, 68, 69, 64, 60, 57, 64, 57, 60, 64]  # harmonic minor, then the triad


def transposed(seq: NoteSequence, k: int) -> NoteSequence:
    return dataclasses.replace(seq, notes=tuple(dataclasses.replace(n, pitch=n.pitch + k) for n in seq.notes))


def test_the_key_of_a_scale_and_its_triad_and_of_its_transpositions():
    assert estimate_key(melody(C_MAJOR)) == Key(0, False)
    assert estimate_key(melody(A_MINOR)) == Key(9, True)
    for k in range(-6, 6):
        assert estimate_key(transposed(melody(C_MAJOR), k)) == Key(k % 12, False)
    assert str(Key(7, False)) == "G major" and str(Key(9, True)) == "A minor"


def test_no_key_without_two_pitch_classes():
    assert estimate_key(melody([])) is None
    assert estimate_key(melody([60, 72, 60])) is None


@pytest.mark.parametrize(("source", "target", "shift"), [(0, 7, -5), (7, 0, 5), (0, 6, -6), (11, 0, 1), (3, 3, 0)])
def test_nearest_shift_stays_within_a_tritone(source, target, shift):
    assert nearest_shift(source, target) == shift


def test_corpus_key_shifts_keep_each_mode_in_the_corpus_keys_and_follow_their_frequency():
    # A corpus of 6 pieces in G major, 2 in D major and 2 in A minor: every copy of a major piece lands
    # in G or D major (G about three times as often), every copy of a minor one in A minor.
    pieces = ([transposed(melody(C_MAJOR), 7)] * 6 + [transposed(melody(C_MAJOR), 2)] * 2
              + [melody(A_MINOR)] * 2)
    shifts = corpus_key_shifts(pieces, copies=12)
    assert [len(s) for s in shifts] == [12] * len(pieces)
    keys = Counter()
    for piece, piece_shifts in zip(pieces, shifts):
        for k in piece_shifts:
            key = estimate_key(transposed(piece, k))
            assert key.minor == estimate_key(piece).minor
            keys[str(key)] += 1
    assert set(keys) == {"G major", "D major", "A minor"}
    assert keys["G major"] > 2 * keys["D major"]
    assert corpus_key_shifts(pieces, copies=12) == shifts  # the same draw every time
    assert corpus_key_shifts(pieces, copies=12, seed=1) != shifts


def test_a_piece_without_a_key_keeps_only_itself():
    assert corpus_key_shifts([melody([60, 60]), melody(C_MAJOR)], copies=3) == [[0], [0, 0, 0]]
