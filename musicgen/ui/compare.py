"""The Compare page's parts: pick 2–4 columns (models, sample sets, or a held-out real piece), one set of settings
for all, compose every column (`musicgen.comparison`, through `systems.make_clip`), and show them side
by side.

Fairness: the audio of all columns is rendered, cut to the same length and loudness-matched together
(`audio.match_clips`), and every piano roll uses the same time and pitch range. Nothing here knows a
model family: every card in the registry works the same way. The last comparison lives in
`st.session_state[COMPARE_KEY]`, so reruns keep showing it with the settings that made it.
"""

from __future__ import annotations

import re

import streamlit as st

from musicgen.audio import encode_ogg, match_clips
from musicgen.checkpoints import CheckpointError
from musicgen.comparison import REAL, Column, Comparison, Settings, compose
from musicgen.corpora import CorpusError
from musicgen.midi import MidiImportError
from musicgen.plots import loss_curve_figure, piano_roll_figure, shared_pitch_range
from musicgen.plots_metrics import METRICS, comparison_rows, metric_comparison_figure
from musicgen.sampling import TEMPERATURE_RANGE, SamplingError
from musicgen.sequence import NoteSequence
from musicgen.synth import SynthUnavailableError, render_audio, resolve_soundfont, synth_available
from musicgen.systems import System
from musicgen.ui.cards import corpus_name, evaluate_hint, family_words, sample_set_details, show_evaluation
from musicgen.ui.errors import attempt, error_message, log
from musicgen.ui.resources import SAMPLE_RATE, sequence_key
from musicgen.ui.widgets import seed_input

COMPARE_KEY = "compare_result"
REAL_LABEL = "Real piece (held-out)"
MAX_COLUMNS = 4
_KNOWN = (SamplingError, MidiImportError, CheckpointError, SynthUnavailableError, CorpusError, ValueError)


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", (text or "").strip(), maxsplit=1)[0]


def _problem(exc: Exception, action: str) -> str:
    """A column's failure in plain words (an unexpected one goes to the server log with its traceback)."""
    if not isinstance(exc, _KNOWN):
        log.error("unexpected error while trying to %s", action, exc_info=exc)
    return error_message(exc, action)


# ---- widgets -----------------------------------------------------------------------------------


def column_picker(systems: dict[str, System]) -> list[str]:
    """2–4 columns: system ids (checkpoints, sample sets) and/or REAL."""
    ids = list(systems)
    default = ids[:2] if len(ids) >= 2 else ids[:1] + [REAL]
    return st.multiselect(
        "Models to compare", ids + [REAL], default=default, max_selections=MAX_COLUMNS, key="compare_models",
        format_func=lambda k: REAL_LABEL if k == REAL else systems[k].title,
        help=f"Two to four columns. '{REAL_LABEL}' is the opening of a real piece that no model saw in training; "
             "a sample set plays files an outside model made (the seed picks the file).")


def settings_controls() -> Settings:
    """Seed, temperature and length, applied to every column."""
    lo, hi = TEMPERATURE_RANGE
    seed_col, temp_col, len_col = st.columns(3)
    with seed_col:
        seed = seed_input("compare_seed", new_seed=False,
                          help="Same seed and settings → same music; also picks the real piece.")
    temperature = temp_col.slider("Temperature", lo, hi, 1.0, step=0.05, key="compare_temperature",
                                  help="1 = as each model learned; lower = safer; higher = wilder.")
    seconds = len_col.number_input("Length (seconds)", 2.0, 120.0, 20.0, step=5.0, key="compare_seconds")
    return Settings(seed=seed, temperature=float(temperature), seconds=float(seconds))


def compose_into_state(keys: list[str], systems: dict[str, System], settings: Settings) -> None:
    with st.spinner(f"Composing {len(keys)} pieces…"):
        comparison = attempt("compose the comparison", compose, keys, systems, settings, _problem)
    if comparison is not None:
        st.session_state[COMPARE_KEY] = comparison


# ---- showing -----------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs={NoteSequence: sequence_key})
def _matched_ogg(seqs: tuple[NoteSequence, ...], seconds: float, sample_rate: int, soundfont: str) -> list[bytes]:
    clips = [render_audio(s, sample_rate=sample_rate, soundfont=soundfont) for s in seqs]
    return [encode_ogg(c) for c in match_clips(clips, length=seconds)]


def matched_audio(comparison: Comparison) -> list[bytes | None]:
    """OGG per column, all cut to the requested length and matched in loudness; None where none."""
    present = [c.sequence for c in comparison.columns if c.sequence is not None]
    none = [None] * len(comparison.columns)
    ok, message = synth_available()
    if not ok:
        st.warning(f"Audio is off on this server: {message}. The piano rolls still work.", icon=":material/volume_off:")
        return none
    with st.spinner("Rendering matched audio…"):
        oggs = attempt("render the audio", lambda: _matched_ogg(tuple(present), comparison.settings.seconds,
                                                                SAMPLE_RATE, str(resolve_soundfont())))
    if oggs is None:
        return none
    it = iter(oggs)
    return [next(it) if c.sequence is not None else None for c in comparison.columns]


def column_line(column: Column, seconds: float) -> str:
    """What a column is, in plain words."""
    if column.is_real:
        where = corpus_name(column.corpus)
        if column.piece:
            return f"The first {seconds:g} s of {column.piece}, a real piece from {where} that no model saw."
        return f"Real music from {where}, never seen in training."
    if column.is_samples:
        s = column.system.sample_set
        file = column.sequence.meta_dict().get("file", "") if column.sequence is not None else ""
        which = f" This is the first {seconds:g} s of `{file}`." if file else ""
        return (f"Files from an outside model ({s.n_files} MIDI files), compared with {corpus_name(s.corpus)}; "
                f"the seed picks the file.{which}")
    card = column.card
    family = family_words(card.family)
    return (f"{family[:1].upper()}{family[1:]} · learned from {corpus_name(card.corpus)}. "
            f"{first_sentence(card.description)}")


def _show_column(i: int, column: Column, ogg: bytes | None, seconds: float, pitch_range) -> None:
    st.subheader(REAL_LABEL if column.is_real else column.system.title, anchor=False)
    st.caption(column_line(column, seconds))
    if column.problem:
        st.error(column.problem, icon=":material/error:")
        return
    meta = column.sequence.meta_dict() if column.sequence is not None else {}
    if "abc_error" in meta:  # C-abc wrote text that is not a readable tune: say so, show the text
        st.warning(f"This tune's ABC text does not parse, so there are no notes to play ({meta['abc_error']}).",
                   icon=":material/warning:")
    if ogg is not None:
        st.audio(ogg, format="audio/ogg")
    if "abc" in meta:
        with st.expander("The ABC text it wrote"):
            st.code(meta["abc"], language=None)
    st.plotly_chart(piano_roll_figure(column.sequence, title="Piano roll", time_range=(0.0, seconds),
                                      pitch_range=pitch_range, height=280), key=f"compare-roll-{i}")
    if column.is_real:
        st.caption("Real music: nothing was trained, so there is no loss curve.")
    elif column.is_samples:
        sample_set_details(column.system)
    else:
        fig = loss_curve_figure(column.history, title="Training losses").update_layout(height=260)
        st.plotly_chart(fig, key=f"compare-loss-{i}")
    show_evaluation(column.evaluation, key=f"compare-eval-{i}", real=column.is_real, compact=True,
                    hint=None if column.is_real else evaluate_hint(column.system))
    if column.command:
        st.code(column.command, language="bash")


def show_comparison(comparison: Comparison) -> None:
    s = comparison.settings
    st.caption(f"Seed {s.seed}, temperature {s.temperature:g}, {s.seconds:g} s for every column; audio cut to "
               "the same length and matched in loudness, piano rolls on the same axes.")
    oggs = matched_audio(comparison)
    seqs = [c.sequence for c in comparison.columns if c.sequence is not None]
    pitch_range = shared_pitch_range(seqs)
    for i, (col, column, ogg) in enumerate(zip(st.columns(len(comparison.columns)), comparison.columns, oggs)):
        with col:
            _show_column(i, column, ogg, s.seconds, pitch_range)
    evaluated = column_titles({c.key: c for c in comparison.columns if not c.is_real and c.evaluation})
    if evaluated:
        st.subheader("Against real music", anchor=False)
        st.dataframe(comparison_rows(evaluated), hide_index=True, key="compare-eval-table")
        shown = [m for m in METRICS if any(e.get(m) is not None for e in evaluated.values())]
        per_row = 2 if len(evaluated) > 2 else max(1, len(shown))  # room for four titles under each chart
        for start in range(0, len(shown), per_row):
            for col, metric in zip(st.columns(per_row), shown[start:start + per_row]):
                col.plotly_chart(metric_comparison_figure(evaluated, metric), key=f"compare-metric-{metric}")
                col.caption(METRICS[metric].help)


def column_titles(columns: dict[str, Column]) -> dict[str, dict]:
    """Each evaluated column's evaluation under its title (the name its column shows), made unique with
    the id where two titles are the same."""
    titles = [c.system.title for c in columns.values()]
    return {(c.system.title if titles.count(c.system.title) == 1 else f"{c.system.title} ({key})"): c.evaluation
            for key, c in columns.items()}
