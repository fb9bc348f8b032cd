import io
import random
import struct
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mido
import pretty_midi
import pytest

from musicgen import midi
from musicgen.midi import MidiImportError, import_files, load_midi, save_midi, summarize_import, to_midi_bytes
from musicgen.sequence import Note, NoteSequence
from tests.shared_corpora import SHARED_CORPORA

CORPORA = SHARED_CORPORA


def corpus_files() -> list[Path]:
    return sorted(CORPORA.rglob("*.mid")) if CORPORA.is_dir() else []


def smf(*tracks, ticks_per_beat=480) -> bytes:
    """A type-1 MIDI file; each track is a list of mido messages with delta times."""
    mf = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for msgs in tracks:
        mf.tracks.append(mido.MidiTrack(msgs))
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def on(note, delta=0, vel=80, ch=0):
    return mido.Message("note_on", note=note, velocity=vel, channel=ch, time=delta)


def off(note, delta=0, ch=0):
    return mido.Message("note_off", note=note, channel=ch, time=delta)


def riff_wrap(data: bytes) -> bytes:
    pad = b"\0" * (len(data) & 1)
    body = b"RMID" + b"data" + struct.pack("<I", len(data)) + data + pad
    return b"RIFF" + struct.pack("<I", len(body)) + body


SEQ = NoteSequence(
    notes=(
        Note(start=0.0, pitch=60, end=0.5, velocity=1),
        Note(start=0.0, pitch=64, end=0.25, velocity=127),
        Note(start=0.1234, pitch=67, end=1.9876, velocity=90),
        Note(start=0.5, pitch=60, end=0.75, velocity=64),  # same pitch again right at the previous end
        Note(start=2.0, pitch=0, end=2.001, velocity=50),
        Note(start=3.3333, pitch=127, end=4.4444, velocity=100),
    ),
    qpm=93.7,
    program=42,
    name="round trip",
)


def assert_close(a: NoteSequence, b: NoteSequence, tol=1e-3):
    assert [(n.pitch, n.velocity) for n in a.notes] == [(n.pitch, n.velocity) for n in b.notes]
    for x, y in zip(a.notes, b.notes):
        assert abs(x.start - y.start) <= tol and abs(x.end - y.end) <= tol, (x, y)


# ---- writing and round trips -------------------------------------------------------------------
@pytest.mark.parametrize("qpm", [93.7, 120.0, 31.0, 240.0])
def test_round_trip_keeps_pitches_velocities_and_times(qpm):
    seq = NoteSequence(notes=SEQ.notes, qpm=qpm, program=SEQ.program, name=SEQ.name)
    back = load_midi(to_midi_bytes(seq), name="rt.mid")
    assert_close(seq, back)
    assert back.program == 42
    assert back.qpm == pytest.approx(qpm, rel=1e-5)
    assert back.meta_dict()["source"] == "rt.mid"


def test_bytes_are_deterministic_and_stable_through_a_round_trip():
    data = to_midi_bytes(SEQ)
    assert data == to_midi_bytes(SEQ)
    assert data[:4] == b"MThd"
    again = load_midi(data)
    assert_close(SEQ, load_midi(to_midi_bytes(again)))


def test_save_midi_then_load_from_path(tmp_path):
    path = save_midi(SEQ, tmp_path / "piece.mid")
    seq = load_midi(path)
    assert_close(SEQ, seq)
    assert seq.name == "piece"
    assert seq.meta_dict()["source"] == "piece.mid"


def test_empty_sequence_writes_a_valid_file_that_imports_as_no_notes():
    with pytest.raises(MidiImportError) as err:
        load_midi(to_midi_bytes(NoteSequence()), name="empty.mid")
    assert err.value.reason == "no notes"


# ---- reading: semantics --------------------------------------------------------------------------
def test_merges_tracks_skips_drums_and_takes_program_of_busiest_instrument():
    track0 = [mido.MetaMessage("set_tempo", tempo=1_000_000)]  # 60 qpm: one beat = 1 s
    piano = [mido.Message("program_change", program=0), on(60), off(60, 480)]
    strings = [mido.Message("program_change", program=48, channel=1)]
    strings += [m for p in (62, 64, 65) for m in (on(p, ch=1), off(p, 480, ch=1))]
    drums = [on(36, ch=9), off(36, 240, ch=9)]
    seq = load_midi(smf(track0, piano, strings, drums))
    assert seq.pitches == [60, 62, 64, 65]
    assert seq.program == 48
    assert seq.qpm == pytest.approx(60.0)
    assert [(n.start, n.end) for n in seq.notes] == [(0, 1), (0, 1), (1, 2), (2, 3)]
    assert seq.meta_dict()["drum_notes_skipped"] == "1"


def test_tempo_changes_on_any_track_are_honoured():
    # pretty_midi reads tempo only from track 0; players (and we) honour it on any track.
    notes = [on(60), off(60, 480), on(62), off(62, 480)]
    seq = load_midi(smf([], notes, [mido.MetaMessage("set_tempo", tempo=250_000, time=480)]))
    assert [(n.start, n.end) for n in seq.notes] == [(0, 0.5), pytest.approx((0.5, 0.75))]
    assert seq.qpm == pytest.approx(240.0)  # first tempo event, wherever it is


def test_zero_length_and_unterminated_notes_are_dropped_and_overlaps_allowed():
    msgs = [on(60), off(60), on(62), on(64, 10), off(64, 100), on(64, 0), on(64, 10), off(64, 10), on(67)]
    seq = load_midi(smf(msgs))
    # 60: zero length, dropped. 62 and the last 67: never switched off, dropped.
    # 64: overlapping same-key notes; a note-off closes every earlier one (pretty_midi's rule).
    assert [(n.pitch, n.start, n.end) for n in seq.notes] == [
        (64, pytest.approx(10 / 960), pytest.approx(110 / 960)),
        (64, pytest.approx(110 / 960), pytest.approx(130 / 960)),
        (64, pytest.approx(120 / 960), pytest.approx(130 / 960)),
    ]
    assert seq.meta_dict()["dropped_notes"] == "3"


def test_note_on_velocity_zero_is_a_note_off():
    seq = load_midi(smf([on(60, vel=100), on(60, 240, vel=0)]))
    assert [(n.pitch, n.velocity, n.end) for n in seq.notes] == [(60, 100, 0.25)]


# ---- reading: messy real-world files -------------------------------------------------------------
def test_riff_rmid_wrapped_file_is_unwrapped():
    data = to_midi_bytes(SEQ)
    assert_close(SEQ, load_midi(riff_wrap(data)))
    assert_close(SEQ, load_midi(riff_wrap(data + b"\0")))  # odd length: padded chunk


def test_riff_audio_is_not_midi():
    wav = b"RIFF" + struct.pack("<I", 4) + b"WAVEfmt "
    with pytest.raises(MidiImportError, match=r"x.wav: not a MIDI file \(a RIFF b'WAVE'"):
        load_midi(wav, name="x.wav")


def test_giant_end_of_track_delta_imports_fast():
    track = [on(60), off(60, 480), mido.MetaMessage("end_of_track", time=0x0FFFFFFF)]
    data = smf(track)
    with pytest.raises(ValueError):  # what pretty_midi does with it
        pretty_midi.PrettyMIDI(io.BytesIO(data))
    t0 = time.perf_counter()
    seq = load_midi(data)
    assert time.perf_counter() - t0 < 10  # a hang guard only (pretty_midi would allocate 2.7e8 floats)
    assert len(seq) == 1 and seq.duration == pytest.approx(0.5)


def test_twenty_thousand_notes_import_in_about_a_second():
    track = [mido.Message("program_change", program=0)]
    for i in range(20_000):
        track += [on(40 + i % 48, 0 if i % 4 else 1, vel=1 + i % 127), off(40 + i % 48, 30)]
    data = smf(track)
    t0 = time.perf_counter()
    seq = load_midi(data)
    assert time.perf_counter() - t0 < 15  # a hang guard only; speed is measured by scripts/import_report.py
    assert len(seq) == 20_000


def test_smpte_time_division_is_converted_to_seconds():
    division = struct.unpack(">h", bytes([256 - 25, 40]))[0]  # 25 fps x 40 ticks = 1000 ticks/s
    tempo = [mido.MetaMessage("set_tempo", tempo=2_000_000)]  # ignored for timing under SMPTE
    seq = load_midi(smf(tempo + [on(60, 1000), off(60, 500)], ticks_per_beat=division))
    assert [(n.start, n.end) for n in seq.notes] == [(1.0, 1.5)]
    assert seq.meta_dict()["time_division"] == "SMPTE 25 fps x 40"


def test_top_bit_division_that_is_not_a_smpte_rate_is_read_as_ticks_per_beat():
    # Seen in the jazz corpus: 55440 ticks per beat written into the 15-bit field (0xD890).
    seq = load_midi(smf([on(60, 55440), off(60, 55440)], ticks_per_beat=struct.unpack(">h", b"\xd8\x90")[0]))
    assert [(n.start, n.end) for n in seq.notes] == [(0.5, 1.0)]


def test_invalid_key_signature_does_not_stop_the_import():
    good = smf([mido.MetaMessage("key_signature", key="F"), on(60), off(60, 480)])
    bad = good.replace(b"\xff\x59\x02\xff\x00", b"\xff\x59\x02\xff\xff")  # mode 255
    assert bad != good
    with pytest.raises(mido.midifiles.meta.KeySignatureError):
        mido.MidiFile(file=io.BytesIO(bad), clip=True)
    assert load_midi(bad).pitches == [60]


def test_data_bytes_above_127_are_clipped_like_mido_clip():
    data = smf([on(60, vel=100), off(60, 480)])
    bad = data.replace(bytes([0x90, 60, 100]), bytes([0x90, 60, 200]))
    assert load_midi(bad).notes[0].velocity == 127


def test_truncated_file_keeps_the_complete_events():
    data = to_midi_bytes(SEQ)
    seq = load_midi(data[: len(data) - 12])
    assert 0 < len(seq) < len(SEQ) and seq.meta_dict()["truncated"] == "true"


# ---- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason", "text"),
    [
        (b"", "empty", "empty file"),
        (b"hello, I am not MIDI at all", "not MIDI", "not a MIDI file (starts with b'hello, I'"),
        (b"MThd\0\0", "corrupt", "truncated MIDI header"),
        (b"MThd\0\0\0\x06\0\x01\0\x01\x01\xe0", "corrupt", "no MTrk"),
        (b"MThd\0\0\0\x06\0\x01\0\x01\0\0MTrk\0\0\0\0", "corrupt", "corrupt MIDI header"),
        (b"MThd\0\0\0\x06\0\x00\0\x01\x01\xe0MTrk\0\0\0\x04\0\xf4\0\0", "corrupt", "undefined status byte 0xF4"),
        (b"MThd\0\0\0\x06\0\x00\0\x01\x01\xe0MTrk\0\0\0\x04\0\x3c\x40\0", "corrupt", "data byte before any status"),
    ],
)
def test_bad_bytes_raise_one_line_errors_naming_the_file(data, reason, text):
    with pytest.raises(MidiImportError) as err:
        load_midi(data, name="bad.mid")
    assert err.value.reason == reason
    assert str(err.value).startswith("bad.mid: ") and text in str(err.value)
    assert "\n" not in str(err.value)


def test_drum_only_file_is_refused():
    pm = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes = [pretty_midi.Note(velocity=100, pitch=36 + i % 4, start=i * 0.25, end=i * 0.25 + 0.1) for i in range(8)]
    pm.instruments.append(kit)
    buf = io.BytesIO()
    pm.write(buf)
    with pytest.raises(MidiImportError, match=r"^drums.mid: only drum notes \(8 on channel 10\)") as err:
        load_midi(buf.getvalue(), name="drums.mid")
    assert err.value.reason == "only drums"


def test_file_errors(tmp_path):
    (tmp_path / "empty.mid").write_bytes(b"")
    cases = [(tmp_path / "empty.mid", "empty"), (tmp_path / "missing.mid", "unreadable"), (tmp_path, "unreadable")]
    for path, reason in cases:
        with pytest.raises(MidiImportError) as err:
            load_midi(path)
        assert err.value.reason == reason and str(err.value).startswith(f"{path.name}: ")


def test_absurd_files_are_refused(monkeypatch):
    three_hours = 3 * 3600 * 2 * 480  # ticks at the default 120 qpm
    with pytest.raises(MidiImportError, match="lasts 3.0 hours") as err:
        load_midi(smf([on(60), off(60, 480), on(62, three_hours), off(62, 480)]))
    assert err.value.reason == "too long"
    monkeypatch.setattr(midi, "MAX_NOTES", 10)
    with pytest.raises(MidiImportError, match="more than 10 notes"):
        load_midi(smf([m for i in range(11) for m in (on(60), off(60, 10))]))


def test_random_corruption_gives_a_sequence_or_an_import_error():
    data = bytearray(to_midi_bytes(SEQ))
    rng = random.Random(0)
    for _ in range(300):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        try:
            assert isinstance(load_midi(bytes(bad)), NoteSequence)
        except MidiImportError as exc:
            assert "\n" not in str(exc)


def test_import_files_never_raises_and_summarize(tmp_path):
    good = save_midi(SEQ, tmp_path / "good.mid")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"RIFF....WAVE")
    results = list(import_files([good, str(bad), tmp_path / "missing.mid"]))
    assert [p.name for p, _ in results] == ["good.mid", "bad.mid", "missing.mid"]
    assert isinstance(results[0][1], NoteSequence)
    assert all(isinstance(r, MidiImportError) for _, r in results[1:])
    assert summarize_import(results[0][1]) == "OK 6 notes, 4.4 s"
    assert summarize_import(results[1][1]).startswith("ERROR bad.mid: not a MIDI file")


# ---- the real corpora --------------------------------------------------------------------------
def import_one(path: Path) -> tuple[str, str, float]:
    """(path, "" or the one problem, seconds): a NoteSequence or a one-line MidiImportError is fine."""
    t0 = time.perf_counter()
    problem = ""
    try:
        if not isinstance(load_midi(path), NoteSequence):
            problem = "load_midi returned no NoteSequence"
    except MidiImportError as exc:
        if "\n" in str(exc) or not str(exc).startswith(path.name):
            problem = f"not a one-line message naming the file: {exc!r}"
    except Exception as exc:  # noqa: BLE001 — anything else is the bug this test looks for
        problem = f"{type(exc).__name__}: {exc}"
    return str(path), problem, time.perf_counter() - t0


def check_corpus(paths: list[Path], max_seconds: float, *, processes: int = 1):
    """Every file gives a NoteSequence or a one-line MidiImportError, each within `max_seconds`."""
    if not paths:
        pytest.skip(f"{CORPORA} is absent")
    if processes > 1:  # the whole corpus: ~2,000 files, parsed on both cores
        with ProcessPoolExecutor(processes) as pool:
            results = list(pool.map(import_one, paths, chunksize=16))
    else:
        results = [import_one(p) for p in paths]
    problems = [(p, why) for p, why, _ in results if why]
    slow = [(p, round(s, 1)) for p, _, s in results if s >= max_seconds]
    assert not problems, problems[:5]
    assert not slow, slow[:5]


def test_corpus_sample_imports():
    check_corpus(corpus_files()[::20], max_seconds=20.0)  # hang guard, not a speed test


def test_agrees_with_pretty_midi_on_ordinary_corpus_files():
    paths = corpus_files()[::97]
    if not paths:
        pytest.skip(f"{CORPORA} is absent")
    compared = 0
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pm = pretty_midi.PrettyMIDI(str(path))
        except (OSError, ValueError, mido.midifiles.meta.KeySignatureError):
            continue  # files pretty_midi cannot read are covered by the tests above
        if any(e.type == "set_tempo" for t in mido.MidiFile(str(path), clip=True).tracks[1:] for e in t):
            continue  # pretty_midi ignores tempo outside track 0
        ref = sorted(
            Note(start=n.start, pitch=n.pitch, end=n.end, velocity=n.velocity)
            for i in pm.instruments
            if not i.is_drum
            for n in i.notes
            if n.end > n.start
        )
        assert_close(NoteSequence(notes=tuple(ref)), load_midi(path), tol=1e-6)
        compared += 1
    assert compared >= len(paths) // 2


@pytest.mark.slow
def test_whole_corpus_imports():
    check_corpus(corpus_files(), max_seconds=20.0, processes=2)  # hang guard, not a speed test
