"""The only part of musicgen that imports Streamlit: cached loaders, error display, widgets.

Pages stay thin: they read widgets through these helpers, call the library and show results.
"""

from musicgen.ui.cards import model_card, model_overview
from musicgen.ui.compare import (
    COMPARE_KEY,
    NOT_EVALUATED_HINT,
    column_picker,
    compose_into_state,
    show_comparison,
    show_evaluation,
)
from musicgen.ui.compare import settings_controls as compare_settings
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
from musicgen.ui.training import checkpoint_panel, overlay_section, read_history, x_axis_control

__all__ = [
    "RESULT_KEY", "Result", "attempt", "audio_bytes", "error_message", "generate_into_state", "heldout_ids",
    "load_model", "model_card", "model_overview", "parse_upload", "primer_controls",
    "sampling_controls", "show_error", "show_result",
    # Compare and Training pages
    "COMPARE_KEY", "NOT_EVALUATED_HINT", "checkpoint_panel", "column_picker", "compare_settings",
    "compose_into_state", "overlay_section", "read_history", "show_comparison", "show_evaluation",
    "x_axis_control",
]
