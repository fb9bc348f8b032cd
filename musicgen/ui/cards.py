"""Model cards in plain words, for the home page and the Generate page."""

from __future__ import annotations

import math

import streamlit as st

from musicgen.checkpoints import CheckpointError, list_cards
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


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def _flat_numbers(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += _flat_numbers(v, f"{prefix}{k} / ")
        elif isinstance(v, (int, float, str)) and not isinstance(v, bool):
            rows.append((f"{prefix}{k}", _number(v)))
    return rows


def model_card(card: dict, problem: str | None = None) -> None:
    """One model as a bordered card; a broken checkpoint (`problem` or card["error"]) as a warning."""
    title = card.get("title") or card["id"]
    problem = problem or card.get("error")
    with st.container(border=True):
        if problem:
            st.markdown(f"**{title}** (`{card['id']}`)")
            st.warning(f"This model cannot be used right now. {problem}", icon=":material/warning:")
            return
        training = card.get("training", {})
        family = FAMILY_WORDS.get(card.get("family", ""), card.get("family", "model"))
        st.subheader(title, anchor=False)
        st.caption(f"`{card['id']}` · {family} · learned from {corpus_name(training.get('corpus', ''))}")
        st.write(card.get("description") or "No description yet.")
        nll = training.get("test_nll_per_token")
        left, mid, right = st.columns(3)
        left.metric("Held-out NLL", f"{nll:.3f}" if isinstance(nll, (int, float)) else "—",
                    help="How surprised the model is by pieces it never saw while training, in nats per "
                         "token (lower is better). Only comparable between models that use the same "
                         "note encoding.")
        mid.metric("Training time", duration_words(training.get("seconds")),
                   help=f"on {training.get('device', 'an unknown device')}")
        right.metric("Training steps", _number(training.get("steps", "—")))
        with st.expander("Limitations and details"):
            st.write(card.get("limitations") or "No limitations written down yet.")
            meaning = card.get("sampling", {}).get("temperature_meaning")
            if meaning:
                st.markdown(f"**Temperature** here means: {meaning}. Lower is safer, higher is wilder.")
            rows = _flat_numbers(card.get("evaluation") or {})
            if rows:
                st.markdown("**Evaluation**\n\n" + "\n".join(f"- {k}: {v}" for k, v in rows))
            split = training.get("split_sizes")
            if isinstance(split, dict):
                st.caption("Pieces in train / validation / test: "
                           + " / ".join(str(split.get(k, "?")) for k in ("train", "valid", "test")))


def model_overview(columns: int = 2) -> list[str]:
    """Every shipped checkpoint as a card (loading each one checks its weights); returns usable ids."""
    cards = list_cards()
    if not cards:
        st.info("No trained models are installed yet. Train one with `python -m musicgen train markov`.")
        return []
    usable = []
    cols = st.columns(columns)
    for i, card in enumerate(cards):
        problem = card.get("error")
        if not problem:
            try:
                load_model(card["id"])
                usable.append(card["id"])
            except CheckpointError as exc:
                problem = str(exc)
            except Exception as exc:  # noqa: BLE001 — a broken model must never take the page down
                log.error("unexpected error loading checkpoint %s", card["id"], exc_info=exc)
                problem = error_message(exc, f"load {card['id']}")
        with cols[i % columns]:
            model_card(card, problem)
    return usable
