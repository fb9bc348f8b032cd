"""The Generate page's parts: settings widgets → `Request`, making the clip (`systems.make_clip`), and
showing the result.

The last result lives in `st.session_state[RESULT_KEY]`, so reruns (a download click, a changed
slider) keep showing it together with the exact settings that made it. A sample set (files from an outside
model) has only a seed (which file) and a length (`sample_set_controls`), and shows where its files came
from in place of a training curve.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from musicgen.card import Card, Recommended
from musicgen.midi import to_midi_bytes
from musicgen.notation import NotationError, engrave_svg, to_musicxml
from musicgen.plots import loss_curve_figure, piano_roll_figure
from musicgen.sampling import TEMPERATURE_RANGE, Length, SamplingError
from musicgen.sequence import NoteSequence
from musicgen.systems import DEFAULT_PRIMER_SECONDS, Request, System, get_system, is_samples, make_clip
from musicgen.ui.cards import evaluate_hint, sample_set_details, show_evaluation
from musicgen.ui.errors import attempt
from musicgen.ui.resources import audio_bytes, load_model
from musicgen.ui.playhead import playhead
from musicgen.ui.widgets import HELDOUT, UPLOAD, clip_audio, piece_input, seed_input, source_choice

RESULT_KEY = "generate_result"
SEED_KEY = "seed"
VIEW_KEY = "result_view"  # which of the result's tabs is open: "Piano roll" or "Score"
SCORE_PAGES = 3  # engraved pages shown; the MusicXML download has them all
SCORE_WIDTH = 1000  # Verovio page width: ~400 px at its scale, about the roll column, so notes stay legible
TOP_K_MAX = 10_000  # one bound for every model (k ≥ vocabulary size just means off)
PRIMERS = {"none": "No primer", HELDOUT: "Opening of a held-out piece", UPLOAD: "Opening of my MIDI file"}


@dataclass(frozen=True)
class Result:
    request: Request
    sequence: NoteSequence
    title: str


@dataclass(frozen=True)
class Primer:
    """The primer part of a Request, the upload it needs, and whether it is complete."""
    spec: str | None = None
    seconds: float = DEFAULT_PRIMER_SECONDS
    upload: NoteSequence | None = None
    ready: bool = True
    failed: bool = False  # a file was uploaded but could not be read (the page clears the last result)


def default_seconds(card: Card) -> float:
    try:
        length = Length.parse(card.sampling.defaults.length)
    except SamplingError:
        return 30.0
    return length.value if length.unit == "seconds" else 30.0


def sampling_controls(card: Card) -> Request:
    """Temperature, seed (with a "New seed" button), length, optional top-k / top-p → a Request."""
    defaults = card.sampling.defaults
    lo, hi = TEMPERATURE_RANGE
    rec = card.recommended
    help_text = "1 = as the model learned; lower = safer and more repetitive; higher = wilder."
    if rec is not None:
        help_text += (f" Recommended for this model: {rec.label}, the setting whose {rec.n} samples came closest to "
                      "real pieces in a sweep (the Sampling page shows the curves).")
    temperature = st.slider("Temperature", lo, hi, float(defaults.temperature or 1.0), step=0.05,
                            key="temperature", help=help_text)
    if rec is not None:
        recommended_hint(rec)
    seed = seed_input(SEED_KEY, help="The same seed and settings always give the same music.")
    seconds = st.number_input("Length (seconds)", 1.0, 300.0, min(default_seconds(card), 300.0), step=5.0,
                              key="length_seconds")
    with st.expander("Fine control (optional)"):
        top_k = st.number_input("Top-k (0 = off)", 0, TOP_K_MAX, int(defaults.top_k or 0), step=1, key="top_k",
                                help="Only ever pick among the k likeliest next tokens.")
        top_p = st.slider("Top-p (1.0 = off)", 0.05, 1.0, float(defaults.top_p or 1.0), step=0.05,
                          key="top_p", help="Only pick among the likeliest tokens that together have this "
                                            "probability.")
    return Request(model=card.id, seed=seed, temperature=float(temperature), length=f"{seconds:g}s",
                   top_k=int(top_k) or None, top_p=float(top_p) if top_p < 1.0 else None)


def _use_recommended(rec: Recommended) -> None:
    """The button's callback: runs before the page, so the sliders are drawn with the new values."""
    lo, hi = TEMPERATURE_RANGE
    st.session_state["temperature"] = min(max(round(round(rec.temperature / 0.05) * 0.05, 2), lo), hi)  # its steps
    if rec.top_p is not None:
        st.session_state["top_p"] = min(max(round(round(rec.top_p / 0.05) * 0.05, 2), 0.05), 1.0)


def recommended_hint(rec: Recommended) -> None:
    """'recommended: 0.9 (measured by sweep)' under the temperature slider, and a button that sets it."""
    text_col, button_col = st.columns([3, 2], vertical_alignment="center", gap="small")
    text_col.caption(f"recommended: {rec.label} (measured by sweep)",
                     help=f"`python -m musicgen sweep` evaluated {rec.n} samples per setting; this one had the "
                          f"best {rec.by.replace('_', ' ')} (see the Sampling page).")
    button_col.button("Use recommended", key="use_recommended", on_click=_use_recommended, args=(rec,),
                      help=f"Set the temperature to {rec.temperature:g}"
                           + (f" and top-p to {rec.top_p:g}" if rec.top_p is not None else ""))


def sample_set_controls(system: System) -> Request:
    """A sample set's settings: the seed picks the file (`files[seed % n]`) and the length cuts it."""
    n = system.sample_set.n_files
    st.caption(f"A sample set plays its own {n} files: the seed picks one (seed mod {n}) and the length cuts its "
               "opening; temperature and primers do not apply.")
    seed = seed_input(SEED_KEY, help=f"Seed s plays file number s mod {n} (files sorted by name).")
    seconds = st.number_input("Length (seconds)", 1.0, 300.0, 30.0, step=5.0, key="length_seconds")
    return Request(model=system.id, seed=seed, length=f"{seconds:g}s")


def primer_controls(card: Card) -> Primer:
    """No primer, or the opening of a held-out piece or of an uploaded MIDI file, and its length."""
    if not card.sampling.accepts_primer:
        st.caption("This model makes each piece from random noise alone, so it cannot continue a primer.")
        return Primer()
    kind = source_choice("Start from", key="primer_kind", options=PRIMERS,
                         help="A primer is a few seconds of real music that the model continues.")
    if kind == "none":
        return Primer()
    seconds = st.slider("Primer length (seconds)", 1.0, 30.0, DEFAULT_PRIMER_SECONDS, step=1.0, key="primer_seconds")
    piece = piece_input(card.corpus, kind, piece_key="primer_piece", file_key="primer_file", load=False,
                        no_pieces="choose another primer",
                        upload_hint="Upload a .mid file to use its opening as the primer.")
    if piece is None:
        failed = kind == UPLOAD and st.session_state.get("primer_file") is not None
        return Primer(seconds=seconds, ready=False, failed=failed)
    return Primer(spec=piece.primer, seconds=seconds, upload=piece.notes)


def run(request: Request, upload: NoteSequence | None, title: str) -> Result:
    return Result(request=request, sequence=make_clip(request, upload=upload), title=title)


def generate_into_state(request: Request, card: Card | System, upload: NoteSequence | None) -> None:
    """Make the clip with a spinner; on success the result replaces the last one, on failure an st.error."""
    title = card.title if isinstance(card, System) else card.display_title
    with st.spinner("Composing…"):
        result = attempt("generate", run, request, upload, title)
    if result is not None:
        st.session_state[RESULT_KEY] = result


def shorter_words(seq: NoteSequence, request: Request, *, abc: bool = False) -> str | None:
    """Why the clip is much shorter than the length asked for (the tune or piece ended), or None."""
    try:
        length = Length.parse(request.length)
    except SamplingError:
        return None
    if length.unit != "seconds" or not seq.duration or seq.duration >= 0.8 * length.value:
        return None
    if abc:
        return (f"The tune ended after {seq.duration:.1f} s, before the {length.value:g} s you asked for: this model "
                "writes whole folk tunes, and this one was that short. Try another seed for another tune.")
    return (f"The piece ended after {seq.duration:.1f} s, before the {length.value:g} s you asked for: the model "
            "finished it there. Try another seed, or a longer primer.")


def notation_key(seq: NoteSequence) -> str:
    """What decides a clip's score: notes, tempo, name and meta (C-abc's ABC text), as a short digest."""
    return hashlib.sha256(repr((seq.notes, seq.qpm, seq.name, seq.meta)).encode()).hexdigest()


@st.cache_data(show_spinner="Engraving the score…", max_entries=16, hash_funcs={NoteSequence: notation_key})
def engraved(seq: NoteSequence, pages: int) -> tuple[bytes, list[str]]:
    """The clip's MusicXML and its first `pages` SVG pages (raises NotationError)."""
    musicxml = to_musicxml(seq)
    return musicxml, engrave_svg(musicxml, width=SCORE_WIDTH, max_pages=pages)


def show_score(seq: NoteSequence, stem: str, *, abc: bool = False) -> None:
    """The Score tab: engraved pages and a MusicXML download, or in words why there is no score."""
    try:
        musicxml, pages = engraved(seq, SCORE_PAGES + 1)
    except NotationError as e:
        st.info(f"No score for this clip: {e}.", icon=":material/music_off:")
        return
    except Exception as e:  # noqa: BLE001 — music21/Verovio internals; the roll and downloads still work
        st.info(f"The score could not be engraved ({type(e).__name__}). The piano roll and downloads still work.",
                icon=":material/music_off:")
        return
    how = ("written from the tune's ABC text" if abc else
           f"notes rounded to sixteenths at {seq.qpm:g} beats per minute; staves split at middle C")
    more = f" The first {SCORE_PAGES} pages are shown; the MusicXML has the whole clip." if len(pages) > SCORE_PAGES \
        else ""
    st.caption(f"Sheet music of this clip ({how}).{more}")
    for page in pages[:SCORE_PAGES]:
        st.image(page, width="stretch")
    st.download_button("Download MusicXML", musicxml, f"{stem}.musicxml", "application/vnd.recordare.musicxml+xml",
                       on_click="ignore", icon=":material/download:")


def show_roll(seq: NoteSequence, ogg: bytes | None, primer_notes: int) -> None:
    """The player over the piano roll with a playhead that moves with the audio (a click on the roll plays
    from there), and the zoomable plotly roll (hover a note for its name) folded below it; without audio,
    the plotly roll alone."""
    figure = piano_roll_figure(seq, primer_notes=primer_notes, title="" if ogg is not None else "Piano roll")
    if ogg is None:
        st.plotly_chart(figure)
        return
    playhead(ogg, notes=seq, primer_notes=primer_notes)
    with st.expander("Zoom in, or hover a note for its name", icon=":material/zoom_in:"):
        st.plotly_chart(figure)


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
    short = shorter_words(seq, request, abc="abc" in meta)
    if short:
        st.info(short, icon=":material/timer:")
    ogg = clip_audio(seq)
    has_audio = ogg is not None
    roll_col, loss_col = st.columns([3, 2])
    with roll_col:  # the roll, and beside it (lazily: engraved only when opened) the clip as sheet music
        roll_tab, score_tab = st.tabs(["Piano roll", "Score"], key=VIEW_KEY, on_change="rerun")
        if roll_tab.open is not False:
            with roll_tab:
                show_roll(seq, ogg, primer_notes)
        if score_tab.open:
            with score_tab:
                if has_audio:  # the player without a roll: the score is the picture here
                    playhead(ogg)
                show_score(seq, stem, abc="abc" in meta)
    if "abc" in meta:  # C-abc: the tune's ABC text beside its roll; the training curve moves below
        loss_col.markdown("**ABC text of this tune** (the model writes text; music21 turns it into notes)")
        loss_col.code(meta["abc"], language=None)
        loss_col = st.container()
    if is_samples(request.model):  # files from an outside model: where they came from, not a training curve
        with loss_col:
            if "file" in meta:
                st.caption(f"File `{meta['file']}` (originally `{meta.get('source', meta['file'])}`).")
            system = attempt("read the sample set", get_system, request.model)
            if system is not None:
                sample_set_details(system)
                show_evaluation(system.evaluation, key="generate-samples-eval", hint=evaluate_hint(system))
    else:
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
