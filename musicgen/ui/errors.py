"""Library errors → `st.error` with the fix; never a raw traceback in the page.

`attempt(action, fn, ...)` runs `fn` and returns its result, or shows one plain message and returns
None. Unexpected exceptions get a short message in the page and the full traceback in the server log.
"""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

import streamlit as st

from musicgen.checkpoints import CheckpointError
from musicgen.corpora import CorpusError
from musicgen.midi import MidiImportError
from musicgen.sampling import SamplingError
from musicgen.synth import SynthUnavailableError

log = logging.getLogger("musicgen.ui")
T = TypeVar("T")


def error_message(exc: BaseException, action: str) -> str:
    """One plain paragraph for the page: what failed, why, and what to do about it."""
    if isinstance(exc, SamplingError):
        return f"A setting is out of range: {exc}. Change it and try again."
    if isinstance(exc, MidiImportError):
        advice = "Try another .mid file (e.g. exported from MuseScore or a DAW), or choose no primer."
        if exc.reason == "not MIDI":  # the library's detail quotes the file's first bytes: say it in words
            name = exc.source.rpartition("/")[2] or "That file"
            return f"{name} is not a MIDI file: it does not start the way every MIDI file does. {advice}"
        return f"That file could not be used as MIDI: {exc.problem}. {advice}"
    if isinstance(exc, CheckpointError):
        return f"This model cannot be loaded: {exc}"
    if isinstance(exc, SynthUnavailableError):
        return f"No audio could be made on this server: {exc}"
    if isinstance(exc, CorpusError):
        return f"The training pieces are not available: {exc}"
    if isinstance(exc, ValueError):
        return f"Could not {action}: {exc}"
    return (f"Something went wrong while trying to {action} ({type(exc).__name__}). "
            "The details are in the server log; try other settings or reload the page.")


def show_error(exc: BaseException, action: str) -> None:
    known = (SamplingError, MidiImportError, CheckpointError, SynthUnavailableError, CorpusError, ValueError)
    if not isinstance(exc, known):
        log.error("unexpected error while trying to %s", action, exc_info=exc)
    st.error(error_message(exc, action), icon=":material/error:")


def attempt(action: str, fn: Callable[..., T], *args, **kwargs) -> T | None:
    """`fn(*args, **kwargs)`, or None after showing why it failed (`action` reads 'load the model')."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # Streamlit's stop/rerun signals are BaseException and pass through
        show_error(exc, action)
        return None
