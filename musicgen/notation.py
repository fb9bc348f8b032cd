"""Sheet music for a clip: NoteSequence → MusicXML (music21) → engraved SVG pages (Verovio).

Pure functions of their arguments (a hashable NoteSequence, bytes), so callers can cache them. Notes are
quantised to a grid (sixteenths at the sequence's qpm by default), notes sounding together become chords,
and the clip is written on one staff or, when it spans middle C, on a treble + bass pair split there. A clip
that carries its ABC text (meta `abc`, the C-abc model) is written from that text instead, so the score
keeps the tune's own metre, key and spelling. Every failure is a `NotationError` with a one-line message.

music21 takes seconds to import, so it is imported inside the functions that need it.
"""

from __future__ import annotations

import warnings
from importlib import resources

from musicgen.sequence import NoteSequence

MIDDLE_C = 60
GRID = 4  # grid steps per quarter note: 4 = sixteenths
PAGE_WIDTH = 1800  # Verovio units (tenths of a staff space at scale 100)
MAX_PAGES = 3


class NotationError(ValueError):
    """The clip cannot be written or engraved as a score (the message says why, in one line)."""


def _one_line(e: BaseException) -> str:
    first = (str(e).strip().splitlines() or [""])[0][:200]
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def to_musicxml(seq: NoteSequence, *, grid: int = GRID) -> bytes:
    """The clip as MusicXML bytes (UTF-8). ABC text in meta `abc` is used when it holds at least the clip's notes."""
    if not len(seq):
        raise NotationError("the clip has no notes to write as a score")
    if grid < 1:
        raise NotationError(f"grid {grid!r} must be at least 1 step per quarter note")
    score = _abc_score(seq)
    if score is None:
        score = _notes_score(seq, grid)
    return _write_musicxml(score)


def _abc_score(seq: NoteSequence):
    """The tune's ABC text as a music21 score cut to the clip's length, or None to use the notes instead."""
    meta = seq.meta_dict()
    text = meta.get("abc", "")
    if not text.strip() or "abc_error" in meta:
        return None
    from music21 import converter  # slow import

    if not text.lstrip().startswith("X:"):
        text = "X:1\n" + text.strip() + "\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse(text, format="abc")
        if hasattr(score, "scores") and len(score.scores):
            score = score.scores[0]
        tune_notes = sum(len(n.pitches) for n in score.stripTies().flatten().notes)
    except Exception:  # noqa: BLE001 — an unreadable text falls back to the notes themselves
        return None
    if tune_notes < len(seq):  # the clip is more than this tune (e.g. an ABC primer continued): use the notes
        return None
    quarters = seq.duration * seq.qpm / 60.0  # keep the measures that start within the clip
    for part in score.parts:
        for measure in list(part.getElementsByClass("Measure")):
            if float(measure.offset) >= quarters - 1e-6:
                part.remove(measure)
    return score


def _notes_score(seq: NoteSequence, grid: int):
    """Quantised notes → a music21 score: chords per onset, one staff or two split at middle C."""
    from music21 import chord, clef, layout, meter, note, stream, tempo  # slow import

    per_second = seq.qpm / 60.0 * grid
    spans = []  # (start step, end step, pitch)
    for n in seq.notes:
        start = round(n.start * per_second)
        end = max(start + 1, round(n.end * per_second))
        spans.append((start, end, n.pitch))
    total = max(end for _, end, _ in spans)
    high = [s for s in spans if s[2] >= MIDDLE_C]
    low = [s for s in spans if s[2] < MIDDLE_C]
    staves = [(high, clef.TrebleClef()), (low, clef.BassClef())] if high and low else \
        [(high, clef.TrebleClef())] if high else [(low, clef.BassClef())]

    score = stream.Score()
    parts = []
    for i, (notes, staff_clef) in enumerate(staves):
        part = (stream.PartStaff if len(staves) == 2 else stream.Part)()
        voice = stream.Part()
        by_onset: dict[tuple[int, int], list[int]] = {}
        for start, end, pitch in notes:  # one chord per (onset, end): overlapping lengths stay exact
            by_onset.setdefault((start, end), []).append(pitch)
        for (start, end), pitches in by_onset.items():
            element = note.Note(pitches[0]) if len(pitches) == 1 else chord.Chord(sorted(pitches))
            element.quarterLength = (end - start) / grid
            voice.insert(start / grid, element)
        flat = voice.chordify() if len(by_onset) > 1 else voice  # overlaps → tied chords, one voice
        if i == 0:
            part.insert(0, tempo.MetronomeMark(number=round(seq.qpm)))
        part.insert(0, staff_clef)
        part.insert(0, meter.TimeSignature("4/4"))
        for element in flat.flatten().notesAndRests:
            if element.isRest:
                continue
            part.insert(element.offset, element)
        # pad to the same length on every staff so measures line up
        missing = total / grid - float(part.highestTime)
        if missing > 0:
            part.insert(float(part.highestTime), note.Rest(quarterLength=missing))
        parts.append(part)
    for part in parts:
        score.insert(0, part)
    if len(parts) == 2:
        score.insert(0, layout.StaffGroup(parts, symbol="brace", barTogether=True))
    if seq.name:
        from music21 import metadata  # slow import

        score.insert(0, metadata.Metadata(title=seq.name))
    return score


def _write_musicxml(score) -> bytes:
    from music21.musicxml.m21ToXml import GeneralObjectExporter  # slow import

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return GeneralObjectExporter(score).parse()
    except Exception as e:  # noqa: BLE001 — music21 raises many kinds
        raise NotationError(f"music21 could not write this clip as MusicXML ({_one_line(e)})") from None


def engrave_svg(musicxml: bytes, *, width: int = PAGE_WIDTH, max_pages: int = MAX_PAGES) -> list[str]:
    """MusicXML → the first `max_pages` pages as SVG text, laid out `width` units wide (Verovio, offline)."""
    import verovio  # slow import

    if not musicxml.strip():
        raise NotationError("there is no MusicXML to engrave")
    verovio.enableLog(verovio.LOG_OFF)
    # Verovio's default font path is per thread (set on import), and Streamlit reruns scripts on other threads:
    # give every toolkit the package's own resources explicitly.
    toolkit = verovio.toolkit(False)
    if not toolkit.setResourcePath(str(resources.files("verovio") / "data")):
        raise NotationError("Verovio's font resources are missing from its installation")
    toolkit.setOptions({"pageWidth": int(width), "adjustPageHeight": True, "scale": 40, "breaks": "auto",
                        "header": "none", "footer": "none", "pageMarginTop": 40, "pageMarginBottom": 40,
                        "pageMarginLeft": 40, "pageMarginRight": 40})
    try:
        loaded = toolkit.loadData(musicxml.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise NotationError(f"the MusicXML is not UTF-8 text ({_one_line(e)})") from None
    pages = toolkit.getPageCount() if loaded else 0
    if not pages:
        raise NotationError("Verovio could not read this MusicXML")
    svgs = [toolkit.renderToSVG(page) for page in range(1, min(pages, max_pages) + 1)]
    if not all("<svg" in svg for svg in svgs):
        raise NotationError("Verovio produced no SVG for this score")
    return svgs

