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
    peak_limit: float = 0.98, gain_from_seconds: float | None = None,
) -> list[Clip]:
    """Same length (default: the shortest), same loudness, same fade-out: for blind comparison.

    If any clip cannot reach the target without passing `peak_limit`, all clips are matched to the
    loudest level that clip can reach, so loudness never gives a model away.

    `gain_from_seconds` (continuation trials, whose clips share their opening): one gain for every clip, the
    one that brings the first clip's first `gain_from_seconds` to the target (lowered until no clip passes
    `peak_limit`), so the shared opening sounds exactly the same in each clip.
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
    shared_gain = None
    if gain_from_seconds is not None:
        head = cut[0][:max(1, int(round(gain_from_seconds * sr)))]
        shared_gain = _gain_for(head, target_rms_db, np.inf, sr)
        peaks = [float(np.max(np.abs(x))) for x in cut if x.size]
        if peaks and max(peaks) > 0:
            shared_gain = min(shared_gain, peak_limit / max(peaks))
    matched = []
    for clip, x in zip(clips, cut):
        y = (x * np.float32(shared_gain)).astype(np.float32) if shared_gain is not None else \
            normalize_loudness(x, target, peak_limit, sample_rate=sr)
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


BLIND_NOISE_FLOOR_DB = -90.0  # RMS of the noise floor added before blind encoding (dBFS): ~16-bit dither level
_BLIND_NOISE_SEED = 0x6D757367


def blind_noise_floor(n: int) -> np.ndarray:
    """A fixed (seeded) triangular-PDF noise floor of `n` samples at BLIND_NOISE_FLOOR_DB RMS, ~70 dB below
    a matched clip's level: the dither a 16-bit master would carry, inaudible, the same for every clip."""
    rng = np.random.default_rng(_BLIND_NOISE_SEED)
    tpdf = rng.random(n) - rng.random(n)  # RMS 1/sqrt(6)
    return (tpdf * (10 ** (BLIND_NOISE_FLOOR_DB / 20) * np.sqrt(6))).astype(np.float32)


def encode_blind(clip: Clip) -> bytes:
    """Constant-bitrate MP3 (~80 kbit/s mono) for blind trials, with nothing in the bytes but the sound.

    Clips of equal length give files of exactly equal size whatever they contain (variable-bitrate Vorbis
    sizes follow the content). A CBR frame's bits are not all used, though: LAME fills what a frame does
    not need (digital silence, a rest, a held note's tail) with padding bytes ("LAME3.100", 0x55 runs), and an
    audit found the padding count telling the real piece from its model partner in 21 of 24 trials. So a
    fixed dither-level noise floor (`blind_noise_floor`) is added first (no frame is digitally silent), the
    bytes no granule uses are overwritten with bytes drawn from the file's own coded data (`scrub_mp3_padding`;
    decoders skip them, the audio is bit-identical) and the encoder's Info tag frame is left out. scripts/clip_bytes_audit.py measures it: a classifier on the
    encoder's artifacts (padding strings, byte runs, unused bits, frame layout, tag) fell from 68 % of trials
    (p = 0.003) to 51 % (p = 0.91). The byte entropy of the coded sound itself still leans to the real piece
    (50 of 72 trials); PCM bytes of the same clips do not (see the script)."""
    noisy = Clip(samples=clip.samples + blind_noise_floor(len(clip.samples)), sample_rate=clip.sample_rate,
                 soundfont=clip.soundfont)
    return scrub_mp3_padding(_encode(noisy, "MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=0.5))


# ---- what an MP3's frames spend (for audits of blind clips) -------------------------------------------------
_MP3_KBPS = {3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 (LSF)
             0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}  # MPEG-2.5
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Mp3Frame:
    """One Layer III frame: where it starts, its size, the main-data bytes it carries and the bits its
    granules use (part2_3_length summed); `tag`: the Xing/Info header frame LAME writes first."""

    offset: int
    size: int
    main_bytes: int
    used_bits: int
    tag: bool
    main_data_begin: int = 0  # how many bytes before this frame's main data slot its granules' data begins

    @property
    def main_offset(self) -> int:
        """Where this frame's main-data slot starts in the file (after header, CRC and side information)."""
        return self.offset + self.size - self.main_bytes


def mp3_frames(data: bytes) -> list[Mp3Frame]:
    """The Layer III frames of an MP3 (headers and side information only; nothing is decoded)."""
    frames, pos = [], 0
    while pos + 4 <= len(data):
        h = int.from_bytes(data[pos:pos + 4], "big")
        version, layer, crc = (h >> 19) & 3, (h >> 17) & 3, not (h >> 16) & 1
        rate_i, kbps_i, padding, mono = (h >> 10) & 3, (h >> 12) & 15, (h >> 9) & 1, ((h >> 6) & 3) == 3
        if h >> 21 != 0x7FF or layer != 1 or version == 1 or kbps_i in (0, 15) or rate_i == 3:
            pos += 1
            continue
        lsf = version != 3
        size = (72 if lsf else 144) * _MP3_KBPS[version][kbps_i] * 1000 // _MP3_RATES[version][rate_i] + padding
        side_len = (9 if mono else 17) if lsf else (17 if mono else 32)
        side = pos + 4 + 2 * crc
        bits, nbits = int.from_bytes(data[side:side + side_len], "big"), side_len * 8
        off = (8 + (1 if mono else 2)) if lsf else (9 + (5 if mono else 3) + (4 if mono else 8))
        begin = bits >> (nbits - (8 if lsf else 9))
        used = 0
        for _ in range((1 if lsf else 2) * (1 if mono else 2)):  # granules x channels
            used += (bits >> (nbits - off - 12)) & 0xFFF
            off += 63 if lsf else 59
        tag = any(m in data[side:side + side_len + 8] for m in (b"Xing", b"Info"))
        frames.append(Mp3Frame(offset=pos, size=size, main_bytes=size - 4 - 2 * crc - side_len, used_bits=used,
                               tag=tag, main_data_begin=begin))
        pos += size
    return frames


def scrub_mp3_padding(data: bytes, *, seed: int = _BLIND_NOISE_SEED) -> bytes:
    """The same MP3 with the bytes no granule uses (LAME's padding: "LAME3.100" strings, 0x55 runs, ancillary
    data) overwritten by bytes drawn (seeded) from the file's own coded data, so neither padding strings nor the
    byte histogram (entropy) show how much was padding. Decoders skip those bytes: the audio is unchanged. What
    is left of a frame's fill can only be read from its side information (`mp3_unused_share`). The Info tag
    frame is left out (`_without_info_frame`), so the file no longer names its encoder anywhere."""
    frames = [f for f in mp3_frames(data) if not f.tag]
    if not frames:
        return data
    # the main-data stream: every frame's slot, one after another; positions in it map back to file offsets
    starts, pos = [], 0
    for f in frames:
        starts.append(pos)
        pos += f.main_bytes
    where = np.concatenate([np.arange(f.main_offset, f.main_offset + f.main_bytes) for f in frames])
    used = np.zeros(pos, dtype=bool)
    for f, start in zip(frames, starts):
        begin = start - f.main_data_begin
        if begin < 0:
            return data  # not the layout we expect: leave the file as LAME wrote it
        used[begin:min(pos, begin + (f.used_bits + 7) // 8)] = True
    spare, kept = where[~used], where[used]
    out = np.frombuffer(data, dtype=np.uint8).copy()
    if spare.size and kept.size:  # bytes drawn from the file's own coded data: its byte histogram stays as it was
        out[spare] = out[kept[np.random.default_rng(seed).integers(0, kept.size, spare.size)]]
    return _without_info_frame(data, out.tobytes())


def _without_info_frame(before: bytes, after: bytes) -> bytes:
    """`after` without LAME's Info frame (the first, empty frame holding the Xing/LAME tag).

    The tag keeps two CRC-16s, of itself and of every byte after it; after scrubbing they no longer match.
    Recomputing them in Python took 0.15 s per clip (3/4 of a trial's audio time, which the listening
    server pays for every trial), and the tag only names the encoder and its delay: without it a decoder
    plays the encoder's ~50 ms of lead-in silence and the last frame whole, the same in every clip, and a
    browser reads a CBR file's duration from its size. Decoded samples are otherwise unchanged."""
    tag = next((f for f in mp3_frames(before) if f.tag), None)
    if tag is None:
        return after
    return after[:tag.offset] + after[tag.offset + tag.size:]




def mp3_unused_share(data: bytes) -> float:
    """Share of an MP3's main-data bits its granules do not use (padding, ancillary data); 0..1."""
    frames = [f for f in mp3_frames(data) if not f.tag]
    capacity = sum(f.main_bytes for f in frames) * 8
    return max(0.0, 1.0 - sum(f.used_bits for f in frames) / capacity) if capacity else 0.0


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
