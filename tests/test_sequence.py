import pytest

from musicgen.sequence import InvalidNoteError, Note, NoteSequence


def n(start, pitch, end=None, velocity=80):
    return Note(start=start, pitch=pitch, end=end if end is not None else start + 0.5, velocity=velocity)


@pytest.mark.parametrize("kwargs", [
    dict(start=0.0, end=1.0, pitch=128), dict(start=0.0, end=1.0, pitch=-1),
    dict(start=0.0, end=1.0, pitch=60, velocity=0), dict(start=0.0, end=1.0, pitch=60, velocity=128),
    dict(start=-0.1, end=1.0, pitch=60), dict(start=1.0, end=1.0, pitch=60),
    dict(start=float("nan"), end=1.0, pitch=60), dict(start=0.0, end=1.0, pitch=60.0),
])
def test_invalid_notes_are_rejected(kwargs):
    with pytest.raises(InvalidNoteError):
        Note(**kwargs)


def test_sequence_sorts_and_is_hashable():
    seq = NoteSequence(notes=(n(1.0, 62), n(0.0, 64), n(0.0, 60)))
    assert [x.pitch for x in seq.notes] == [60, 64, 62]
    assert hash(seq) == hash(NoteSequence(notes=(n(0.0, 60), n(0.0, 64), n(1.0, 62))))
    assert seq.duration == 1.5
    assert {seq: 1}[NoteSequence(notes=seq.notes)] == 1


def test_invalid_sequence_fields():
    with pytest.raises(InvalidNoteError):
        NoteSequence(qpm=0)
    with pytest.raises(InvalidNoteError):
        NoteSequence(program=200)


def test_transforms():
    seq = NoteSequence(notes=(n(0.0, 60), n(1.0, 67), n(2.0, 72)))
    assert seq.transpose(2).pitches == [62, 69, 74]
    with pytest.raises(InvalidNoteError):
        seq.transpose(60)
    sliced = seq.slice_time(0.9, 2.2)
    assert [(x.start, x.pitch) for x in sliced.notes] == [(pytest.approx(0.1), 67), (pytest.approx(1.1), 72)]
    assert sliced.notes[-1].end == pytest.approx(1.3)
    joined = seq.concat(seq.first_notes(1), gap=0.5)
    assert joined.notes[-1].start == pytest.approx(3.0)
    assert seq.with_meta(model="x").meta_dict() == {"model": "x"}
    assert len(NoteSequence()) == 0 and NoteSequence().duration == 0.0
