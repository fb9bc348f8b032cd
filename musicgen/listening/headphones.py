"""The headphone check of Woods et al. (2017), made here with numpy: which of three tones is quietest?

Each trial plays three 200 Hz tones one after another. One is 6 dB quieter than the others (the right
answer); one is in antiphase between the left and right channels. Over headphones the antiphase tone sounds
as loud as the reference; over loudspeakers its two channels cancel in the air and it sounds quietest, so a
listener on loudspeakers picks it and fails. Six trials; a pass is at least five right.

Woods, K. J. P., Siegel, M. H., Traer, J., & McDermott, J. H. (2017). Headphone screening to facilitate
web-based auditory experiments. Attention, Perception, & Psychophysics, 79(7), 2064-2072.

The order of the three tones in every trial comes from an HMAC of the store's secret, the study and the
participant, so it is the same after a reload and cannot be guessed from the page (the answers are checked
on the server). `trial_audio` returns a stereo 16-bit WAV.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import wave

import numpy as np

TRIALS = 6
PASS_MARK = 5  # right answers needed out of TRIALS
FREQUENCY = 200.0  # Hz
TONE_SECONDS = 1.0
GAP_SECONDS = 0.5
RAMP_SECONDS = 0.1  # raised-cosine on/off ramps, so no clicks give a tone away
SAMPLE_RATE = 16_000
LEVEL = 0.4  # the reference tones' amplitude (full scale 1)
QUIET_DB = -6.0
TONES = ("reference", "antiphase", "quiet")
_ORDERS = list(itertools.permutations(range(3)))  # 6 orders of the three tones


def tone(kind: str, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One tone as a (samples, 2) float array: `reference`, `antiphase` (right channel inverted) or `quiet`."""
    t = np.arange(int(TONE_SECONDS * sample_rate)) / sample_rate
    ramp = int(RAMP_SECONDS * sample_rate)
    envelope = np.ones_like(t)
    envelope[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    envelope[-ramp:] = envelope[:ramp][::-1]
    gain = LEVEL * (10 ** (QUIET_DB / 20) if kind == "quiet" else 1.0)
    mono = gain * envelope * np.sin(2 * np.pi * FREQUENCY * t)
    right = -mono if kind == "antiphase" else mono
    return np.stack([mono, right], axis=1)


def order(secret: bytes, study_id: str, participant_id: str, trial: int) -> tuple[str, ...]:
    """The three tones of trial `trial` (0-based) for this participant, in the order played."""
    digest = hmac.new(secret, f"headphones:{study_id}:{participant_id}:{trial}".encode(), hashlib.sha256).digest()
    return tuple(TONES[i] for i in _ORDERS[digest[0] % len(_ORDERS)])


def answer_key(secret: bytes, study_id: str, participant_id: str) -> list[int]:
    """The right answer (1, 2 or 3: the quiet tone's place) of every trial."""
    return [order(secret, study_id, participant_id, i).index("quiet") + 1 for i in range(TRIALS)]


def trial_audio(secret: bytes, study_id: str, participant_id: str, trial: int) -> bytes:
    """Trial `trial`'s three tones with gaps, as a stereo 16-bit WAV."""
    gap = np.zeros((int(GAP_SECONDS * SAMPLE_RATE), 2))
    parts = []
    for i, kind in enumerate(order(secret, study_id, participant_id, trial)):
        parts += ([gap] if i else []) + [tone(kind)]
    return wav_bytes(np.concatenate(parts))


def wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).round().astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def score(secret: bytes, study_id: str, participant_id: str, answers: list[int]) -> int:
    """How many of the answers (1-3 per trial, in order) picked the quiet tone."""
    return sum(int(a) == k for a, k in zip(answers, answer_key(secret, study_id, participant_id)))


def passed(correct: int) -> bool:
    return correct >= PASS_MARK
