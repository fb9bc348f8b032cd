"""NoteSequence -> audio with FluidSynth, and soundfont resolution (clips, loudness and encodings: audio.py).

Each soundfont is loaded once per (soundfont, sample rate) and cached for the process; renders are
serialised by a lock and each runs on a fresh synthesizer sharing that soundfont, so the same sequence
always gives bit-identical samples whatever was rendered before.
`import musicgen.synth` never fails: FluidSynth is imported lazily and a missing library surfaces as
`SynthUnavailableError`, whose message says what to install.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import threading
from pathlib import Path

import numpy as np

from musicgen.audio import Clip, encode_ogg, normalize_loudness
from musicgen.sequence import NoteSequence

SOUNDFONT_ENV = "MUSICGEN_SOUNDFONT"
# Full General MIDI banks, best first (Debian/Ubuntu fluid-soundfont-gm, musescore-general-soundfont,
# Fedora/Arch layouts). default-GM.sf2 is Debian's alternatives link to whichever GM bank is installed.
SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/MuseScore_General.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_LIB = "install it with `sudo apt-get install libfluidsynth3` (macOS: `brew install fluid-synth`)"
INSTALL_SOUNDFONT = (
    f"set ${SOUNDFONT_ENV} to a .sf2 file, or install a General MIDI bank with "
    "`sudo apt-get install fluid-soundfont-gm`"
)

_BLOCK = 64  # FluidSynth renders in blocks of 64 frames and applies events at block boundaries.
_GAIN = 0.6  # headroom: dense chords stay below full scale before normalisation.
_FLUID_WARN = 2  # FluidSynth's log level for warnings
_END_FADE = 0.05  # seconds of fade at the very end of a render, so a cut release never clicks.


class SynthUnavailableError(RuntimeError):
    """FluidSynth or a soundfont is missing; the message says how to fix it."""


# ---- soundfont and library ---------------------------------------------------------------------


def resolve_soundfont() -> Path:
    """$MUSICGEN_SOUNDFONT if set, else an installed General MIDI bank, else pretty_midi's TimGM6mb."""
    env = os.environ.get(SOUNDFONT_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise SynthUnavailableError(
                f"soundfont not found at ${SOUNDFONT_ENV}={env}: point it at an existing .sf2 file or unset it"
            )
        return path.resolve()
    for candidate in SYSTEM_SOUNDFONTS:
        path = Path(candidate)
        if path.is_file():
            return path.resolve()  # resolves default-GM.sf2 to the real bank's name
    try:
        import pretty_midi  # only for its bundled soundfont, and only when no other is installed

        bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    except ImportError:
        bundled = None
    if bundled is not None and bundled.is_file():
        return bundled.resolve()
    raise SynthUnavailableError(f"no soundfont found: {INSTALL_SOUNDFONT}")


def _import_fluidsynth():
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the library's path when $CI is set (see midi.py)
            import fluidsynth  # loads the FluidSynth C library: a missing one becomes SynthUnavailableError here
    except ModuleNotFoundError as exc:
        if exc.name != "fluidsynth":
            raise
        raise SynthUnavailableError(
            "Python package pyfluidsynth not installed: install it with `pip install pyfluidsynth`"
        ) from exc
    except (ImportError, OSError) as exc:
        raise SynthUnavailableError(f"FluidSynth library not found: {INSTALL_LIB} ({exc})") from exc
    return fluidsynth


def synth_available() -> tuple[bool, str]:
    """(ok, message) for the UI; cheap: checks the library and the soundfont file, loads nothing.

    When both are missing the message names both fixes.
    """
    problems = []
    for check in (_import_fluidsynth, resolve_soundfont):
        try:
            found = check()
        except SynthUnavailableError as exc:
            problems.append(str(exc))
    if problems:
        return False, "; ".join(problems)
    return True, f"FluidSynth ready with soundfont {found.name}"


# ---- rendering ---------------------------------------------------------------------------------


def _bind(lib, name: str, restype, *argtypes):
    """A private ctypes prototype (leaves pyfluidsynth's own bindings untouched)."""
    return ctypes.CFUNCTYPE(restype, *argtypes)((name, lib))


class _Engine:
    """A soundfont loaded once into a holder synth; each render runs on a fresh synth sharing it.

    Why fresh: FluidSynth reuses voice memory without resetting all of it (e.g. filter ramps), so
    after `system_reset` a re-used synth still sounds slightly different depending on what it
    played before. A new synth costs ~0.3 ms; the soundfont (the slow part) is never reloaded.
    """

    def __init__(self, soundfont: Path, sample_rate: int) -> None:
        fs = _import_fluidsynth()
        lib, P, I = fs._fl, ctypes.c_void_p, ctypes.c_int
        self._new = _bind(lib, "new_fluid_synth", P, P)
        self._delete = _bind(lib, "delete_fluid_synth", None, P)
        self._add_sfont = _bind(lib, "fluid_synth_add_sfont", I, P, P)
        self._remove_sfont = _bind(lib, "fluid_synth_remove_sfont", I, P, P)
        self._program_select = _bind(lib, "fluid_synth_program_select", I, P, I, I, I, I)
        self._noteon = _bind(lib, "fluid_synth_noteon", I, P, I, I, I)
        self._noteoff = _bind(lib, "fluid_synth_noteoff", I, P, I, I)
        self._write = _bind(lib, "fluid_synth_write_float", I, P, I, P, I, I, P, I, I)
        # A synth without a soundfont warns "No preset found" for every channel: silence warnings.
        _bind(lib, "fluid_set_log_function", P, I, P, P)(_FLUID_WARN, None, None)
        self.lock = threading.Lock()
        self.soundfont = soundfont
        self.sample_rate = sample_rate
        # Reverb gives the dry GM piano a room; chorus is unused by most GM presets and costs time.
        self._holder = fs.Synth(
            gain=_GAIN,
            samplerate=sample_rate,
            channels=16,
            **{
                "synth.reverb.active": 1,
                "synth.chorus.active": 0,
                "synth.cpu-cores": 1,
                "synth.lock-memory": 0,
            },
        )
        sfid = self._holder.sfload(str(soundfont))
        get_sfont = _bind(lib, "fluid_synth_get_sfont_by_id", P, P, I)
        self._sfont = get_sfont(self._holder.synth, sfid) if sfid >= 0 else None
        if not self._sfont:
            self._holder.delete()
            raise SynthUnavailableError(f"FluidSynth could not load soundfont {soundfont}: is it a valid .sf2 file?")

    def render(self, seq: NoteSequence, n_frames: int) -> np.ndarray:
        sr = self.sample_rate
        padded = -(-max(n_frames, 1) // _BLOCK) * _BLOCK  # whole blocks: events land on block edges

        def frame(t: float) -> int:
            return min(int(round(t * sr / _BLOCK)) * _BLOCK, padded)

        events = []  # (frame, 0 = off before 1 = on at the same frame, pitch, velocity)
        for note in seq.notes:
            on = frame(note.start)
            if on < padded:
                events.append((on, 1, note.pitch, note.velocity))
                events.append((min(max(frame(note.end), on + _BLOCK), padded), 0, note.pitch, 0))
        events.sort()

        buf = np.zeros(padded * 2, dtype=np.float32)  # interleaved stereo
        base = buf.ctypes.data
        with self.lock:
            synth = self._new(self._holder.settings)
            if not synth:
                raise SynthUnavailableError("FluidSynth could not create a synthesizer (out of memory?)")
            try:
                sfid = self._add_sfont(synth, self._sfont)
                if self._program_select(synth, 0, sfid, 0, seq.program) != 0:
                    self._program_select(synth, 0, sfid, 0, 0)  # soundfont lacks the program: piano
                sounding = [0] * 128  # overlapping same-pitch notes: release when the last one ends
                pos = 0
                for at, is_on, pitch, velocity in events:
                    if at > pos:
                        ptr = base + pos * 8
                        self._write(synth, at - pos, ptr, 0, 2, ptr, 1, 2)
                        pos = at
                    if is_on:
                        sounding[pitch] += 1
                        self._noteon(synth, 0, pitch, velocity)
                    else:
                        sounding[pitch] -= 1
                        if sounding[pitch] == 0:
                            self._noteoff(synth, 0, pitch)
                if padded > pos:
                    ptr = base + pos * 8
                    self._write(synth, padded - pos, ptr, 0, 2, ptr, 1, 2)
            finally:
                self._remove_sfont(synth, self._sfont)  # detach, so deleting the synth keeps the soundfont
                self._delete(synth)
        stereo = buf.reshape(-1, 2)[:n_frames]
        return (stereo[:, 0] + stereo[:, 1]) * np.float32(0.5)  # 7× faster than .mean(axis=1)


_ENGINES: dict[tuple[str, int], _Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(soundfont: Path, sample_rate: int) -> _Engine:
    key = (str(soundfont), int(sample_rate))
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _Engine(soundfont, int(sample_rate))
        return engine


def render_audio(
    seq: NoteSequence, *, sample_rate: int = 22050, soundfont: str | os.PathLike | None = None, tail: float = 0.5
) -> Clip:
    """Synthesize `seq` on channel 0 with its GM program; length = seq.duration + tail seconds.

    Note times are applied on FluidSynth's 64-frame grid (2.9 ms at 22.05 kHz).
    """
    if sample_rate <= 0 or tail < 0:
        raise ValueError("sample_rate must be positive and tail non-negative")
    if soundfont is None:
        path = resolve_soundfont()
    else:
        path = Path(soundfont).expanduser()
        if not path.is_file():
            raise SynthUnavailableError(f"soundfont not found at {path}: {INSTALL_SOUNDFONT}")
        path = path.resolve()
    n_frames = int(round((seq.duration + tail) * sample_rate))
    if not seq.notes:  # exact silence (FluidSynth's reverb leaks ~1e-8 even when nothing plays)
        return Clip(samples=np.zeros(n_frames, dtype=np.float32), sample_rate=sample_rate, soundfont=path.name)
    samples = _engine(path, sample_rate).render(seq, n_frames)
    fade = min(int(_END_FADE * sample_rate), int(tail * sample_rate), len(samples))
    if fade > 0:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    np.clip(samples, -1.0, 1.0, out=samples)
    return Clip(samples=samples, sample_rate=sample_rate, soundfont=path.name)


# ---- loudness and blind-comparison matching ----------------------------------------------------


def render_for_browser(seq: NoteSequence, *, sample_rate: int = 22050) -> tuple[bytes, Clip]:
    """render_audio + normalize_loudness + encode_ogg; returns (ogg bytes, the normalised clip)."""
    clip = render_audio(seq, sample_rate=sample_rate)
    clip = Clip(
        samples=normalize_loudness(clip.samples, sample_rate=sample_rate),
        sample_rate=clip.sample_rate,
        soundfont=clip.soundfont,
    )
    return encode_ogg(clip), clip
