"""Process-wide resources for the app: models, held-out piece lists, rendered audio, the vote store.

Every page goes through this module, so importing it also sets the process's torch settings once
(`runtime.configure("sample")`: models never toggle them). Models come from `systems.load_system_model`,
the one per-process model cache (shared with every session and caller); here it only gets a spinner.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import streamlit as st

from musicgen import runtime, systems
from musicgen.audio import encode_wav
from musicgen.checkpoints import LoadedCheckpoint
from musicgen.sequence import NoteSequence
from musicgen.synth import render_for_browser, resolve_soundfont

if TYPE_CHECKING:  # the listening package pulls in SQLAlchemy and scipy (~0.7 s): only its pages import it
    from musicgen.listening import VoteStore

runtime.configure("sample")

SAMPLE_RATE = 22050


def load_model(checkpoint_id: str) -> LoadedCheckpoint:
    """The checkpoint, loaded once per process and shared by every session (raises CheckpointError)."""
    with st.spinner("Loading the model…"):
        return systems.load_system_model(checkpoint_id)


@st.cache_data(show_spinner="Reading the held-out pieces…", max_entries=8)
def heldout_ids(corpus: str) -> list[str]:
    """The corpus's held-out (test) piece ids, in split order (raises CorpusError)."""
    return systems.heldout_ids(corpus)


def sequence_key(seq: NoteSequence) -> str:
    """What decides the sound of a sequence (notes, tempo, instrument), as a short digest."""
    return hashlib.sha256(repr((seq.notes, seq.qpm, seq.program)).encode()).hexdigest()


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs={NoteSequence: sequence_key})
def _render(seq: NoteSequence, fmt: str, sample_rate: int, soundfont: str) -> bytes:  # noqa: ARG001
    ogg, clip = render_for_browser(seq, sample_rate=sample_rate)
    return ogg if fmt == "ogg" else encode_wav(clip)


def audio_bytes(seq: NoteSequence, fmt: str = "ogg", sample_rate: int = SAMPLE_RATE) -> bytes:
    """Loudness-normalised audio of `seq` as OGG (for the player) or WAV (for download), cached on
    the notes, format, sample rate and soundfont. Raises SynthUnavailableError without FluidSynth."""
    if fmt not in ("ogg", "wav"):
        raise ValueError(f"audio format must be 'ogg' or 'wav', not {fmt!r}")
    return _render(seq, fmt, sample_rate, str(resolve_soundfont()))


@st.cache_resource(show_spinner=False)
def open_vote_store(url: str) -> VoteStore:
    """The vote store at `url`, opened once per process."""
    from musicgen import listening  # imported here: only the listening pages pay for SQLAlchemy and scipy

    return listening.open_store(url)
