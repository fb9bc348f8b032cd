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
from musicgen.ui.style_push import EXPLANATION as PUSH_EXPLANATION
from musicgen.ui.style_push import PUSH_KEY, probability_figure, push_cards, push_into_state, show_push
from musicgen.ui.style_push import piece_controls as push_piece_controls
from musicgen.ui.style_push import settings_controls as push_settings
from musicgen.ui.training import checkpoint_panel, overlay_section, read_history, x_axis_control

# The listening-test pages pull in SQLAlchemy and scipy (~0.7 s): imported on first use, so the home
# page and Generate start faster.
_LAZY = {
    "ensure_game_study": "game", "game_study": "game", "play": "game",
    "find_study": "listening", "participant_id": "listening", "participant_store": "listening",
    "run_study": "listening", "vote_store": "listening",
    "INTERP_EXPLANATION": "interpolate", "INTERP_KEY": "interpolate", "interp_cards": "interpolate",
    "interp_piece_controls": "interpolate", "interp_settings": "interpolate",
    "interpolate_into_state": "interpolate", "show_interpolation": "interpolate",
    "password_gate": "results", "pick_study": "results", "show_results": "results", "study_setup": "results",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"musicgen.ui.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'musicgen.ui' has no attribute {name!r}")

__all__ = [
    "RESULT_KEY", "Result", "attempt", "audio_bytes", "error_message", "generate_into_state", "heldout_ids",
    "load_model", "model_card", "model_overview", "parse_upload", "primer_controls",
    "sampling_controls", "show_error", "show_result",
    # Compare and Training pages
    "COMPARE_KEY", "NOT_EVALUATED_HINT", "checkpoint_panel", "column_picker", "compare_settings",
    "compose_into_state", "overlay_section", "read_history", "show_comparison", "show_evaluation",
    "x_axis_control",
    # Listening test, Results and Human or AI pages
    "ensure_game_study", "find_study", "game_study", "participant_id", "participant_store", "password_gate",
    "pick_study", "play", "run_study", "show_results", "study_setup", "vote_store",
    # Style push page
    "PUSH_EXPLANATION", "PUSH_KEY", "probability_figure", "push_cards", "push_into_state", "push_piece_controls",
    "push_settings", "show_push",
    # Interpolate page
    "INTERP_EXPLANATION", "INTERP_KEY", "interp_cards", "interp_piece_controls", "interp_settings",
    "interpolate_into_state", "show_interpolation",
]
