"""The Generate page's parts: settings widgets → `Request`, running it, and showing the result.

The last result lives in `st.session_state[RESULT_KEY]`, so reruns (a download click, a changed
slider) keep showing it together with the exact settings that made it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import streamlit as st

from musicgen.generate import DEFAULT_PRIMER_SECONDS, Request, generate, resolve_primer
from musicgen.midi import load_midi, to_midi_bytes
from musicgen.models import MODELS
from musicgen.plots import loss_curve_figure, piano_roll_figure
from musicgen.sampling import TEMPERATURE_RANGE, Length, SamplingError
from musicgen.sequence import NoteSequence
from musicgen.synth import synth_available
from musicgen.ui.errors import attempt
from musicgen.ui.resources import audio_bytes, heldout_ids, load_model

RESULT_KEY = "generate_result"
SEED_KEY = "seed"
SEED_MAX = 2**32 - 1
TOP_K_MAX = 10_000  # one bound for every model (k ≥ vocabulary size just means off)
PRIMERS = {"none": "No primer", "test": "Opening of a held-out piece", "file": "Opening of my MIDI file"}


@dataclass(frozen=True)
class Result:
    request: Request
    sequence: NoteSequence
    title: str


def _new_seed() -> None:
    st.session_state[SEED_KEY] = secrets.randbelow(SEED_MAX + 1)  # never the global RNG


def default_seconds(card: dict) -> float:
    try:
        length = Length.parse(card.get("sampling", {}).get("defaults", {}).get("length", "30s"))
    except SamplingError:
        return 30.0
    return length.value if length.unit == "seconds" else 30.0


def sampling_controls(card: dict) -> Request:
    """Temperature, seed (with a "New seed" button), length, optional top-k / top-p → a Request."""
    defaults = card.get("sampling", {}).get("defaults", {})
    lo, hi = TEMPERATURE_RANGE
    temperature = st.slider("Temperature", lo, hi, float(defaults.get("temperature") or 1.0), step=0.05,
                            key="temperature",
                            help="1 = as the model learned; lower = safer and more repetitive; higher = wilder.")
    st.session_state.setdefault(SEED_KEY, 0)
    seed_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    seed = seed_col.number_input("Seed", 0, SEED_MAX, step=1, key=SEED_KEY,
                                 help="The same seed and settings always give the same music.")
    button_col.button("New seed", on_click=_new_seed, icon=":material/casino:")
    seconds = st.number_input("Length (seconds)", 1.0, 300.0, min(default_seconds(card), 300.0), step=5.0,
                              key="length_seconds")
    with st.expander("Fine control (optional)"):
        top_k = st.number_input("Top-k (0 = off)", 0, TOP_K_MAX, int(defaults.get("top_k") or 0), step=1, key="top_k",
                                help="Only ever pick among the k likeliest next tokens.")
        top_p = st.slider("Top-p (1.0 = off)", 0.05, 1.0, float(defaults.get("top_p") or 1.0), step=0.05,
                          key="top_p", help="Only pick among the likeliest tokens that together have this "
                                            "probability.")
    return Request(model=card["id"], seed=int(seed), temperature=float(temperature), length=f"{seconds:g}s",
                   top_k=int(top_k) or None, top_p=float(top_p) if top_p < 1.0 else None)


@st.cache_data(show_spinner=False, max_entries=8)
def _parse_upload(data: bytes, name: str) -> NoteSequence:
    return load_midi(data, name=name)


def parse_upload(uploaded) -> NoteSequence | None:
    """An `st.file_uploader` file → NoteSequence, or None after an `st.error` naming the problem."""
    if uploaded is None:
        return None
    return attempt("read the uploaded file", _parse_upload, uploaded.getvalue(), uploaded.name)


def primer_controls(card: dict) -> tuple[str | None, float, NoteSequence | None, bool]:
    """(primer spec for the Request, primer seconds, parsed upload, ready to generate)."""
    family = MODELS.get(card.get("family", ""))  # cards written before the field existed: ask the family
    if not card.get("sampling", {}).get("accepts_primer", getattr(family, "accepts_primer", True)):
        st.caption("This model makes each piece from random noise alone, so it cannot continue a primer.")
        return None, DEFAULT_PRIMER_SECONDS, None, True
    kind = st.radio("Start from", list(PRIMERS), format_func=PRIMERS.get, horizontal=True, key="primer_kind",
                    help="A primer is a few seconds of real music that the model continues.")
    if kind == "none":
        return None, DEFAULT_PRIMER_SECONDS, None, True
    seconds = st.slider("Primer length (seconds)", 1.0, 30.0, DEFAULT_PRIMER_SECONDS, step=1.0, key="primer_seconds")
    if kind == "test":
        corpus = card.get("training", {}).get("corpus", "")
        ids = attempt("list the held-out pieces", heldout_ids, corpus)
        if not ids:
            if ids is not None:
                st.error(f"{corpus} has no held-out pieces to start from; choose another primer.")
            return None, seconds, None, False
        piece = st.selectbox("Held-out piece (never seen in training)", ids, key="primer_piece")
        return f"test:{piece}", seconds, None, True
    uploaded = st.file_uploader("MIDI file", type=["mid", "midi"], key="primer_file")
    upload = parse_upload(uploaded)
    if upload is None:
        if uploaded is None:
            st.info("Upload a .mid file to use its opening as the primer.")
        return None, seconds, None, False
    st.caption(f"Read {len(upload)} notes, {upload.duration:.1f} s from {uploaded.name}.")
    return f"file:{uploaded.name}", seconds, upload, True


def run(request: Request, corpus: str, upload: NoteSequence | None, title: str) -> Result:
    checkpoint = load_model(request.model)
    primer = resolve_primer(request, corpus, upload=upload)
    return Result(request=request, sequence=generate(checkpoint, request, primer=primer), title=title)


def generate_into_state(request: Request, card: dict, upload: NoteSequence | None) -> None:
    """Sample with a spinner; on success the result replaces the last one, on failure an st.error."""
    with st.spinner("Composing…"):
        result = attempt("generate", run, request, card.get("training", {}).get("corpus", ""), upload,
                         card.get("title") or card["id"])
    if result is not None:
        st.session_state[RESULT_KEY] = result


def show_audio(seq: NoteSequence) -> bool:
    """The OGG player; False (after a warning with the install command) when there is no audio."""
    ok, message = synth_available()
    if not ok:
        st.warning(f"Audio is off on this server: {message}. The piano roll and the MIDI download still work.",
                   icon=":material/volume_off:")
        return False
    with st.spinner("Rendering audio…"):
        ogg = attempt("render the audio", audio_bytes, seq, "ogg")
    if ogg is None:
        return False
    st.audio(ogg, format="audio/ogg")
    return True


def show_result(result: Result) -> None:
    seq, request = result.sequence, result.request
    primer_notes = int(seq.meta_dict().get("primer_notes", 0) or 0)
    stem = f"{request.model}-seed{request.seed}"
    st.subheader(f"{result.title}, seed {request.seed}", anchor=False)
    primer_words = f"; the first {primer_notes} (grey) are the primer" if primer_notes else ""
    meta = seq.meta_dict()
    if "abc_error" in meta:  # C-abc: the sampled text is not a readable tune; say so and show it, no traceback
        st.warning(f"This tune's ABC text does not parse, so there are no notes to play ({meta['abc_error']}). "
                   "Try another seed or a lower temperature. The text the model wrote:")
        st.code(meta.get("abc", ""), language=None)
        st.code(request.command(out=f"{stem}.mid"), language="bash")
        return
    st.caption(f"{len(seq)} notes, {seq.duration:.1f} s{primer_words}.")
    has_audio = show_audio(seq)
    roll_col, loss_col = st.columns([3, 2])
    roll_col.plotly_chart(piano_roll_figure(seq, primer_notes=primer_notes, title="Piano roll"))
    if "abc" in meta:  # C-abc: the tune's ABC text beside its roll; the training curve moves below
        loss_col.markdown("**ABC text of this tune** (the model writes text; music21 turns it into notes)")
        loss_col.code(meta["abc"], language=None)
        loss_col = st.container()
    try:
        history = load_model(request.model).history
    except Exception:  # noqa: BLE001 — the roll and downloads matter more than the curve
        loss_col.caption("The training curve is not available for this model.")
    else:
        loss_col.plotly_chart(loss_curve_figure(history, title="How training went"))
    midi_col, wav_col = st.columns(2)
    midi_col.download_button("Download MIDI", to_midi_bytes(seq), f"{stem}.mid", "audio/midi",
                             on_click="ignore", icon=":material/download:")
    if has_audio:  # WAV is rendered only when asked for (a minute of WAV is ~2.6 MB)
        wav_col.download_button("Download WAV", lambda: audio_bytes(seq, "wav"), f"{stem}.wav", "audio/wav",
                                on_click="ignore", icon=":material/download:")
    st.markdown("**Settings that reproduce this** (same settings → same notes):")
    st.code(request.command(out=f"{stem}.mid"), language="bash")
    if request.primer and request.primer.startswith("file:"):
        st.caption("The primer came from your upload: keep that MIDI file next to the command to reproduce it.")
