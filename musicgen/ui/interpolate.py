"""The Interpolate page's parts: choose a latent model, two pieces and a number of steps; hear and see
each step of the morph in order, then the whole morph as one clip.

The model is any checkpoint whose family can interpolate (the piano-roll VAEs); `model.interpolate`
does the work and `vae_common.morph_clip` joins the steps. The last result lives in
`st.session_state[INTERP_KEY]` so reruns (a download click) keep showing it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import streamlit as st

from musicgen.checkpoints import list_cards
from musicgen.generate import heldout_piece
from musicgen.midi import to_midi_bytes
from musicgen.models import MODELS
from musicgen.models.vae_common import morph_clip
from musicgen.plots import piano_roll_figure
from musicgen.sampling import TEMPERATURE_RANGE
from musicgen.sequence import NoteSequence
from musicgen.ui.errors import attempt
from musicgen.ui.generation import parse_upload, show_audio
from musicgen.ui.resources import heldout_ids, load_model

INTERP_KEY = "interpolation_result"
INTERP_SEED_KEY = "interp_seed"
SOURCES = {"test": "A held-out piece", "file": "My MIDI file"}
STEPS_RANGE = (2, 12)
EXPLANATION = (
    "A variational autoencoder squeezes four bars of music into a short list of numbers (a point in its "
    "'latent space') and can turn any such point back into four bars. Here the openings of two pieces "
    "become two points; the model then walks in a straight line from the first point to the second and "
    "plays what it finds at each stop, so the first piece gradually turns into the second. Each stop is "
    "played by flipping a weighted coin for every key, with the same seed at every stop.")


@dataclass(frozen=True)
class InterpSettings:
    steps: int
    temperature: float
    seed: int


@dataclass(frozen=True)
class InterpView:
    model: str
    labels: tuple[str, str]
    settings: InterpSettings
    steps: tuple[NoteSequence, ...]
    morph: NoteSequence


def can_interpolate(family: str | None) -> bool:
    return callable(getattr(MODELS.get(family or ""), "interpolate", None))


def interp_cards() -> dict[str, dict]:
    """Usable cards of families that interpolate, by id."""
    return {c["id"]: c for c in list_cards() if "error" not in c and can_interpolate(c.get("family"))}


def _new_seed() -> None:
    st.session_state[INTERP_SEED_KEY] = secrets.randbelow(2**32)  # never the global RNG


def piece_controls(card: dict, which: str, default_index: int = 0) -> tuple[NoteSequence | None, str]:
    """One of the two pieces (`which` is 'a' or 'b'): (the piece or None, its label)."""
    title = "First piece" if which == "a" else "Second piece"
    kind = st.radio(title, list(SOURCES), format_func=SOURCES.get, horizontal=True, key=f"interp_source_{which}")
    if kind == "test":
        corpus = card.get("training", {}).get("corpus", "")
        ids = attempt("list the held-out pieces", heldout_ids, corpus)
        if not ids:
            if ids is not None:
                st.error(f"{corpus} has no held-out pieces; upload a MIDI file instead.")
            return None, ""
        piece_id = st.selectbox("Held-out piece (never seen in training)", ids, index=default_index % len(ids),
                                key=f"interp_piece_{which}")
        return attempt("load the held-out piece", heldout_piece, corpus, piece_id), piece_id
    uploaded = st.file_uploader("MIDI file", type=["mid", "midi"], key=f"interp_file_{which}")
    upload = parse_upload(uploaded)
    if upload is None:
        if uploaded is None:
            st.info("Upload a .mid file; its opening is used.")
        return None, ""
    if len(upload) == 0:
        st.error(f"{uploaded.name} has no notes to interpolate from.")
        return None, ""
    st.caption(f"Read {len(upload)} notes, {upload.duration:.1f} s from {uploaded.name}.")
    return upload, uploaded.name


def settings_controls(card: dict) -> InterpSettings:
    lo, hi = STEPS_RANGE
    steps = st.slider("Steps (both pieces included)", lo, hi, 5, key="interp_steps")
    defaults = card.get("sampling", {}).get("defaults", {})
    with st.expander("Temperature and seed"):
        t_lo, t_hi = TEMPERATURE_RANGE
        temperature = st.slider("Temperature", t_lo, t_hi, float(defaults.get("temperature") or 1.0), step=0.05,
                                key="interp_temperature", help=card.get("sampling", {}).get("temperature_meaning"))
        st.session_state.setdefault(INTERP_SEED_KEY, 0)
        seed = st.number_input("Seed", 0, 2**32 - 1, step=1, key=INTERP_SEED_KEY,
                               help="The same seed and settings always give the same notes.")
        st.button("New seed", on_click=_new_seed, icon=":material/casino:", key="interp_new_seed")
    return InterpSettings(steps=int(steps), temperature=float(temperature), seed=int(seed))


def run_interpolation(model_id: str, a: NoteSequence, b: NoteSequence,
                      settings: InterpSettings) -> tuple[list[NoteSequence], NoteSequence]:
    model = load_model(model_id).model
    steps = model.interpolate(a, b, settings.steps, seed=settings.seed, temperature=settings.temperature)
    window = model.config.steps * model.representation.step_seconds(steps[0].qpm)
    return steps, morph_clip(steps, window_seconds=window)


def interpolate_into_state(model_id: str, a: NoteSequence, b: NoteSequence, labels: tuple[str, str],
                           settings: InterpSettings) -> None:
    with st.spinner(f"Walking from {labels[0]} to {labels[1]}…"):
        result = attempt("interpolate", run_interpolation, model_id, a, b, settings)
    if result is not None:
        steps, morph = result
        st.session_state[INTERP_KEY] = InterpView(model=model_id, labels=labels, settings=settings,
                                                  steps=tuple(steps), morph=morph)


def _pitch_range(*seqs: NoteSequence) -> tuple[int, int] | None:
    pitches = [n.pitch for s in seqs for n in s.notes]
    return (max(0, min(pitches) - 2), min(127, max(pitches) + 2)) if pitches else None


def show_interpolation(view: InterpView) -> None:
    s = view.settings
    st.subheader(f"{view.labels[0]} → {view.labels[1]}", anchor=False)
    st.caption(f"{s.steps} steps, temperature {s.temperature:g}, seed {s.seed}. Step 1 is the model's version of "
               f"the first piece's opening, step {s.steps} of the second's.")
    st.markdown("**The whole morph**")
    show_audio(view.morph)
    st.plotly_chart(piano_roll_figure(view.morph, title=f"All {s.steps} steps: {len(view.morph)} notes"),
                    key="interp_morph")
    st.download_button("Download the morph as MIDI", to_midi_bytes(view.morph), f"morph-seed{s.seed}.mid",
                       "audio/midi", on_click="ignore", icon=":material/download:")
    pitch_range = _pitch_range(*view.steps)
    time_range = (0.0, max(max((q.duration for q in view.steps), default=0.0), 1e-3) * 1.01)
    for i, seq in enumerate(view.steps):
        alpha = seq.meta_dict().get("alpha", "")
        st.markdown(f"**Step {i + 1} of {s.steps}** · {float(alpha or 0):.0%} of the way to the second piece")
        show_audio(seq)
        st.plotly_chart(piano_roll_figure(seq, title=f"Step {i + 1}: {len(seq)} notes", time_range=time_range,
                                          pitch_range=pitch_range), key=f"interp_step_{i}")


# The names `musicgen.ui` exports (lazily) for the page.
INTERP_EXPLANATION = EXPLANATION
interp_piece_controls = piece_controls
interp_settings = settings_controls
