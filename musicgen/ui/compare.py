"""The Compare page's parts: pick 2–4 columns (models, or a held-out real piece), one set of settings
for all, compose every column, and show them side by side.

Fairness: the audio of all columns is rendered, cut to the same length and loudness-matched together
(`audio.match_clips`), and every piano roll uses the same time and pitch range. Nothing here knows a
model family: every card in the registry works the same way. The last comparison lives in
`st.session_state[COMPARE_KEY]`, so reruns keep showing it with the settings that made it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import streamlit as st

from musicgen.audio import encode_ogg, match_clips
from musicgen.checkpoints import CheckpointError
from musicgen.data import CorpusError
from musicgen.generate import Request, generate, heldout_piece, opening
from musicgen.midi import MidiImportError
from musicgen.plots import loss_curve_figure, piano_roll_figure
from musicgen.plots_metrics import METRICS, feature_overlap_figure, metric_comparison_figure, real_value, summary_rows
from musicgen.sampling import TEMPERATURE_RANGE, SamplingError
from musicgen.sequence import NoteSequence
from musicgen.synth import SynthUnavailableError, render_audio, resolve_soundfont, synth_available
from musicgen.ui.cards import FAMILY_WORDS, corpus_name
from musicgen.ui.errors import attempt, error_message, log
from musicgen.ui.resources import SAMPLE_RATE, heldout_ids, load_model, sequence_key

COMPARE_KEY = "compare_result"
REAL = "(real piece)"  # the column option for a held-out real piece (not a valid checkpoint folder name)
REAL_LABEL = "Real piece (held-out)"
MAX_COLUMNS = 4
SEED_MAX = 2**32 - 1
NOT_EVALUATED_HINT = "Not evaluated yet: run `python -m musicgen evaluate` to measure this model against real music."
REAL_NOT_EVALUATED_HINT = ("The real-data level is not evaluated yet: run `python -m musicgen evaluate` to "
                           "measure real pieces against the training pieces.")
_KNOWN = (SamplingError, MidiImportError, CheckpointError, SynthUnavailableError, CorpusError, ValueError)


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    temperature: float = 1.0
    seconds: float = 20.0


@dataclass(frozen=True)
class Column:
    key: str  # checkpoint id, or REAL
    title: str
    line: str  # what it is, in plain words
    sequence: NoteSequence | None = None
    problem: str | None = None  # why there is no sequence
    history: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)  # for the real piece: the reference model's card
    command: str = ""

    @property
    def is_real(self) -> bool:
        return self.key == REAL


@dataclass(frozen=True)
class Comparison:
    settings: Settings
    columns: tuple[Column, ...]


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", (text or "").strip(), maxsplit=1)[0]


def _problem(exc: Exception, action: str) -> str:
    if not isinstance(exc, _KNOWN):
        log.error("unexpected error while trying to %s", action, exc_info=exc)
    return error_message(exc, action)


# ---- widgets -----------------------------------------------------------------------------------


def column_picker(cards: dict[str, dict]) -> list[str]:
    """2–4 columns: checkpoint ids and/or REAL."""
    ids = list(cards)
    default = ids[:2] if len(ids) >= 2 else ids[:1] + [REAL]
    return st.multiselect(
        "Models to compare", ids + [REAL], default=default, max_selections=MAX_COLUMNS, key="compare_models",
        format_func=lambda k: REAL_LABEL if k == REAL else (cards[k].get("title") or k),
        help=f"Two to four columns. '{REAL_LABEL}' is the opening of a real piece that no model saw in training.")


def settings_controls() -> Settings:
    """Seed, temperature and length, applied to every column."""
    lo, hi = TEMPERATURE_RANGE
    seed_col, temp_col, len_col = st.columns(3)
    seed = seed_col.number_input("Seed", 0, SEED_MAX, 0, step=1, key="compare_seed",
                                 help="Same seed and settings → same music; also picks the real piece.")
    temperature = temp_col.slider("Temperature", lo, hi, 1.0, step=0.05, key="compare_temperature",
                                  help="1 = as each model learned; lower = safer; higher = wilder.")
    seconds = len_col.number_input("Length (seconds)", 2.0, 120.0, 20.0, step=5.0, key="compare_seconds")
    return Settings(seed=int(seed), temperature=float(temperature), seconds=float(seconds))


# ---- composing ---------------------------------------------------------------------------------


def real_piece_id(ids: list[str], seed: int) -> str:
    """The held-out piece a seed picks (a local RNG: the global one is never touched)."""
    return random.Random(seed).choice(sorted(ids))


def _model_column(card: dict, settings: Settings) -> Column:
    cid = card["id"]
    training = card.get("training", {})
    family = FAMILY_WORDS.get(card.get("family", ""), card.get("family", "model"))
    line = (f"{family[:1].upper()}{family[1:]} · learned from {corpus_name(training.get('corpus', ''))}. "
            f"{first_sentence(card.get('description', ''))}")
    request = Request(model=cid, seed=settings.seed, temperature=settings.temperature, length=f"{settings.seconds:g}s")
    base = dict(key=cid, title=card.get("title") or cid, line=line, evaluation=card.get("evaluation") or {},
                command=request.command(out=f"{cid}-seed{settings.seed}.mid"))
    try:
        checkpoint = load_model(cid)
        return Column(**base, sequence=generate(checkpoint, request), history=checkpoint.history)
    except Exception as exc:  # noqa: BLE001 — one failing model must not take the other columns down
        return Column(**base, problem=_problem(exc, f"generate with {cid}"))


@st.cache_data(show_spinner=False, max_entries=16)
def _real_opening(corpus: str, piece: str, seconds: float) -> NoteSequence:
    return opening(heldout_piece(corpus, piece), seconds)


def _real_column(reference: dict, settings: Settings) -> Column:
    corpus = reference.get("training", {}).get("corpus", "")
    base = dict(key=REAL, title=REAL_LABEL, line=f"Real music from {corpus_name(corpus)}, never seen in training.",
                evaluation=reference.get("evaluation") or {})
    try:
        ids = heldout_ids(corpus)
        if not ids:
            raise ValueError(f"{corpus} has no held-out pieces")
        piece = real_piece_id(ids, settings.seed)
        seq = _real_opening(corpus, piece, settings.seconds)
    except Exception as exc:  # noqa: BLE001
        return Column(**base, problem=_problem(exc, "load a held-out piece"))
    line = f"The first {settings.seconds:g} s of {piece}, a real piece from {corpus_name(corpus)} that no model saw."
    return Column(**{**base, "line": line}, sequence=seq)


def compose(keys: list[str], cards: dict[str, dict], settings: Settings) -> Comparison:
    """Every column with the same settings; the real piece comes from the first model's corpus."""
    models = [k for k in keys if k != REAL]
    reference = cards[models[0]] if models else next(iter(cards.values()))
    columns = [_real_column(reference, settings) if k == REAL else _model_column(cards[k], settings) for k in keys]
    return Comparison(settings=settings, columns=tuple(columns))


def compose_into_state(keys: list[str], cards: dict[str, dict], settings: Settings) -> None:
    with st.spinner(f"Composing {len(keys)} pieces…"):
        comparison = attempt("compose the comparison", compose, keys, cards, settings)
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


def shared_pitch_range(seqs: list[NoteSequence]) -> tuple[int, int] | None:
    pitches = [p for s in seqs for p in s.pitches]
    return (max(0, min(pitches) - 2), min(127, max(pitches) + 2)) if pitches else None


def show_evaluation(evaluation: dict | None, *, key: str, real: bool = False) -> None:
    """A model's evaluation numbers next to the real-data level, or the hint to run `evaluate`."""
    if not evaluation:
        hint = REAL_NOT_EVALUATED_HINT if real else NOT_EVALUATED_HINT
        st.info(hint, icon=":material/query_stats:")
        return
    if real:
        rows = [{"metric": m.label, "real pieces": f"{v:.3g}", "ideal": "—" if m.ideal is None else f"{m.ideal:g}"}
                for m in METRICS.values() if (v := real_value(evaluation, m.key)) is not None]
        st.caption("Real test pieces against the training pieces: the level a perfect model would reach.")
        if rows:
            st.dataframe(rows, hide_index=True)
        return
    n, real_n, split = (evaluation.get("n_samples", "?"), evaluation.get("reference_pieces", "the"),
                        evaluation.get("reference", "held-out"))
    st.caption(f"{n} generated pieces against {real_n} real pieces ({split} split). 'real pieces' is what real music "
               "reaches against the training pieces: the level a perfect model would reach.")
    rows = summary_rows(evaluation)
    if rows:
        st.dataframe(rows, hide_index=True)
    if evaluation.get("features"):
        with st.expander("Feature by feature"):
            st.plotly_chart(feature_overlap_figure(evaluation), key=f"{key}-features")


def _show_column(i: int, column: Column, ogg: bytes | None, time_range, pitch_range) -> None:
    st.subheader(column.title, anchor=False)
    st.caption(column.line)
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
    st.plotly_chart(piano_roll_figure(column.sequence, title="Piano roll", time_range=time_range,
                                      pitch_range=pitch_range, height=280), key=f"compare-roll-{i}")
    if column.is_real:
        st.caption("Real music: nothing was trained, so there is no loss curve.")
    else:
        fig = loss_curve_figure(column.history, title="Training losses").update_layout(height=260)
        st.plotly_chart(fig, key=f"compare-loss-{i}")
    show_evaluation(column.evaluation, key=f"compare-eval-{i}", real=column.is_real)
    if column.command:
        st.code(column.command, language="bash")


def show_comparison(comparison: Comparison) -> None:
    s = comparison.settings
    st.caption(f"Seed {s.seed}, temperature {s.temperature:g}, {s.seconds:g} s for every column; audio cut to "
               "the same length and matched in loudness, piano rolls on the same axes.")
    oggs = matched_audio(comparison)
    seqs = [c.sequence for c in comparison.columns if c.sequence is not None]
    time_range, pitch_range = (0.0, s.seconds), shared_pitch_range(seqs)
    for i, (col, column, ogg) in enumerate(zip(st.columns(len(comparison.columns)), comparison.columns, oggs)):
        with col:
            _show_column(i, column, ogg, time_range, pitch_range)
    evaluated = {c.key: c.evaluation for c in comparison.columns if not c.is_real and c.evaluation}
    if evaluated:
        st.subheader("Against real music", anchor=False)
        shown = [m for m in METRICS if any(e.get(m) is not None for e in evaluated.values())]
        for col, metric in zip(st.columns(max(1, len(shown))), shown):
            col.plotly_chart(metric_comparison_figure(evaluated, metric), key=f"compare-metric-{metric}")
            col.caption(METRICS[metric].help)
