"""The Training page's parts: every checkpoint's loss history, how it was made, its evaluation,
overlays of several checkpoints, and hyperparameter sweeps (`history["sweep"]`).

Histories are read straight from `history.json` (`checkpoints.read_history`; no weights are loaded), so a checkpoint whose weights
are broken still shows how it trained. Nothing here knows a model family: every key containing "loss"
is a curve (GAN g_loss/d_loss and VAE recon_loss/kl_loss come out together on one chart).
"""

from __future__ import annotations

import streamlit as st

from musicgen.card import Card
from musicgen.checkpoints import BrokenCheckpoint
from musicgen.plots import adversarial_figure, has_adversarial_stats, loss_curve_figure, loss_label, overlay_loss_figure
from musicgen.plots_metrics import sweep_figure, sweep_rows, sweep_runs
from musicgen.ui.cards import corpus_name, duration_words, family_words, number_words, show_evaluation, split_words

X_LABELS = {"step": "Training steps", "seconds": "Wall-clock seconds"}
LOSS_WORDS = {  # what each line means, for the caption under a chart (unknown keys show as themselves)
    "train_loss": "on the training batches",
    "valid_loss": "on held-out validation pieces (the honest one)",
    "g_loss": "the generator's (GAN)",
    "d_loss": "the critic's (GAN)",
    "recon_loss": "reconstruction (VAE)",
    "kl_loss": "KL to the prior (VAE)",
}


def x_axis_control() -> str:
    x = st.segmented_control("Plot against", list(X_LABELS), format_func=X_LABELS.get, default="step",
                             required=True, key="training_x")
    return x or "step"


def loss_keys(histories: list[dict], *, sweeps: bool = False) -> list[str]:
    """Every loss key in these histories' records (and their sweeps' records), valid_loss first."""
    keys: list[str] = []
    for history in histories:
        runs = [history, *(sweep_runs(history).values() if sweeps else ())]
        for run in runs:
            for record in run.get("records") or []:
                if isinstance(record, dict):
                    keys += [k for k in record if "loss" in k and k not in keys]
    return sorted(keys, key=lambda k: (k != "valid_loss", k != "train_loss"))


def loss_caption(keys: list[str]) -> str:
    return "; ".join(f"**{loss_label(k)}**: {LOSS_WORDS.get(k, k.replace('_', ' '))}" for k in keys)


OBJECTIVE_WORDS = {"prediction": "Prediction loss", "adversarial": "GAN losses (generator against critic)",
                   "variational": "VAE losses (reconstruction + KL)"}
ENCODING_WORDS = {"notes": "note events", "pianoroll": "piano rolls", "abc": "ABC text", "features": "continuous notes"}


def loss_group(card: Card | BrokenCheckpoint | None, history: dict) -> tuple[str, str]:
    """Which checkpoints' losses can share an axis: the same kind of objective (plain prediction, GAN,
    VAE: read from the history's loss keys) over the same encoding of the music (the card's
    representation and its vocabulary size). Returns (group key, group in words)."""
    keys = set(loss_keys([history]))
    objective = ("adversarial" if keys & {"g_loss", "d_loss"} else "variational" if "kl_loss" in keys
                 else "prediction")
    spec = getattr(card, "representation", None)
    encoding = getattr(spec, "name", "") or "unknown encoding"
    size = getattr(spec, "vocab_size", None)
    words = f"{OBJECTIVE_WORDS[objective]} on {ENCODING_WORDS.get(encoding, encoding)}"
    return f"{objective}|{encoding}|{size}", words


def loss_groups(histories: dict[str, dict], cards: dict | None = None) -> dict[str, list[str]]:
    """{group in words: checkpoint ids} for the checkpoints with a history, biggest group first; groups
    with the same words but a different vocabulary size say so."""
    found: dict[tuple[str, str], list[str]] = {}
    for cid, history in histories.items():
        if history.get("records"):
            found.setdefault(loss_group((cards or {}).get(cid), history), []).append(cid)
    words = [w for _, w in found]
    groups = {(w if words.count(w) == 1 else f"{w} ({k.rsplit('|', 1)[-1]} symbols)"): ids
              for (k, w), ids in found.items()}
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


def overlay_section(histories: dict[str, dict], x: str, cards: dict | None = None) -> None:
    """Several checkpoints' curves for one loss on one chart: only checkpoints whose losses are
    comparable (`loss_groups`) can be overlaid, and one is shown until more are picked."""
    groups = loss_groups(histories, cards)
    if not groups:
        st.info("No checkpoint has a training history yet.")
        return
    group_col, pick_col, key_col = st.columns([2, 3, 1])
    group = group_col.selectbox(
        "Comparable losses", list(groups), key="overlay_group", format_func=lambda g: f"{g} ({len(groups[g])})",
        help="Losses only mean the same thing between checkpoints trained the same way on the same encoding "
             "of the music (a VAE's loss of 6 is not worse than an LSTM's 2), so only those share a chart.")
    ids = groups[group or next(iter(groups))]
    chosen = pick_col.multiselect("Checkpoints to overlay", ids, default=ids[:1], key=f"overlay_ids-{group}",
                                  help="Add more checkpoints of this group to compare their curves.")
    keys = loss_keys([histories[c] for c in chosen or ids]) or ["valid_loss"]
    key = key_col.selectbox("Loss", keys, key="overlay_key", format_func=loss_label) or keys[0]
    fig = overlay_loss_figure({c: histories[c] for c in chosen}, key, x,
                              title=f"{loss_label(key).capitalize()} loss of each checkpoint")
    st.plotly_chart(fig, key="overlay-chart")


def _facts(card: Card) -> str:
    t = card.training

    def maybe(value) -> str:
        return "—" if value is None else number_words(value)

    rows = [
        ("Preset", f"`{t.preset}`" if t.preset else "—"),
        ("Data", corpus_name(t.corpus)),
        ("Pieces train / valid / test", split_words(t.split_sizes) if t.split_sizes else "—"),
        ("Steps", number_words(t.steps)),
        ("Epochs", number_words(t.epochs)),
        ("Training time", f"{duration_words(t.seconds)} on {t.device}"),
        ("Final validation loss", maybe(t.final_valid_loss)),
        ("Held-out NLL per token", maybe(t.test_nll_per_token)),
    ]
    return "| How it was made | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def sweep_section(cid: str, history: dict, x: str) -> None:
    runs = sweep_runs(history)
    st.markdown(f"**Hyperparameter sweep**: {len(runs)} settings, one curve each.")
    keys = loss_keys([{"sweep": history.get("sweep")}], sweeps=True) or ["valid_loss"]
    key = st.selectbox("Sweep loss", keys, key=f"sweep-key-{cid}", format_func=loss_label) if len(keys) > 1 else keys[0]
    st.plotly_chart(sweep_figure(history, key or keys[0], x, title=f"{loss_label(key).capitalize()} loss per setting"),
                    key=f"sweep-{cid}")
    st.dataframe(sweep_rows(history, key or keys[0]), hide_index=True)


def checkpoint_panel(card: Card | BrokenCheckpoint, history: dict, x: str) -> None:
    """One checkpoint: its loss curves, how it was made, its evaluation and any sweep. A checkpoint whose
    card cannot be read shows why, and its curves if its history is readable."""
    cid = card.id
    broken = isinstance(card, BrokenCheckpoint)
    with st.container(border=True):
        st.subheader(cid if broken else card.display_title, anchor=False)
        st.caption(f"`{cid}` · {family_words('' if broken else card.family)}")
        if broken:
            st.warning(f"This checkpoint cannot be used right now. {card.error}", icon=":material/warning:")
        if history.get("error"):
            st.warning(f"No training history: {history['error']}.", icon=":material/warning:")
        chart_col, facts_col = st.columns([3, 2])
        with chart_col:
            st.plotly_chart(loss_curve_figure(history, x=x, title="Losses"), key=f"loss-{cid}")
            keys = loss_keys([history])
            if keys:
                st.caption(loss_caption(keys))
            if has_adversarial_stats(history):
                st.plotly_chart(adversarial_figure(history, x=x, title="Generator against critic"),
                                key=f"gan-{cid}")
                st.caption("Adversarial training has no loss that falls steadily: a critic sure of both "
                           "(belief near 1 on real and near 0 on generated) is winning and teaching the "
                           "generator little; a spread near 0 means every sample looks the same.")
        if not broken:
            with facts_col:
                st.markdown(_facts(card))
                if card.training.train_config:
                    with st.expander("Training configuration"):
                        st.json(card.training.train_config, expanded=True)
            st.markdown("**Evaluation against real music**")
            show_evaluation(card.evaluation, key=f"train-eval-{cid}")
        if sweep_runs(history):
            sweep_section(cid, history, x)
