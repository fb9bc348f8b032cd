"""Model cards in plain words (home page, Training, Compare): what a model is, how it was made, and its
evaluation numbers next to the real-data level. Sample sets (files from an outside model) show where their
files came from instead of how they were trained."""

from __future__ import annotations

import math
from typing import Callable

import streamlit as st

from musicgen.card import Card
from musicgen.checkpoints import BrokenCheckpoint, CheckpointError, list_cards
from musicgen.plots_metrics import METRICS, feature_overlap_figure, real_value, row_line, summary_rows
from musicgen.systems import System, checkpoint_system, list_systems
from musicgen.ui.errors import error_message, log
from musicgen.ui.resources import load_model

FAMILY_WORDS = {  # how each family works, for a general audience (unknown families show their name)
    "markov": "counting model (Markov chain)",
    "lstm": "neural network (LSTM)",
    "transformer": "neural network (Transformer)",
    "gan-lstm": "two competing neural networks (LSTM GAN)",
    "gan-dense": "two competing neural networks (dense GAN)",
    "crnngan": "two competing neural networks (C-RNN-GAN)",
    "dcgan": "two competing image networks (DCGAN)",
    "lstm-vae": "neural network that compresses pieces (LSTM VAE)",
    "tvae": "neural network that compresses pieces (Transformer VAE)",
    "char-lstm": "neural network writing ABC text (character LSTM)",
    "classifier-ascent": "composer classifier pushing a piece (gradient ascent)",
}
CORPUS_WORDS = {"bach-chorales": "Bach chorales", "oneills-1850": "O'Neill's Irish tunes",
                "irish-abc": "Irish folk tunes (O'Neill's and Ryan's collections)",
                "music21-composers": "pieces by five composers (music21)"}
NOT_EVALUATED_HINT = "Not evaluated yet: run `python -m musicgen evaluate` to measure this model against real music."
REAL_NOT_EVALUATED_HINT = ("The real-data level is not evaluated yet: run `python -m musicgen evaluate` to "
                           "measure real pieces against the training pieces.")


def usable_cards(keep: Callable[[Card], bool] | None = None) -> dict[str, Card]:
    """The readable cards (broken checkpoints left out) that `keep` accepts, by id."""
    return {c.id: c for c in list_cards() if isinstance(c, Card) and (keep is None or keep(c))}


def usable_systems() -> dict[str, System]:
    """What Generate and Compare offer, by id: the readable checkpoints, then the readable sample sets."""
    return {s.id: s for s in list_systems()}


def systems_of(cards: dict[str, Card]) -> dict[str, System]:
    return {cid: checkpoint_system(card) for cid, card in cards.items()}


def sample_set_details(system: System) -> None:
    """Where a sample set's files came from (in place of a checkpoint's loss curves and training facts)."""
    s = system.sample_set
    st.caption(f"Files made outside this app: {s.n_files} MIDI files from `{s.source}`, added {s.added_at or '?'}"
               f"{f', {len(s.skipped)} skipped' if s.skipped else ''}. Nothing was trained here, so there is no "
               "loss curve.")


def evaluate_hint(system: System) -> str:
    """The not-evaluated-yet hint with the command for this system (a sample set needs its own id)."""
    if system.is_samples:
        return (f"Not evaluated yet: run `python -m musicgen evaluate --model {system.id}` to measure these files "
                "against real music.")
    return NOT_EVALUATED_HINT


def family_words(family: str) -> str:
    return FAMILY_WORDS.get(family, family or "unknown model")


def corpus_name(corpus: str) -> str:
    return CORPUS_WORDS.get(corpus, corpus or "unknown data")


def duration_words(seconds) -> str:
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return "—"
    if seconds < 90:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def number_words(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def _flat_numbers(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += _flat_numbers(v, f"{prefix}{k} / ")
        elif isinstance(v, (int, float, str)) and not isinstance(v, bool):
            rows.append((f"{prefix}{k}", number_words(v)))
    return rows


FAMILY_PLAIN = {  # one plain sentence per family for the home page's cards (details sit in the expander)
    "markov": "Counts which notes followed which in real pieces and rolls dice with those odds. The simple "
              "yardstick every other model must beat.",
    "lstm": "A neural network that listens to the music so far and picks the next note, one at a time.",
    "transformer": "A neural network that looks back over the last few bars to pick each next note.",
    "gan-lstm": "Two networks trained against each other: one writes a short piece, the other tries to tell it "
                "from real music.",
    "gan-dense": "Two networks trained against each other: one writes a short piece in one go, the other tries "
                 "to tell it from real music.",
    "crnngan": "Two networks trained against each other: one writes notes one after another, the other tries to "
               "tell them from real music.",
    "dcgan": "Paints music as a picture (a piano roll), like an image generator, against a critic that knows "
             "real music.",
    "lstm-vae": "Squeezes a few bars into a handful of numbers and back; new numbers give new music, and the "
                "numbers between two pieces morph one into the other.",
    "tvae": "The same squeeze-and-rebuild idea with a different network; it mostly fails, as the study found.",
    "char-lstm": "Writes folk tunes as text (ABC notation), letter by letter; the text is then read as notes.",
    "classifier-ascent": "Not a composer but an editor: it nudges a piece toward another composer's style.",
}


def plain_words(card: Card) -> str:
    """One sentence saying what a model does, without jargon (its description's first sentence otherwise)."""
    if card.family in FAMILY_PLAIN:
        return FAMILY_PLAIN[card.family]
    first = (card.description or "").split(". ")[0].strip()
    return (first.rstrip(".") + ".") if first else "No description yet."


def _number_rows(card: Card) -> list[str]:
    """Only the numbers this model has (no '—' rows for what a model does not measure)."""
    training, rows = card.training, []
    nll = training.test_nll_per_token
    if isinstance(nll, (int, float)) and math.isfinite(nll):
        rows.append(f"Held-out NLL: {nll:.3f} nats per token (how surprised it is by pieces it never saw; "
                    "lower is better, comparable only between models with the same note encoding)")
    if isinstance(training.seconds, (int, float)) and math.isfinite(training.seconds):
        rows.append(f"Training time: {duration_words(training.seconds)}"
                    + (f" on {training.device}" if training.device else ""))
    if isinstance(training.steps, int) and training.steps > 0:
        rows.append(f"Training steps: {number_words(training.steps)}")
    return rows


def model_card(card: Card | BrokenCheckpoint, problem: str | None = None) -> None:
    """One model as a compact bordered card in plain words, the technical detail in an expander; a broken
    checkpoint (`problem`, or a BrokenCheckpoint) as a warning."""
    if isinstance(card, BrokenCheckpoint):
        title, problem = card.id, problem or card.error
    else:
        title = card.display_title
    with st.container(border=True):
        if problem:
            st.markdown(f"**{title}** (`{card.id}`)")
            st.warning(f"This model cannot be used right now. {problem}", icon=":material/warning:")
            return
        st.markdown(f"**{title}**")
        st.write(plain_words(card))
        st.caption(f"Learned from {corpus_name(card.corpus)} · `{card.id}`")
        with st.expander("Details"):
            st.caption(family_words(card.family))
            st.write(card.description or "No description yet.")
            st.markdown("**Limitations**: " + (card.limitations or "none written down yet."))
            numbers = _number_rows(card)
            if numbers:
                st.markdown("\n".join(f"- {row}" for row in numbers))
            meaning = card.sampling.temperature_meaning
            if meaning:
                st.markdown(f"**Temperature** here means: {meaning}. Lower is safer, higher is wilder.")
            rows = _flat_numbers(card.evaluation)
            if rows:
                st.markdown("**Evaluation**\n\n" + "\n".join(f"- {k}: {v}" for k, v in rows))
            if card.training.split_sizes:
                st.caption("Pieces in train / validation / test: " + split_words(card.training.split_sizes))


def split_words(split: dict) -> str:
    return " / ".join(str(split.get(k, "?")) for k in ("train", "valid", "test"))


def model_overview(columns: int = 3) -> list[str]:
    """Every shipped checkpoint as a card (loading each one checks its weights); returns usable ids."""
    cards = list_cards()
    if not cards:
        st.info("No trained models are installed yet. Train one with `python -m musicgen train markov`.")
        return []
    usable = []
    cols = st.columns(columns)
    for i, card in enumerate(cards):
        problem = None
        if isinstance(card, Card):
            try:
                load_model(card.id)
                usable.append(card.id)
            except CheckpointError as exc:
                problem = str(exc)
            except Exception as exc:  # noqa: BLE001 — a broken model must never take the page down
                log.error("unexpected error loading checkpoint %s", card.id, exc_info=exc)
                problem = error_message(exc, f"load {card.id}")
        with cols[i % columns]:
            model_card(card, problem)
    return usable


def _evaluation_rows(rows: list[dict], compact: bool) -> None:
    """A table, or (`compact`, for a narrow column) one wrapping line per row so no number is cut off."""
    if compact:
        st.markdown("\n".join(f"- {row_line(row)}" for row in rows))
    else:
        st.dataframe(rows, hide_index=True)


def show_evaluation(evaluation: dict | None, *, key: str, real: bool = False, hint: str | None = None,
                    compact: bool = False) -> None:
    """A model's evaluation numbers next to the real-data level, or the hint to run `evaluate` (`hint`
    replaces the default one, e.g. with a sample set's own command).

    `real`: the real pieces' own level (`real_vs_train` of an evaluated card), for a real-piece column.
    `compact`: lines instead of a table, for a column too narrow for one (Compare's quarter-width columns)."""
    if not evaluation:
        hint = hint or (REAL_NOT_EVALUATED_HINT if real else NOT_EVALUATED_HINT)
        st.info(hint, icon=":material/query_stats:")
        return
    if real:
        rows = [{"metric": m.label, "real pieces": f"{v:.3g}", "ideal": "—" if m.ideal is None else f"{m.ideal:g}"}
                for m in METRICS.values() if (v := real_value(evaluation, m.key)) is not None]
        st.caption("Real test pieces against the training pieces: the level a perfect model would reach.")
        if rows:
            _evaluation_rows(rows, compact)
        return
    n, real_n, split = (evaluation.get("n_samples", "?"), evaluation.get("reference_pieces", "the"),
                        evaluation.get("reference", "held-out"))
    st.caption(f"{n} generated pieces against {real_n} real pieces ({split} split). 'real pieces' is what real music "
               "reaches against the training pieces: the level a perfect model would reach.")
    if evaluation.get("note"):
        st.caption(evaluation["note"])
    rows = summary_rows(evaluation)
    if rows:
        _evaluation_rows(rows, compact)
    if evaluation.get("features"):
        with st.expander("Feature by feature"):
            st.plotly_chart(feature_overlap_figure(evaluation), key=f"{key}-features")
