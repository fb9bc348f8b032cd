"""The Style push page's parts: choose a piece, a target composer and a strength; show before and after.

The model is any checkpoint of the `classifier-ascent` family; `ClassifierAscent.push` does the work.
The last result lives in `st.session_state[PUSH_KEY]` so reruns (a download click) keep showing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from musicgen.card import Card
from musicgen.midi import to_midi_bytes
from musicgen.plots import TEMPLATE, piano_roll_figure, shared_pitch_range
from musicgen.sampling import TEMPERATURE_RANGE
from musicgen.sequence import NoteSequence
from musicgen.ui.cards import usable_cards
from musicgen.ui.errors import attempt
from musicgen.ui.resources import load_model
from musicgen.ui.widgets import Piece, piece_input, seed_input, show_audio, source_choice

FAMILY = "classifier-ascent"
PUSH_KEY = "style_push_result"
PUSH_SEED_KEY = "push_seed"
BEFORE_COLOR, AFTER_COLOR = "#7f8c9b", "#e4572e"
EXPLANATION = (
    "A classifier learned to tell composers apart. Here it is run backwards: the piece's piano roll is "
    "nudged, step by step, in whatever direction makes the classifier more sure the piece is by the target "
    "composer, while penalties keep it close to the original and smooth in time. The study this repeats "
    "found that the result is mostly noise: the classifier is fooled long before the music changes style.")


@dataclass(frozen=True)
class PushSettings:
    target: str
    strength: float
    seconds: float
    temperature: float
    seed: int


@dataclass(frozen=True)
class PushView:
    model: str
    piece: str
    settings: PushSettings
    result: object  # musicgen.models.classifier_ascent.PushResult


def push_cards() -> dict[str, Card]:
    """Usable cards of the classifier-ascent family, by id."""
    return usable_cards(lambda c: c.family == FAMILY)


def piece_controls(card: Card) -> Piece | None:
    """The piece to push (a held-out piece of the model's corpus, or an upload); None until there is one."""
    source = source_choice("Piece", key="push_source")
    return piece_input(card.corpus, source, piece_key="push_piece", file_key="push_file",
                       heldout_label="Held-out piece (the classifier never saw it)",
                       upload_hint="Upload a .mid file to push it toward a composer.")


def settings_controls(card: Card) -> PushSettings:
    config = card.model_config
    composers = list(config.get("composers") or [])
    defaults = card.sampling.defaults
    default_target = defaults.extra.get("target") or config.get("default_target")
    index = composers.index(default_target) if default_target in composers else 0
    target = st.selectbox("Push toward", composers, index=index, key="push_target", format_func=str.title)
    strength = st.slider("Strength", 0.0, 5.0, float(defaults.extra.get("strength") or 1.0), step=0.25,
                         key="push_strength",
                         help="How much the classifier's opinion counts against staying close to the original.")
    seconds = st.slider("Length (seconds)", 5.0, 60.0, 30.0, step=5.0, key="push_seconds",
                        help="The opening of the piece that is pushed.")
    with st.expander("Noise and seed"):
        lo, hi = TEMPERATURE_RANGE
        temperature = st.slider("Temperature", lo, hi, float(defaults.temperature or 1.0), step=0.05,
                                key="push_temperature", help=card.sampling.temperature_meaning or None)
        seed = seed_input(PUSH_SEED_KEY)
    return PushSettings(target=target, strength=float(strength), seconds=float(seconds),
                        temperature=float(temperature), seed=seed)


def run_push(model_id: str, piece: NoteSequence, settings: PushSettings, on_step=None):
    model = load_model(model_id).model
    return model.push(piece, target=settings.target, strength=settings.strength, temperature=settings.temperature,
                      seed=settings.seed, length=f"{settings.seconds:g}s", on_step=on_step)


PROGRESS_EVERY = 10  # ascent steps between progress-bar updates (each update is a message to the browser)


def push_into_state(model_id: str, piece: Piece, settings: PushSettings) -> None:
    label = f"Pushing toward {settings.target.title()}…"
    bar = st.progress(0.0, text=label)

    def on_step(done: int, total: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            bar.progress(done / total, text=f"{label} step {done} of {total}")

    with st.spinner(label):
        result = attempt("push the piece", run_push, model_id, piece.notes, settings, on_step)
    bar.empty()
    if result is not None:
        st.session_state[PUSH_KEY] = PushView(model=model_id, piece=piece.label, settings=settings, result=result)


def probability_figure(result, title: str = "What the classifier thinks") -> go.Figure:
    """Grouped bars: the classifier's probability for each composer, before and after the push."""
    names = [c.title() for c in result.composers]
    fig = go.Figure([go.Bar(x=names, y=result.probs_before, name="before", marker_color=BEFORE_COLOR),
                     go.Bar(x=names, y=result.probs_after, name="after", marker_color=AFTER_COLOR)])
    fig.update_layout(template=TEMPLATE, title=dict(text=title), barmode="group", height=320,
                      yaxis=dict(title=dict(text="probability"), range=[0, 1]),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
                      margin=dict(l=50, r=10, t=60, b=40))
    return fig


def show_push(view: PushView) -> None:
    r, s = view.result, view.settings
    target = r.target.title()
    st.subheader(f"{view.piece} → {target}", anchor=False)
    st.caption(f"Strength {s.strength:g}, temperature {s.temperature:g}, seed {s.seed}. The classifier's "
               f"probability for {target}: {r.target_before:.1%} before, {r.target_after:.1%} after "
               f"({r.probs_relaxed[r.composers.index(r.target)]:.1%} on the relaxed roll before it was cut "
               f"back to notes). {len(r.source)} notes before, {len(r.after)} after.")
    st.plotly_chart(probability_figure(r), key="push_probs")
    time_range = (0.0, max(r.source.duration, r.after.duration, 1e-3) * 1.01)
    pitch_range = shared_pitch_range([r.source, r.after])
    for label, seq, key in (("Before", r.source, "push_before"), ("After", r.after, "push_after")):
        st.markdown(f"**{label}**")
        show_audio(seq)
        grey = len(seq) if seq is r.source else 0  # the original in the "before" grey, as in the bar chart
        st.plotly_chart(piano_roll_figure(seq, primer_notes=grey, title=f"{label}: {len(seq)} notes",
                                          time_range=time_range, pitch_range=pitch_range), key=key)
    st.download_button("Download the pushed MIDI", to_midi_bytes(r.after), f"push-{r.target}-seed{s.seed}.mid",
                       "audio/midi", on_click="ignore", icon=":material/download:")
