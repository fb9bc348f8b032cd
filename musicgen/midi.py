"""MIDI bytes/files <-> NoteSequence, tolerant of the messy files found in real corpora.

Reading uses a small tolerant Standard MIDI File parser instead of `pretty_midi.PrettyMIDI(path)`,
because on real corpora pretty_midi/mido fail or blow up on: RIFF-RMID wrappers, invalid key
signatures (mido raises), SMPTE time division (negative resolution), huge end-of-track deltas
(pretty_midi allocates one float per tick), tempo events outside track 0 (ignored) and tempo 0.
Note pairing follows pretty_midi, so normal files give the same notes:
- a note-off closes every open note of that channel and key that started at an earlier tick;
- a note-on/note-off pair on the same tick with no earlier open note is a zero-length note and is
  dropped, as are notes never switched off (the count goes to meta `dropped_notes`);
- notes on channel 10 (index 9) are drums and are skipped; all other tracks/channels are merged.
Times are seconds from the tempo map of all tracks. Writing goes through pretty_midi/mido.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

# pretty_midi imports pyfluidsynth, which prints where it found the C library whenever $CI is set: that line
# would land in our machine-readable stdout (`--json -`, a report a script parses), so it is swallowed here.
with contextlib.redirect_stdout(io.StringIO()):
    import pretty_midi

from musicgen.sequence import Note, NoteSequence

MAX_FILE_BYTES = 64 * 2**20
MAX_NOTES = 200_000
MAX_SECONDS = 2 * 3600.0
DRUM_CHANNEL = 9
SMPTE_FPS = {24: 24.0, 25: 25.0, 29: 30000 / 1001, 30: 30.0}  # the only rates the SMF spec allows


class MidiImportError(ValueError):
    """A file that cannot become a NoteSequence. `str()` is one line: '<file>: <problem>'.

    `reason` is a short fixed category for grouping ('not MIDI', 'only drums', 'corrupt', ...).
    """

    def __init__(self, source: str, problem: str, *, reason: str = "corrupt"):
        self.source, self.problem, self.reason = source, problem, reason
        super().__init__(" ".join(f"{source}: {problem}".split()))


def _unwrap(data: bytes, src: str) -> bytes:
    """The SMF bytes inside `data` (RIFF-RMID files keep them in a 'data' chunk)."""
    if not data:
        raise MidiImportError(src, "empty file (0 bytes)", reason="empty")
    if data[:4] == b"RIFF":
        form = data[8:12]
        if form != b"RMID":
            raise MidiImportError(src, f"not a MIDI file (a RIFF {form!r} container, e.g. audio)", reason="not MIDI")
        pos = 12
        while pos + 8 <= len(data):
            cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
            if cid == b"data":
                data = data[pos + 8 : pos + 8 + size]
                break
            pos += 8 + size + (size & 1)  # RIFF chunks are padded to even length
        else:
            raise MidiImportError(src, "RIFF-RMID file without a 'data' chunk holding the MIDI", reason="not MIDI")
    if data[:4] != b"MThd":
        hint = "a Standard MIDI File starts with b'MThd'"
        raise MidiImportError(src, f"not a MIDI file (starts with {data[:8]!r}; {hint})", reason="not MIDI")
    return data


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        b = buf[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, pos


def _parse_track(trk: bytes, notes: list, tempos: list, track: int, note_ons: int) -> tuple[int, int, bool]:
    """Append (start_tick, end_tick, pitch, velocity, channel, program, track) and (tick, tempo).

    Returns (note-ons so far, notes dropped, truncated?). Only what becomes notes or timing is
    decoded, so broken meta events (bad key signatures, bad text) cannot fail the import.
    """
    pos, tick, status, dropped = 0, 0, 0, 0
    program = [0] * 16
    open_notes: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    try:
        while pos < len(trk):
            delta, pos = _varint(trk, pos)
            tick += delta
            b = trk[pos]
            if b >= 0x80:
                pos += 1
                if b == 0xFF or b == 0xF0 or b == 0xF7:  # meta (type, length, data) / sysex (length, data)
                    kind = trk[pos] if b == 0xFF else -1
                    length, pos = _varint(trk, pos + (b == 0xFF))
                    if kind == 0x51 and length >= 3 and int.from_bytes(trk[pos : pos + 3], "big") > 0:
                        tempos.append((tick, int.from_bytes(trk[pos : pos + 3], "big")))
                    elif kind == 0x2F:
                        break  # end of track: whatever follows (often garbage) is ignored
                    pos += length
                    continue
                if b > 0xF0:
                    raise MidiImportError("", f"corrupt data in track {track} (undefined status byte 0x{b:02X})")
                status = b
            elif not status:
                raise MidiImportError("", f"corrupt data in track {track} (data byte before any status byte)")
            hi, ch, d1 = status & 0xF0, status & 0x0F, min(trk[pos], 127)  # clip like mido's clip=True
            if hi == 0xC0 or hi == 0xD0:
                pos += 1
                if hi == 0xC0:
                    program[ch] = d1
                continue
            d2, pos = min(trk[pos + 1], 127), pos + 2
            if hi == 0x90 and d2 > 0:
                open_notes.setdefault((ch, d1), []).append((tick, d2, program[ch]))
                note_ons += 1
                if note_ons > MAX_NOTES:
                    raise MidiImportError("", f"more than {MAX_NOTES:,} notes; too big to use", reason="too many notes")
            elif (hi == 0x80 or hi == 0x90) and open_notes.get((ch, d1)):
                # pretty_midi's rule: close notes started earlier; a note-on at this very tick stays
                # open if something earlier was closed, else it is a zero-length note and dropped.
                pending = open_notes[(ch, d1)]
                keep = [p for p in pending if p[0] == tick]
                notes.extend((start, tick, d1, vel, ch, prog, track) for start, vel, prog in pending if start != tick)
                if len(keep) == len(pending):
                    dropped, keep = dropped + len(keep), []
                open_notes[(ch, d1)] = keep
        truncated = False
    except IndexError:  # the chunk ended inside an event: keep what was complete
        truncated = True
    return note_ons, dropped + sum(len(p) for p in open_notes.values()), truncated


def _seconds(ticks: np.ndarray, tempos: list[tuple[int, int]], ppq: int) -> np.ndarray:
    """Tick -> seconds under the tempo map (120 qpm until the first tempo event)."""
    changes = sorted(tempos, key=lambda t: t[0])  # stable: same-tick events keep file order, last wins
    at = np.array([0.0] + [float(t) for t, _ in changes])
    spt = np.array([0.5 / ppq] + [tempo / 1e6 / ppq for _, tempo in changes])
    base = np.concatenate([[0.0], np.cumsum(np.diff(at) * spt[:-1])])
    k = np.searchsorted(at, ticks, side="right") - 1
    return base[k] + (ticks - at[k]) * spt[k]


def load_midi(source: str | Path | bytes, *, name: str | None = None) -> NoteSequence:
    """Read a MIDI file (path or bytes) into one NoteSequence of all non-drum notes.

    program = that of the instrument with most notes; qpm = first tempo event (120 if none);
    meta `source` = file name (or `name` for bytes). `name` also names the sequence (default: stem).
    Raises MidiImportError, never anything else, for unreadable, non-MIDI, drum-only, note-less,
    corrupt or absurd (> 2 h, > 200k notes, > 64 MB) files.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        src, data, stem = name or "<bytes>", bytes(source), ""
    else:
        path = Path(source)
        src, stem = path.name, path.stem
        try:
            data = path.read_bytes() if path.stat().st_size <= MAX_FILE_BYTES else None
        except OSError as exc:
            raise MidiImportError(src, f"cannot read file ({exc.strerror or exc})", reason="unreadable") from None
    if data is None or len(data) > MAX_FILE_BYTES:
        raise MidiImportError(src, f"over {MAX_FILE_BYTES >> 20} MB; not a plausible MIDI file", reason="too large")
    try:
        return _load(data, src, name if name is not None else stem)
    except MidiImportError as exc:
        if exc.source:
            raise
        raise MidiImportError(src, exc.problem, reason=exc.reason) from None
    except Exception as exc:  # the contract: a bad file never raises anything else
        raise MidiImportError(src, f"corrupt or unsupported MIDI data ({type(exc).__name__}: {exc})") from exc


def _load(data: bytes, src: str, name: str) -> NoteSequence:
    data = _unwrap(data, src)
    if len(data) < 14:
        raise MidiImportError(src, "truncated MIDI header")
    hlen = struct.unpack(">I", data[4:8])[0]
    division = struct.unpack(">H", data[12:14])[0]
    meta: dict[str, str] = {"source": src}
    fps = SMPTE_FPS.get(256 - (division >> 8)) if division & 0x8000 else None
    if fps:  # SMPTE: ticks are fractions of a video frame; tempo events do not affect timing
        ppq = 0
        meta["time_division"] = f"SMPTE {fps:g} fps x {division & 0xFF}"
    else:  # a top bit with a non-SMPTE rate is a resolution > 32767 written unsigned (seen in the wild)
        ppq = division
        if division & 0x8000:
            meta["time_division"] = f"{division} ticks per beat (top bit set, not a SMPTE rate)"
    if hlen < 6 or division == 0 or (fps and not division & 0xFF):
        raise MidiImportError(src, f"corrupt MIDI header (length {hlen}, division 0x{division:04X})")

    notes: list[tuple] = []
    tempos: list[tuple[int, int]] = []
    pos, tracks, dropped, note_ons = 8 + hlen, 0, 0, 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if cid == b"MTrk":  # other chunk types are skipped, as the SMF spec asks
            note_ons, lost, cut = _parse_track(data[pos + 8 : pos + 8 + size], notes, tempos, tracks, note_ons)
            dropped, tracks = dropped + lost, tracks + 1
            if cut or pos + 8 + size > len(data):
                meta["truncated"] = "true"
        pos += 8 + size
    if not tracks:
        raise MidiImportError(src, "no MTrk track chunk (file truncated?)")

    melodic = [n for n in notes if n[4] != DRUM_CHANNEL]
    if notes and not melodic:
        problem = f"only drum notes ({len(notes)} on channel 10); nothing melodic to import"
        raise MidiImportError(src, problem, reason="only drums")
    if not melodic:
        raise MidiImportError(src, "contains no notes", reason="no notes")
    if len(notes) > len(melodic):
        meta["drum_notes_skipped"] = str(len(notes) - len(melodic))

    arr = np.array([(n[0], n[1]) for n in melodic], dtype=np.float64)
    if fps:
        times = arr / (fps * (division & 0xFF))
    else:
        times = _seconds(arr.ravel(), tempos, ppq).reshape(arr.shape)
    last = float(times[:, 1].max())
    if not last <= MAX_SECONDS:  # also catches NaN
        problem = f"lasts {last / 3600:.1f} hours (limit {MAX_SECONDS / 3600:g}); its timing is probably corrupt"
        raise MidiImportError(src, problem, reason="too long")
    first_tempo = min(tempos, key=lambda t: t[0])[1] if tempos else 500_000
    programs = Counter((n[6], n[4], n[5]) for n in melodic)  # (track, channel, program) = one instrument
    out = [Note(start=s, pitch=n[2], end=e, velocity=n[3]) for n, (s, e) in zip(melodic, times.tolist()) if e > s]
    if dropped + len(melodic) - len(out):
        meta["dropped_notes"] = str(dropped + len(melodic) - len(out))
    return NoteSequence(
        notes=tuple(out),
        qpm=6e7 / first_tempo,
        program=programs.most_common(1)[0][0][2],
        name=name,
        meta=tuple(sorted(meta.items())),
    )


def to_midi_bytes(seq: NoteSequence) -> bytes:
    """A type-1 MIDI file: one instrument (seq.program, channel 1) at seq.qpm. Same input, same bytes.

    The resolution is chosen so one tick is at most ~1 ms, so a read-back is within 0.5 ms.
    """
    resolution = min(32_640, 960 * max(1, math.ceil(60 / seq.qpm)))
    tempo_us = min(0xFFFFFF, max(1, round(6e7 / seq.qpm)))  # what a file can store; times use the same value
    pm = pretty_midi.PrettyMIDI(resolution=resolution, initial_tempo=6e7 / tempo_us)
    name = seq.name.encode("latin-1", "replace").decode("latin-1")[:64]  # mido writes text as latin-1
    inst = pretty_midi.Instrument(program=seq.program, name=name)
    inst.notes = [pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=n.start, end=n.end) for n in seq.notes]
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def save_midi(seq: NoteSequence, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(to_midi_bytes(seq))
    return path


def import_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, NoteSequence | MidiImportError]]:
    """(path, sequence or error) for every path, in order; a bad file never stops the iteration."""
    for p in paths:
        try:
            yield Path(p), load_midi(p)
        except MidiImportError as exc:
            yield Path(p), exc


def summarize_import(seq: NoteSequence | MidiImportError) -> str:
    """'OK 523 notes, 92.4 s' for a sequence, 'ERROR <one line>' for an import error."""
    if isinstance(seq, MidiImportError):
        return f"ERROR {seq}"
    return f"OK {len(seq)} notes, {seq.duration:.1f} s"
