"""Any supported music file → NoteSequences: MIDI, ABC (every tune of a multi-tune file) and MusicXML.

The one reader behind `python -m musicgen import`, the app's uploads and `folder:` corpora.
`read_pieces(path or bytes, name)` gives one `(label, NoteSequence | ImportProblem)` per piece and never
raises for a bad file: a file that cannot be read is one entry holding its `ImportProblem` (one line).

- MIDI (`.mid`, `.midi`, or any file starting like one): `musicgen.midi.load_midi`, one piece.
- ABC (`.abc`): `split_tunes` → `normalise_tune` → `abc_to_sequence` (the C-abc corpus' path), one piece
  per tune, labelled `<name>#X:<n>` (`<name>#X:<n> (tune <k>)` for the k-th tune when an earlier one
  has that number too); a tune music21 cannot read is that tune's problem, not the file's.
  A file without `X:` lines is read as one tune.
- MusicXML (`.mxl`, `.musicxml`, `.xml`): music21 → `score_to_sequence`, at the score's first tempo mark
  (120 crotchets a minute if it has none). music21 is imported only when such a file is read.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

from musicgen.midi import MAX_FILE_BYTES, MidiImportError, load_midi
from musicgen.representations.abc import FOLK_QPM, AbcParseError, abc_to_sequence, normalise_tune, split_tunes
from musicgen.scores import score_to_sequence
from musicgen.sequence import NoteSequence

MIDI_SUFFIXES = (".mid", ".midi")
ABC_SUFFIXES = (".abc",)
MUSICXML_SUFFIXES = (".mxl", ".musicxml", ".xml")
SUPPORTED_SUFFIXES = MIDI_SUFFIXES + ABC_SUFFIXES + MUSICXML_SUFFIXES
DEFAULT_QPM = 120.0  # a MusicXML score without a tempo mark


class ImportProblem(ValueError):
    """A file, or one tune of it, that cannot become notes. `str()` is one line: '<label>: <problem>'.

    `reason` is a short fixed category for grouping ('not MIDI', 'unsupported', 'unreadable', 'corrupt', ...).
    """

    def __init__(self, source: str, problem: str, *, reason: str = "corrupt"):
        self.source, self.problem, self.reason = source, " ".join(str(problem).split()), reason
        super().__init__(f"{source}: {self.problem}")


Entry = tuple[str, "NoteSequence | ImportProblem"]


def kind_of(name: str, data: bytes | None = None) -> str | None:
    """'midi', 'abc', 'musicxml', or None for a file this module does not read.

    By suffix; a file with another suffix that starts like a MIDI file (b'MThd', RIFF) is MIDI."""
    suffix = Path(name).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return "midi"
    if suffix in ABC_SUFFIXES:
        return "abc"
    if suffix in MUSICXML_SUFFIXES:
        return "musicxml"
    if data is not None and data[:4] in (b"MThd", b"RIFF"):
        return "midi"
    return None


def unsupported_message(name: str) -> str:
    suffix = Path(name).suffix.lower() or "(no suffix)"
    names = ", ".join(SUPPORTED_SUFFIXES[:-1]) + " or " + SUPPORTED_SUFFIXES[-1]
    return f"not a supported music file ({suffix}; this reads {names})"


def read_pieces(source: str | Path | bytes, name: str | None = None) -> list[Entry]:
    """Every piece of one file, in file order: [(label, NoteSequence or ImportProblem)], never empty.

    `source` is a path or the file's bytes; `name` labels it (default: the path as given; bytes need it
    for their suffix). Sequences are named by their label. Never raises for a bad file."""
    return [(label, _problem(label, r)) for label, r in _read(source, name)]


def read_first(source: str | Path | bytes, name: str | None = None) -> tuple[NoteSequence, int]:
    """The first readable piece of a file and how many pieces the file holds (tunes of an ABC file).

    Raises the first piece's problem when none is readable: `MidiImportError` for a MIDI file (as
    `load_midi` does), `ImportProblem` otherwise; both are ValueErrors with a one-line message."""
    entries = _read(source, name)
    for _, result in entries:
        if isinstance(result, NoteSequence):
            return result, len(entries)
    label, first = entries[0]
    if len(entries) > 1:
        problem = _problem(label, first)
        raise ImportProblem(label.rpartition("#")[0], f"none of its {len(entries)} tunes could be read "
                                                     f"(the first: {problem.problem})", reason=problem.reason)
    raise first


# ---- the readers --------------------------------------------------------------------------------------
def _problem(label: str, result):
    if isinstance(result, MidiImportError):
        return ImportProblem(label, result.problem, reason=result.reason)
    return result


def _read(source: str | Path | bytes, name: str | None) -> list[tuple[str, NoteSequence | Exception]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        path, data, label = None, bytes(source), name or "<bytes>"
    else:
        path, label = Path(source), name or str(source)
        data = None
    kind = kind_of(label if path is None else path.name, data)
    if kind is None and path is not None:  # an unknown suffix may still be a MIDI file: look at its start
        try:
            with path.open("rb") as f:
                kind = kind_of(path.name, f.read(4))
        except OSError:
            pass
    if kind is None:
        return [(label, ImportProblem(label, unsupported_message(label), reason="unsupported"))]
    if kind == "midi":
        try:
            return [(label, load_midi(path if data is None else data, name=label))]
        except MidiImportError as exc:
            return [(label, exc)]
    if data is None:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return [(label, ImportProblem(label, f"over {MAX_FILE_BYTES >> 20} MB; not a plausible music file",
                                              reason="too large"))]
            data = path.read_bytes()
        except OSError as exc:
            return [(label, ImportProblem(label, f"cannot read file ({exc.strerror or exc})", reason="unreadable"))]
    if not data:
        return [(label, ImportProblem(label, "empty file (0 bytes)", reason="empty"))]
    if kind == "abc":
        return _read_abc(data, label)
    return [(label, _read_musicxml(data, label, path))]


def _read_abc(data: bytes, label: str) -> list[tuple[str, NoteSequence | Exception]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # older ABC collections; every byte is a character
    tunes = split_tunes(text)
    if not tunes:  # a single tune without an X: line
        if "K:" not in text:
            return [(label, ImportProblem(label, "no ABC tune in this file (a tune has an X: line and a K: key line)",
                                          reason="not ABC"))]
        tunes = [("", text)]
    out, seen = [], set()
    for position, (number, tune) in enumerate(tunes, 1):
        tune_label = f"{label}#X:{number}" if number else label
        if tune_label in seen:  # files that number each section from 1: the position keeps labels apart
            tune_label += f" (tune {position})"
        seen.add(tune_label)
        try:
            out.append((tune_label, abc_to_sequence(normalise_tune(tune), qpm=FOLK_QPM, name=tune_label)))
        except AbcParseError as exc:
            out.append((tune_label, ImportProblem(tune_label, str(exc), reason="unreadable tune")))
    return out


def _first_qpm(score) -> float:
    from music21 import tempo  # slow import: music21 takes seconds to import

    for mark in score.recurse().getElementsByClass(tempo.MetronomeMark):
        qpm = mark.getQuarterBPM()
        if qpm and qpm > 0:
            return float(qpm)
    return DEFAULT_QPM


def _read_musicxml(data: bytes, label: str, path: Path | None) -> NoteSequence | ImportProblem:
    suffix = Path(label if path is None else path.name).suffix.lower()
    if suffix == ".mxl":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                z.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            return ImportProblem(label, f"not a readable .mxl (compressed MusicXML) archive; truncated or corrupt "
                                        f"({type(exc).__name__}: {exc})")
    tmp = None
    try:
        from music21 import converter, stream  # slow import: music21 takes seconds to import

        if path is None:  # music21 reads .mxl archives only from files
            fd, tmp = tempfile.mkstemp(suffix=suffix)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fmt = None if suffix == ".mxl" else "musicxml"
            score = converter.parse(str(path or tmp), format=fmt, forceSource=True, storePickle=False)
        if isinstance(score, stream.Opus):
            if not len(score.scores):
                return ImportProblem(label, "music21 found no score in this file")
            score = score.scores[0]
        seq = score_to_sequence(score, name=label, qpm=_first_qpm(score))
    except Exception as exc:  # noqa: BLE001 — music21 raises many kinds (ParseError, MusicXMLImportException, ...)
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return ImportProblem(label, f"music21 could not read this MusicXML ({type(exc).__name__}: {first})")
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    if len(seq) == 0:
        return ImportProblem(label, "music21 read the file but found no notes in it", reason="no notes")
    return seq.with_meta(source=label)
