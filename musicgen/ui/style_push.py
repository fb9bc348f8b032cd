"""The Style push page's parts: choose a piece, a target composer and a strength; show before and after.

The model is any checkpoint of the `classifier-ascent` family; `ClassifierAscent.push` does the work.
The last result lives in `st.session_state[PUSH_KEY]` so reruns (a download click) keep showing it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from musicgen.checkpoints import list_cards
from musicgen.generate import heldout_piece
from musicgen.midi import to_midi_bytes
from musicgen.plots import TEMPLATE, piano_roll_figure
from musicgen.sampling import TEMPERATURE_RANGE
from musicgen.sequence import NoteSequence
from musicgen.ui.errors import attempt
from musicgen.ui.generation import parse_upload, show_audio
from musicgen.ui.resources import heldout_ids, load_model

FAMILY = "classifier-ascent"
PUSH_KEY = "style_push_result"
PUSH_SEED_KEY = "push_seed"
SOURCES = {"test": "A held-out piece", "file": "My MIDI file"}
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


def push_cards() -> dict[str, dict]:
    """Usable cards of the classifier-ascent family, by id."""
    return {c["id"]: c for c in list_cards() if "error" not in c and c.get("family") == FAMILY}


def _new_seed() -> None:
    st.session_state[PUSH_SEED_KEY] = secrets.randbelow(2**32)  # never the global RNG


def piece_controls(card: dict) -> tuple[NoteSequence | None, str]:
    """(the piece to push or None, its label); says why when there is none yet."""
    kind = st.radio("Piece", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="push_source")
    if kind == "test":
        corpus = card.get("training", {}).get("corpus", "")
        ids = attempt("list the held-out pieces", heldout_ids, corpus)
        if not ids:
            if ids is not None:
                st.error(f"{corpus} has no held-out pieces; upload a MIDI file instead.")
            return None, ""
        piece_id = st.selectbox("Held-out piece (the classifier never saw it)", ids, key="push_piece")
        return attempt("load the held-out piece", heldout_piece, corpus, piece_id), piece_id
    uploaded = st.file_uploader("MIDI file", type=["mid", "midi"], key="push_file")
    upload = parse_upload(uploaded)
    if upload is None:
        if uploaded is None:
            st.info("Upload a .mid file to push it toward a composer.")
        return None, ""
    st.caption(f"Read {len(upload)} notes, {upload.duration:.1f} s from {uploaded.name}.")
    return upload, uploaded.name


def settings_controls(card: dict) -> PushSettings:
    config = card.get("model_config", {})
    composers = list(config.get("composers") or [])
    defaults = card.get("sampling", {}).get("defaults", {})
    default_target = defaults.get("target") or config.get("default_target")
    index = composers.index(default_target) if default_target in composers else 0
    target = st.selectbox("Push toward", composers, index=index, key="push_target", format_func=str.title)
    strength = st.slider("Strength", 0.0, 5.0, float(defaults.get("strength") or 1.0), step=0.25, key="push_strength",
                         help="How much the classifier's opinion counts against staying close to the original.")
    seconds = st.slider("Length (seconds)", 5.0, 60.0, 30.0, step=5.0, key="push_seconds",
                        help="The opening of the piece that is pushed.")
    with st.expander("Noise and seed"):
        lo, hi = TEMPERATURE_RANGE
        temperature = st.slider("Temperature", lo, hi, float(defaults.get("temperature") or 1.0), step=0.05,
                                key="push_temperature", help=card.get("sampling", {}).get("temperature_meaning"))
        st.session_state.setdefault(PUSH_SEED_KEY, 0)
        seed = st.number_input("Seed", 0, 2**32 - 1, step=1, key=PUSH_SEED_KEY,
                               help="The same seed and settings always give the same notes.")
        st.button("New seed", on_click=_new_seed, icon=":material/casino:", key="push_new_seed")
    return PushSettings(target=target, strength=float(strength), seconds=float(seconds),
                        temperature=float(temperature), seed=int(seed))


def run_push(model_id: str, piece: NoteSequence, settings: PushSettings):
    model = load_model(model_id).model
    return model.push(piece, target=settings.target, strength=settings.strength, temperature=settings.temperature,
                      seed=settings.seed, length=f"{settings.seconds:g}s")


def push_into_state(model_id: str, piece: NoteSequence, label: str, settings: PushSettings) -> None:
    with st.spinner(f"Pushing toward {settings.target.title()}…"):
        result = attempt("push the piece", run_push, model_id, piece, settings)
    if result is not None:
        st.session_state[PUSH_KEY] = PushView(model=model_id, piece=label, settings=settings, result=result)


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


def _pitch_range(*seqs: NoteSequence) -> tuple[int, int] | None:
    pitches = [n.pitch for s in seqs for n in s.notes]
    return (max(0, min(pitches) - 2), min(127, max(pitches) + 2)) if pitches else None


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
    pitch_range = _pitch_range(r.source, r.after)
    for label, seq, key in (("Before", r.source, "push_before"), ("After", r.after, "push_after")):
        st.markdown(f"**{label}**")
        show_audio(seq)
        grey = len(seq) if seq is r.source else 0  # the original in the "before" grey, as in the bar chart
        st.plotly_chart(piano_roll_figure(seq, primer_notes=grey, title=f"{label}: {len(seq)} notes",
                                          time_range=time_range, pitch_range=pitch_range), key=key)
    st.download_button("Download the pushed MIDI", to_midi_bytes(r.after), f"push-{r.target}-seed{s.seed}.mid",
                       "audio/midi", on_click="ignore", icon=":material/download:")
