"""Audio clips after synthesis: loudness, matching clips for blind comparison, browser encodings.

Pure numpy + soundfile, no FluidSynth: clips made anywhere can be matched and encoded here.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare or hash as values
class Clip:
    """Mono float32 audio in -1..1, with the sample rate and the soundfont file name that made it."""

    samples: np.ndarray
    sample_rate: int
    soundfont: str

    def __post_init__(self) -> None:
        samples = np.ascontiguousarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Clip samples must be mono (1-D), got shape {samples.shape}")
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


_GATE_BLOCK = 0.05  # seconds per loudness block
_ABS_GATE_DB = -70.0  # blocks quieter than this are silence
_REL_GATE_DB = -20.0  # ... and so are blocks this far below the loud part (pauses, release tails)


def loudness_db(samples: np.ndarray, sample_rate: int = 22050) -> float:
    """Gated RMS level in dBFS: mean power of the 50 ms blocks that are not (near) silent.

    Gating as in EBU R128, without its filter: pauses and long tails do not make a sparse clip
    count as quiet. Returns -inf for silence.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return float("-inf")
    block = max(1, int(_GATE_BLOCK * sample_rate))
    starts = np.arange(0, x.size, block)
    power = np.add.reduceat(x * x, starts) / np.diff(np.append(starts, x.size))  # last block may be short
    with np.errstate(divide="ignore"):
        level = 10 * np.log10(power)
    kept = power[level > _ABS_GATE_DB]
    if kept.size == 0:
        return float("-inf")
    kept = kept[10 * np.log10(kept) > 10 * np.log10(kept.mean()) + _REL_GATE_DB]
    return float(10 * np.log10(kept.mean()))


def _gain_for(samples: np.ndarray, target_db: float, peak_limit: float, sample_rate: int) -> float:
    level = loudness_db(samples, sample_rate)
    if not np.isfinite(level):
        return 1.0
    gain = 10 ** ((target_db - level) / 20)
    peak = float(np.max(np.abs(samples)))
    return min(gain, peak_limit / peak) if peak > 0 else gain


def normalize_loudness(
    samples: np.ndarray, target_rms_db: float = -20.0, peak_limit: float = 0.98, *, sample_rate: int = 22050
) -> np.ndarray:
    """Scale to `target_rms_db` gated RMS (see `loudness_db`), lowered if a peak would pass `peak_limit`.

    Pure gain (no limiter, no distortion); silent input stays silent.
    """
    x = np.asarray(samples, dtype=np.float32)
    return (x * np.float32(_gain_for(x, target_rms_db, peak_limit, sample_rate))).astype(np.float32)


def match_clips(
    clips: list[Clip], *, length: float | None = None, fade: float = 0.25, target_rms_db: float = -20.0,
    peak_limit: float = 0.98,
) -> list[Clip]:
    """Same length (default: the shortest), same loudness, same fade-out: for blind comparison.

    If any clip cannot reach the target without passing `peak_limit`, all clips are matched to the
    loudest level that clip can reach, so loudness never gives a model away.
    """
    if not clips:
        return []
    rates = {c.sample_rate for c in clips}
    if len(rates) != 1:
        raise ValueError(f"clips to match must share one sample rate, got {sorted(rates)}")
    sr = rates.pop()
    n = int(round(length * sr)) if length is not None else min(len(c.samples) for c in clips)
    cut = [np.pad(c.samples[:n], (0, max(0, n - len(c.samples)))) for c in clips]
    target = target_rms_db
    for x in cut:  # the level each clip can reach within the peak limit
        level = loudness_db(x, sr)
        if np.isfinite(level):
            target = min(target, level + 20 * np.log10(_gain_for(x, target_rms_db, peak_limit, sr)))
    n_fade = min(int(round(fade * sr)), n)
    ramp = np.linspace(1.0, 0.0, n_fade, dtype=np.float32) if n_fade else None
    matched = []
    for clip, x in zip(clips, cut):
        y = normalize_loudness(x, target, peak_limit, sample_rate=sr)
        if ramp is not None:
            y[n - n_fade:] *= ramp
        matched.append(Clip(samples=y, sample_rate=sr, soundfont=clip.soundfont))
    return matched


# ---- encodings for the browser -----------------------------------------------------------------


def _encode(clip: Clip, format: str, subtype: str, **kwargs) -> bytes:
    import soundfile  # loads libsndfile: only when audio is encoded

    out = io.BytesIO()
    with soundfile.SoundFile(
        out, mode="w", samplerate=clip.sample_rate, channels=1, format=format, subtype=subtype, **kwargs
    ) as f:
        f.write(np.clip(clip.samples, -1.0, 1.0))
    return out.getvalue()


def encode_ogg(clip: Clip, *, quality: float = 0.4) -> bytes:
    """OGG Vorbis, VBR `quality` 0..1 (~45-50 kB/s of mono 22 kHz piano at 0.4), identical bytes for
    identical audio. Plays in Chrome, Firefox and Edge. The only tag is libsndfile's ENCODER=libsndfile.
    """
    return _fix_ogg_serial(_encode(clip, "OGG", "VORBIS", compression_level=1.0 - quality))


def encode_mp3(clip: Clip) -> bytes:
    """MP3 (LAME via libsndfile) for browsers without Vorbis (older Safari); deterministic, no ID3 tags."""
    return _encode(clip, "MP3", "MPEG_LAYER_III")


def encode_blind(clip: Clip) -> bytes:
    """Constant-bitrate MP3 (~80 kbit/s mono) for blind trials: clips of equal length give files of
    exactly equal size whatever they contain, so a participant cannot tell systems apart by the bytes
    (variable-bitrate Vorbis sizes follow the content, and busier models make bigger files)."""
    return _encode(clip, "MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=0.5)


def encode_wav(clip: Clip) -> bytes:
    """16-bit PCM WAV: a 44-byte header (fmt + data chunks), no metadata."""
    return _encode(clip, "WAV", "PCM_16")


_OGG_SERIAL = 0x6D757367  # fixed stream serial ("musg"); libsndfile picks a random one per file
_BITREV = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (poly 0x04C11DB7, MSB first, init 0) via zlib's reflected CRC on bit-reversed bytes."""
    reflected = zlib.crc32(page.translate(_BITREV), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _fix_ogg_serial(data: bytes) -> bytes:
    """Same audio -> same bytes: replace the random stream serial in every page and redo its CRC."""
    out = bytearray(data)
    pos = 0
    while pos + 27 <= len(out) and out[pos:pos + 4] == b"OggS":
        n_segments = out[pos + 26]
        size = 27 + n_segments + sum(out[pos + 27:pos + 27 + n_segments])
        out[pos + 14:pos + 18] = _OGG_SERIAL.to_bytes(4, "little")
        out[pos + 22:pos + 26] = bytes(4)
        out[pos + 22:pos + 26] = _ogg_crc(bytes(out[pos:pos + size])).to_bytes(4, "little")
        pos += size
    if pos != len(out):  # not the page layout we expect: keep libsndfile's output untouched
        return data
    return bytes(out)
