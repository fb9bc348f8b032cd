"""Sheet music: NoteSequence → MusicXML (music21) → SVG (Verovio), offline."""

import pytest

from musicgen.notation import NotationError, engrave_svg, to_musicxml
from musicgen.sequence import Note, NoteSequence

# A C-major chord and a bass note on beat 1, a held G over a moving bass, at 120 qpm (a quarter = 0.5 s).
NOTES = (
    Note(start=0.0, end=0.5, pitch=60), Note(start=0.0, end=0.5, pitch=64), Note(start=0.0, end=1.0, pitch=48),
    Note(start=0.5, end=1.5, pitch=67), Note(start=1.0, end=1.25, pitch=43), Note(start=1.25, end=1.5, pitch=45),
)
TUNE = "M:2/4\nL:1/8\nK:G\nGA Bc|d2 B2|AG FA|G4|"


def _reparse(musicxml: bytes):
    from music21 import converter  # slow import

    score = converter.parse(musicxml, format="musicxml")
    notes = list(score.stripTies().flatten().notes)
    return score, sorted(p.midi for n in notes for p in n.pitches)


def test_notes_become_musicxml_with_the_same_pitches_on_two_staves():
    musicxml = to_musicxml(NoteSequence(notes=NOTES, qpm=120.0))
    assert musicxml.lstrip().startswith(b"<?xml") and b"score-partwise" in musicxml
    score, pitches = _reparse(musicxml)
    assert pitches == sorted(n.pitch for n in NOTES)
    assert len(score.parts) == 2  # split at middle C: treble and bass
    assert {p.midi for p in score.parts[0].flatten().pitches} == {60, 64, 67}
    assert {p.midi for p in score.parts[1].flatten().pitches} == {43, 45, 48}
    # the held G stays one note of a half-note's length after ties are joined
    [g] = [n for n in score.parts[0].stripTies().flatten().notes if 67 in [p.midi for p in n.pitches]]
    assert g.duration.quarterLength == 2.0


def test_one_staff_when_the_clip_stays_above_middle_c_and_times_snap_to_sixteenths():
    seq = NoteSequence(notes=(Note(start=0.01, end=0.24, pitch=72), Note(start=0.26, end=0.49, pitch=74)), qpm=120.0)
    score, pitches = _reparse(to_musicxml(seq))
    assert pitches == [72, 74] and len(score.parts) == 1
    notes = list(score.flatten().notes)
    assert [float(n.offset) for n in notes] == [0.0, 0.5] and [n.quarterLength for n in notes] == [0.5, 0.5]


def test_engraving_gives_svg_pages_with_note_heads():
    pages = engrave_svg(to_musicxml(NoteSequence(notes=NOTES, qpm=120.0)), width=1200)
    assert len(pages) == 1
    assert pages[0].lstrip().startswith("<svg") and pages[0].count('class="notehead"') == len(NOTES)


def test_a_long_clip_is_cut_to_the_first_pages():
    notes = tuple(Note(start=i * 0.25, end=(i + 1) * 0.25, pitch=60 + i % 12) for i in range(1200))
    pages = engrave_svg(to_musicxml(NoteSequence(notes=notes, qpm=120.0)), max_pages=2)
    assert len(pages) == 2 and all("<svg" in p for p in pages)


def test_abc_text_in_meta_is_written_from_the_tune():
    # the notes are what C-abc read from the tune; the score is written from the ABC text (key, metre, spelling)
    from musicgen.representations.abc import abc_to_sequence

    seq = abc_to_sequence(TUNE, qpm=120.0)
    assert seq.meta_dict()["abc"] == TUNE
    musicxml = to_musicxml(seq)
    score, pitches = _reparse(musicxml)
    assert pitches == sorted(seq.pitches) and len(pitches) == 11
    assert b"<fifths>1</fifths>" in musicxml and b"<beats>2</beats>" in musicxml  # K:G, M:2/4
    assert engrave_svg(musicxml)[0].count('class="notehead"') == 11


def test_abc_text_is_cut_to_the_clip_and_ignored_when_it_holds_fewer_notes():
    from musicgen.representations.abc import abc_to_sequence

    seq = abc_to_sequence(TUNE, qpm=120.0)
    _, first_bars = _reparse(to_musicxml(seq.slice_time(0.0, 2.0)))  # two 2/4 bars at 120 qpm
    assert first_bars == sorted([67, 69, 71, 72, 74, 71])
    longer = seq.concat(NoteSequence(notes=(Note(start=0.0, end=0.5, pitch=50),), qpm=120.0))
    _, pitches = _reparse(to_musicxml(longer))  # more notes than the tune: written from the notes
    assert pitches == sorted(longer.pitches)


@pytest.mark.parametrize("seq, words", [
    (NoteSequence(), "no notes"),
    (NoteSequence(qpm=90.0).with_meta(abc="not a tune", abc_error="music21 could not read it"), "no notes"),
])
def test_an_empty_clip_is_a_clear_notation_error(seq, words):
    with pytest.raises(NotationError, match=words) as info:
        to_musicxml(seq)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_bad_musicxml_is_a_clear_notation_error():
    with pytest.raises(NotationError, match="Verovio could not read"):
        engrave_svg(b"<?xml version='1.0'?><nothing/>")
    with pytest.raises(NotationError, match="no MusicXML"):
        engrave_svg(b"  ")


def test_engraving_works_on_any_thread():
    # Verovio's default font path is per thread; Streamlit runs each rerun on a script thread of its own
    import threading

    musicxml = to_musicxml(NoteSequence(notes=NOTES, qpm=120.0))
    engrave_svg(musicxml)  # verovio imported (and its default path set) on this thread
    pages: list = []
    thread = threading.Thread(target=lambda: pages.extend(engrave_svg(musicxml)))
    thread.start()
    thread.join()
    assert len(pages) == 1 and pages[0].count('class="notehead"') == len(NOTES)
