"""The only part of musicgen that imports Streamlit: cached loaders, error display, widgets.

Pages stay thin: they read widgets through these helpers, call the library and show results.
"""

from musicgen.ui.cards import model_card, model_overview
from musicgen.ui.errors import attempt, error_message, show_error
from musicgen.ui.generation import (
    RESULT_KEY,
    Result,
    generate_into_state,
    parse_upload,
    primer_controls,
    sampling_controls,
    show_result,
)
from musicgen.ui.resources import audio_bytes, heldout_ids, load_model

__all__ = [
    "RESULT_KEY", "Result", "attempt", "audio_bytes", "error_message", "generate_into_state", "heldout_ids",
    "load_model", "model_card", "model_overview", "parse_upload", "primer_controls",
    "sampling_controls", "show_error", "show_result",
]
