"""Blind clips' bytes carry no sign of how much music is in them (scripts/clip_bytes_audit.py measures a
whole study; these check the cause on a small sample, without FluidSynth)."""

from __future__ import annotations

import numpy as np

from musicgen.audio import Clip, encode_blind, mp3_frames, mp3_unused_share

SR = 22050


def _dense(seconds: float = 4.0) -> Clip:
    """A busy clip: a chord of decaying partials restruck every 1/4 s."""
    t = np.arange(int(seconds * SR)) / SR
    env = np.exp(-6 * (t % 0.25))
    x = sum(np.sin(2 * np.pi * f * t) for f in (220, 277.2, 329.6, 440, 659.3)) * env
    return Clip((0.1 * x).astype(np.float32), SR, "test")


def _sparse(seconds: float = 4.0) -> Clip:
    """A silence-heavy clip: one note, then digital silence (a rest, a release tail cut to zero)."""
    x = _dense(seconds).samples.copy()
    x[int(0.6 * SR):] = 0.0
    return Clip(x, SR, "test")


def test_blind_mp3_frames_are_full_whatever_the_clip_holds():
    dense, sparse = encode_blind(_dense()), encode_blind(_sparse())
    assert len(dense) == len(sparse)  # constant bitrate, equal length: equal size, as before
    assert abs(mp3_unused_share(dense) - mp3_unused_share(sparse)) < 0.03
    assert mp3_unused_share(sparse) < 0.1
    # LAME's padding strings ("LAME3.100" + 0x55 runs) no longer pile up in the quiet clip, and no Info tag
    assert sparse.count(b"LAME") == dense.count(b"LAME") == 0
    assert not any(f.tag for f in mp3_frames(sparse))


def test_without_the_noise_floor_the_silent_clip_is_padding():
    """The cause the audit found: what the fix removes (CBR frames of silence are mostly padding)."""
    from musicgen.audio import _encode

    legacy = _encode(_sparse(), "MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=0.5)
    assert mp3_unused_share(legacy) > 0.5
    assert legacy.count(b"LAME") > 5 * encode_blind(_sparse()).count(b"LAME")


def test_blind_encoding_stays_deterministic_constant_bitrate_mp3():
    a, b = encode_blind(_sparse()), encode_blind(_sparse())
    assert a == b
    frames = mp3_frames(a)
    assert len({f.size for f in frames if not f.tag} - {max(f.size for f in frames) - 1}) == 1  # CBR (+padding bit)
    assert not a.startswith(b"ID3")


def test_the_padding_is_scrubbed_and_the_sound_is_untouched():
    import io

    import soundfile

    from musicgen.audio import _encode, scrub_mp3_padding

    for clip in (_dense(), _sparse()):
        raw = _encode(clip, "MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=0.5)
        scrubbed = scrub_mp3_padding(raw)
        tag = next(f for f in mp3_frames(raw) if f.tag)
        assert len(scrubbed) == len(raw) - tag.size and scrubbed != raw[tag.size:]
        assert scrubbed.count(b"LAME") == 0 and b"UUUU" not in scrubbed  # nothing names the encoder
        untagged = raw[:tag.offset] + raw[tag.offset + tag.size:]
        tagged, plain, after = (soundfile.read(io.BytesIO(b), dtype="float32")[0] for b in (raw, untagged, scrubbed))
        assert np.array_equal(plain, after)  # decoders skip the bytes no granule uses: scrubbing changes no sample
        # without the tag a decoder also plays the encoder's lead-in (1105 samples) and the last frame whole
        lead = len(after) - len(tagged)
        assert 0 < lead < 0.1 * SR
        assert np.allclose(after[1105:1105 + len(tagged)], tagged, atol=1e-6)
        assert [f.used_bits for f in mp3_frames(raw) if not f.tag] == [f.used_bits for f in mp3_frames(scrubbed)]


def test_blind_encoding_is_fast_enough_to_serve_trials():
    """Not a timing test: the work it does. Scrubbing walks the frames once with numpy (the Info tag's CRCs,
    recomputed in Python, used to cost 0.15 s per clip); counted in bytes touched by Python loops: none."""
    import inspect

    from musicgen import audio

    assert not hasattr(audio, "_crc16")
    assert "for byte in" not in inspect.getsource(audio.scrub_mp3_padding)
