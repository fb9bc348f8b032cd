"""Cached resources: models (`st.cache_resource`), held-out pieces and rendered audio (`st.cache_data`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from musicgen.checkpoints import CARD, HISTORY, WEIGHTS, LoadedCheckpoint, checkpoints_dir, load_checkpoint
from musicgen.generate import heldout_piece_ids
from musicgen.sequence import NoteSequence
from musicgen.audio import encode_wav
from musicgen.synth import render_for_browser, resolve_soundfont

SAMPLE_RATE = 22050


def _stamp(folder: Path) -> tuple:
    """Size and modification time of the checkpoint files: a retrained checkpoint is a new cache key."""
    out = []
    for name in (CARD, WEIGHTS, HISTORY):
        try:
            st_ = (folder / name).stat()
            out.append((name, st_.st_size, st_.st_mtime_ns))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _load_folder(folder: str, stamp: tuple) -> LoadedCheckpoint:  # noqa: ARG001 (stamp is the cache key)
    return load_checkpoint(Path(folder))


def load_model(checkpoint_id: str) -> LoadedCheckpoint:
    """The checkpoint, loaded once per process and shared by every session (raises CheckpointError)."""
    folder = checkpoints_dir() / checkpoint_id
    if not folder.is_dir():
        return load_checkpoint(checkpoint_id)  # raises with the list of known ids
    return _load_folder(str(folder.resolve()), _stamp(folder))


@st.cache_data(show_spinner="Reading the held-out pieces…", max_entries=8)
def heldout_ids(corpus: str) -> list[str]:
    return heldout_piece_ids(corpus)


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
