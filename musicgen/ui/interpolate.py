"""The Interpolate page's parts: choose a latent model, two pieces and a number of steps; hear and see
each step of the morph in order, then the whole morph as one clip.

The model is any checkpoint whose family can interpolate (the piano-roll VAEs); `model.interpolate`
does the work and `vae_common.morph_clip` joins the steps. The last result lives in
`st.session_state[INTERP_KEY]` so reruns (a download click) keep showing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from musicgen.card import Card
from musicgen.midi import to_midi_bytes
from musicgen.models import MODELS
from musicgen.models.vae_common import morph_clip
from musicgen.plots import piano_roll_figure, shared_pitch_range
from musicgen.sampling import TEMPERATURE_RANGE
from musicgen.sequence import NoteSequence
from musicgen.ui.cards import usable_cards
from musicgen.ui.errors import attempt
from musicgen.ui.resources import load_model
from musicgen.ui.widgets import Piece, piece_input, seed_input, show_audio, source_choice

INTERP_KEY = "interpolation_result"
INTERP_SEED_KEY = "interp_seed"
STEPS_RANGE = (2, 12)
EXPLANATION = (
    "A variational autoencoder squeezes four bars of music into a short list of numbers (a point in its "
    "'latent space') and can turn any such point back into four bars. Here the openings of two pieces "
    "become two points; the model then walks in a straight line from the first point to the second and "
    "plays what it finds at each stop, so the first piece gradually turns into the second. By default each "
    "stop plays the model's most likely notes, so every change you hear comes from the walk itself; "
    "'Seeded coin per key' flips a weighted coin for every key instead (the same seed at every stop), which "
    "sounds busier but lets the coins drown the walk: neighbouring stops can come out identical.")
DECODING_LABELS = {"deterministic": "Most likely notes (shows the walk)", "sampled": "Seeded coin per key"}


@dataclass(frozen=True)
class InterpSettings:
    steps: int
    temperature: float
    seed: int
    decoding: str = "deterministic"


@dataclass(frozen=True)
class InterpView:
    model: str
    labels: tuple[str, str]
    settings: InterpSettings
    steps: tuple[NoteSequence, ...]
    morph: NoteSequence


def can_interpolate(family: str | None) -> bool:
    return callable(getattr(MODELS.get(family or ""), "interpolate", None))


def interp_cards() -> dict[str, Card]:
    """Usable cards of families that interpolate, by id."""
    return usable_cards(lambda c: can_interpolate(c.family))


def piece_controls(card: Card, which: str, default_index: int = 0) -> Piece | None:
    """One of the two pieces (`which` is 'a' or 'b'); None until there is one with notes."""
    source = source_choice("First piece" if which == "a" else "Second piece", key=f"interp_source_{which}")
    piece = piece_input(card.corpus, source, piece_key=f"interp_piece_{which}", file_key=f"interp_file_{which}",
                        index=default_index, upload_hint="Upload a .mid file; its opening is used.")
    if piece is not None and len(piece.notes) == 0:
        st.error(f"{piece.label} has no notes to interpolate from.")
        return None
    return piece


def settings_controls(card: Card) -> InterpSettings:
    lo, hi = STEPS_RANGE
    steps = st.slider("Steps (both pieces included)", lo, hi, 5, key="interp_steps")
    decoding = st.radio("Each step plays", list(DECODING_LABELS), format_func=DECODING_LABELS.get,
                        key="interp_decoding")
    with st.expander("Temperature and seed"):
        t_lo, t_hi = TEMPERATURE_RANGE
        temperature = st.slider("Temperature", t_lo, t_hi, float(card.sampling.defaults.temperature or 1.0),
                                step=0.05, key="interp_temperature", help=card.sampling.temperature_meaning or None)
        seed = seed_input(INTERP_SEED_KEY, help="Only for 'Seeded coin per key': the most likely notes need no seed.")
    return InterpSettings(steps=int(steps), temperature=float(temperature), seed=seed, decoding=decoding)


def run_interpolation(model_id: str, a: NoteSequence, b: NoteSequence,
                      settings: InterpSettings) -> tuple[list[NoteSequence], NoteSequence]:
    model = load_model(model_id).model
    steps = model.interpolate(a, b, settings.steps, seed=settings.seed, temperature=settings.temperature,
                              decoding=settings.decoding)
    window = model.config.steps * model.representation.step_seconds(steps[0].qpm)
    return steps, morph_clip(steps, window_seconds=window)


def interpolate_into_state(model_id: str, a: Piece, b: Piece, settings: InterpSettings) -> None:
    labels = (a.label, b.label)
    with st.spinner(f"Walking from {labels[0]} to {labels[1]}…"):
        result = attempt("interpolate", run_interpolation, model_id, a.notes, b.notes, settings)
    if result is not None:
        steps, morph = result
        st.session_state[INTERP_KEY] = InterpView(model=model_id, labels=labels, settings=settings,
                                                  steps=tuple(steps), morph=morph)


def show_interpolation(view: InterpView) -> None:
    s = view.settings
    st.subheader(f"{view.labels[0]} → {view.labels[1]}", anchor=False)
    played = "most likely notes" if s.decoding == "deterministic" else f"seeded coins, seed {s.seed}"
    st.caption(f"{s.steps} steps, temperature {s.temperature:g}, {played}. Step 1 is the model's version of "
               f"the first piece's opening, step {s.steps} of the second's.")
    st.markdown("**The whole morph**")
    show_audio(view.morph)
    st.plotly_chart(piano_roll_figure(view.morph, title=f"All {s.steps} steps: {len(view.morph)} notes"),
                    key="interp_morph")
    st.download_button("Download the morph as MIDI", to_midi_bytes(view.morph), f"morph-seed{s.seed}.mid",
                       "audio/midi", on_click="ignore", icon=":material/download:")
    pitch_range = shared_pitch_range(view.steps)
    time_range = (0.0, max(max((q.duration for q in view.steps), default=0.0), 1e-3) * 1.01)
    for i, seq in enumerate(view.steps):
        alpha = seq.meta_dict().get("alpha", "")
        st.markdown(f"**Step {i + 1} of {s.steps}** · {float(alpha or 0):.0%} of the way to the second piece")
        show_audio(seq)
        st.plotly_chart(piano_roll_figure(seq, title=f"Step {i + 1}: {len(seq)} notes", time_range=time_range,
                                          pitch_range=pitch_range), key=f"interp_step_{i}")
