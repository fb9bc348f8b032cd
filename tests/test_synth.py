"""musicgen.synth: rendering (skipped when FluidSynth cannot load), loudness, matching, encodings, errors."""

from __future__ import annotations

import builtins
import io
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicgen import audio, synth
from musicgen.sequence import Note, NoteSequence

SR = 22050


def _seq(*notes: tuple[float, int, float], program: int = 0, name: str = "") -> NoteSequence:
    return NoteSequence(notes=tuple(Note(start=s, pitch=p, end=e, velocity=90) for s, p, e in notes),
                        program=program, name=name)


def _piano_30s() -> NoteSequence:
    """~150 notes over 30 s: a melody every 0.3 s over a bass line every 0.6 s."""
    rng = np.random.default_rng(0)
    melody = [Note(start=i * 0.3, pitch=int(rng.integers(60, 84)), end=i * 0.3 + float(rng.choice([0.3, 0.6])),
                   velocity=int(rng.integers(50, 110))) for i in range(100)]
    bass = [Note(start=i * 0.6, pitch=int(rng.integers(36, 55)), end=i * 0.6 + 1.2, velocity=70) for i in range(50)]
    return NoteSequence(notes=tuple(melody + bass))


def _sine(seconds: float, amplitude: float, freq: float = 440.0, sr: int = SR) -> audio.Clip:
    t = np.arange(int(seconds * sr)) / sr
    return audio.Clip(samples=amplitude * np.sin(2 * np.pi * freq * t), sample_rate=sr, soundfont="test.sf2")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture(scope="module")
def fluid():
    """Skip audio tests, saying why, when FluidSynth or a soundfont cannot be loaded here."""
    ok, message = synth.synth_available()
    if not ok:
        pytest.skip(f"FluidSynth unavailable: {message}")
    try:
        synth.render_audio(_seq((0.0, 60, 0.1)), tail=0.0)
    except synth.SynthUnavailableError as exc:
        pytest.skip(f"FluidSynth cannot render: {exc}")


# ---- rendering ---------------------------------------------------------------------------------


def test_render_has_expected_length_and_sound(fluid):
    seq = _seq((0.0, 60, 0.5), (0.5, 64, 1.0), (1.0, 67, 2.0))
    clip = synth.render_audio(seq, tail=0.5)
    assert clip.sample_rate == SR and clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert abs(len(clip.samples) - (seq.duration + 0.5) * SR) <= 1
    assert abs(clip.duration - 2.5) < 1e-3
    assert _rms(clip.samples) > 1e-3 and np.abs(clip.samples).max() <= 1.0
    assert clip.soundfont.endswith(".sf2") and "/" not in clip.soundfont
    assert not clip.samples.flags.writeable  # frozen means frozen


def test_render_is_deterministic_whatever_came_before(fluid):
    a, b = _seq((0.0, 60, 1.0), (0.5, 64, 1.5)), _seq((0.0, 40, 1.0), (0.2, 47, 0.9), program=48)
    first = synth.render_audio(a).samples
    synth.render_audio(b)
    assert np.array_equal(first, synth.render_audio(a).samples)
    assert np.array_equal(first, synth.render_audio(a).samples)


def test_render_is_thread_safe(fluid):
    seqs = [_seq((0.0, 60 + i, 0.6), (0.3, 67, 0.9)) for i in range(4)]
    serial = [synth.render_audio(s).samples for s in seqs]
    results: dict[int, np.ndarray] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, synth.render_audio(seqs[i]).samples))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(serial[i], results[i]) for i in range(4))


def test_render_plays_the_right_pitch_and_program(fluid):
    piano = synth.render_audio(_seq((0.0, 69, 1.0)), tail=0.0).samples
    spectrum = np.abs(np.fft.rfft(piano * np.hanning(len(piano))))
    peak_hz = np.fft.rfftfreq(len(piano), 1 / SR)[np.argmax(spectrum)]
    assert abs(peak_hz - 440.0) < 5.0
    strings = synth.render_audio(_seq((0.0, 69, 1.0), program=48), tail=0.0).samples
    assert not np.allclose(piano, strings)


def test_empty_sequence_is_tail_of_silence(fluid):
    clip = synth.render_audio(NoteSequence(), tail=0.5)
    assert len(clip.samples) == round(0.5 * SR) and not clip.samples.any()


def test_overlapping_same_pitch_sounds_until_the_last_one_ends(fluid):
    alone = synth.render_audio(_seq((0.0, 60, 1.0)), tail=1.0).samples
    overlapped = synth.render_audio(_seq((0.0, 60, 1.0), (0.5, 60, 1.6)), tail=0.4).samples
    window = slice(int(1.2 * SR), int(1.5 * SR))
    assert _rms(overlapped[window]) > 3 * _rms(alone[window])


def test_thirty_seconds_of_piano_encodes_small_and_decodes_back(fluid):
    data, clip = synth.render_for_browser(_piano_30s())
    peak_limited = np.abs(clip.samples).max() >= 0.97
    assert peak_limited or abs(audio.loudness_db(clip.samples) - (-20.0)) < 0.1
    decoded, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == SR and len(decoded) == len(clip.samples)
    assert len(data) < 500_000, f"{len(data)} bytes for {clip.duration:.1f} s"
    assert data == audio.encode_ogg(clip)  # same audio, same bytes


def test_encoded_audio_names_nothing(fluid):
    clip = synth.render_audio(_seq((0.0, 60, 0.5), name="lstm-secret-model"))
    for data in (audio.encode_ogg(clip), audio.encode_wav(clip)):
        assert b"lstm" not in data and b"secret" not in data and clip.soundfont.encode() not in data


# ---- loudness and matching (no FluidSynth needed) ----------------------------------------------


def test_normalize_loudness_hits_target_rms():
    quiet = _sine(2.0, 0.01).samples
    out = audio.normalize_loudness(quiet, target_rms_db=-20.0)
    assert out.dtype == np.float32 and out.shape == quiet.shape
    assert abs(20 * np.log10(_rms(out)) - (-20.0)) < 0.05
    assert abs(audio.loudness_db(out) - (-20.0)) < 0.05


def test_normalize_loudness_ignores_silence_and_respects_peak_limit():
    silent = np.zeros(SR, dtype=np.float32)
    assert not audio.normalize_loudness(silent).any()
    with_pause = np.concatenate([_sine(1.0, 0.01).samples, np.zeros(3 * SR, np.float32)])
    assert abs(audio.loudness_db(audio.normalize_loudness(with_pause)) - (-20.0)) < 0.05  # gated
    clicks = np.zeros(SR, dtype=np.float32)
    clicks[::2000] = 0.5  # huge crest factor: the target would need peaks far above 1
    assert np.abs(audio.normalize_loudness(clicks, peak_limit=0.98)).max() <= 0.98 + 1e-6


def test_match_clips_equal_length_loudness_and_fade():
    clips = [_sine(3.0, 0.3), _sine(2.0, 0.02, freq=330.0), _sine(2.5, 0.1, freq=550.0)]
    matched = audio.match_clips(clips, fade=0.25)
    assert {len(c.samples) for c in matched} == {2 * SR}
    levels = [audio.loudness_db(c.samples[: int(1.5 * SR)]) for c in matched]
    assert max(levels) - min(levels) < 0.1 and abs(levels[0] - (-20.0)) < 0.1
    assert all(abs(c.samples[-1]) < 1e-3 and c.soundfont == "test.sf2" for c in matched)
    padded = audio.match_clips(clips, length=4.0)
    assert {len(c.samples) for c in padded} == {4 * SR}
    with pytest.raises(ValueError, match="sample rate"):
        audio.match_clips([_sine(1.0, 0.1), _sine(1.0, 0.1, sr=16000)])
    assert audio.match_clips([]) == []


def test_match_clips_lowers_everyone_when_one_clip_hits_the_peak_limit():
    spiky = np.zeros(2 * SR, dtype=np.float32)
    spiky[::1000] = 0.5
    clips = [audio.Clip(samples=spiky, sample_rate=SR, soundfont="a.sf2"), _sine(2.0, 0.1)]
    a, b = audio.match_clips(clips, fade=0.0)
    assert np.abs(a.samples).max() <= 0.98 + 1e-6
    assert abs(audio.loudness_db(a.samples) - audio.loudness_db(b.samples)) < 0.1


# ---- encodings ---------------------------------------------------------------------------------


def test_ogg_round_trip_and_deterministic_bytes():
    clip = _sine(1.5, 0.3)
    data = audio.encode_ogg(clip)
    assert data[:4] == b"OggS" and data == audio.encode_ogg(clip)
    decoded, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == SR and len(decoded) == len(clip.samples)
    assert np.abs(decoded - clip.samples).max() < 0.05


def test_wav_is_16_bit_pcm():
    clip = _sine(1.0, 0.5)
    data = audio.encode_wav(clip)
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.frames) == ("WAV", "PCM_16", SR, SR)
    assert len(data) == 44 + 2 * SR  # header + samples, nothing else
    decoded, _ = sf.read(io.BytesIO(data), dtype="float32")
    assert np.abs(decoded - clip.samples).max() < 1e-4


# ---- soundfont resolution and missing library --------------------------------------------------


def test_resolve_soundfont_honours_env(monkeypatch, tmp_path):
    custom = tmp_path / "my bank.sf2"
    custom.write_bytes(b"RIFF")
    monkeypatch.setenv(synth.SOUNDFONT_ENV, str(custom))
    assert synth.resolve_soundfont() == custom.resolve()


def test_resolve_soundfont_missing_env_path_says_so(monkeypatch, tmp_path):
    missing = tmp_path / "nope.sf2"
    monkeypatch.setenv(synth.SOUNDFONT_ENV, str(missing))
    with pytest.raises(synth.SynthUnavailableError, match=r"soundfont not found at \$MUSICGEN_SOUNDFONT=.*nope\.sf2"):
        synth.resolve_soundfont()
    ok, message = synth.synth_available()
    assert not ok and "MUSICGEN_SOUNDFONT" in message


def test_resolve_soundfont_falls_back_to_pretty_midi_bank(monkeypatch):
    monkeypatch.delenv(synth.SOUNDFONT_ENV, raising=False)
    monkeypatch.setattr(synth, "SYSTEM_SOUNDFONTS", ("/nonexistent/GM.sf2",))
    path = synth.resolve_soundfont()
    assert path.name == "TimGM6mb.sf2" and path.parent.name == "pretty_midi"


def _fail_import(monkeypatch, exc: Exception) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "fluidsynth":
            raise exc
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.parametrize("exc", [ImportError("Couldn't find the FluidSynth library."),
                                 OSError("libfluidsynth.so.3: cannot open shared object file")])
def test_missing_library_gives_the_install_command(monkeypatch, exc):
    _fail_import(monkeypatch, exc)
    ok, message = synth.synth_available()
    assert not ok and "FluidSynth library not found" in message and "apt-get install libfluidsynth3" in message
    with pytest.raises(synth.SynthUnavailableError, match="libfluidsynth3"):
        synth.render_audio(_seq((0.0, 60, 0.5)), sample_rate=11111)  # an uncached engine must import


def test_missing_python_package_says_pip(monkeypatch):
    _fail_import(monkeypatch, ModuleNotFoundError("No module named 'fluidsynth'", name="fluidsynth"))
    ok, message = synth.synth_available()
    assert not ok and "pip install pyfluidsynth" in message


def test_explicit_missing_soundfont_is_clear(tmp_path):
    with pytest.raises(synth.SynthUnavailableError, match="soundfont not found"):
        synth.render_audio(_seq((0.0, 60, 0.5)), soundfont=tmp_path / "missing.sf2")


def test_import_never_needs_fluidsynth():
    source = Path(synth.__file__).read_text()
    assert "\nimport fluidsynth" not in source and "\nfrom fluidsynth" not in source


def test_importing_the_library_prints_nothing_even_on_ci():
    # pyfluidsynth prints where it found the C library when $CI is set; on CI that line broke parsed stdout
    import os
    import subprocess
    import sys

    code = "import musicgen.midi, musicgen.synth; musicgen.synth.synth_available()"
    env = {**os.environ, "CI": "true"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out == ""
