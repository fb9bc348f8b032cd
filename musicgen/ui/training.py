"""The Training page's parts: every checkpoint's loss history, how it was made, its evaluation,
overlays of several checkpoints, and hyperparameter sweeps (`history["sweep"]`).

Histories are read straight from `history.json` (no weights are loaded), so a checkpoint whose weights
are broken still shows how it trained. Nothing here knows a model family: every key containing "loss"
is a curve (GAN g_loss/d_loss and VAE recon_loss/kl_loss come out together on one chart).
"""

from __future__ import annotations

import json

import streamlit as st

from musicgen.checkpoints import HISTORY, checkpoints_dir
from musicgen.plots import adversarial_figure, has_adversarial_stats, loss_curve_figure, overlay_loss_figure
from musicgen.plots_metrics import sweep_figure, sweep_rows, sweep_runs
from musicgen.ui.cards import FAMILY_WORDS, _number, corpus_name, duration_words
from musicgen.ui.compare import show_evaluation

X_LABELS = {"step": "Training steps", "seconds": "Wall-clock seconds"}
LOSS_WORDS = {  # what each line means, for the caption under a chart (unknown keys show as themselves)
    "train_loss": "on the training batches",
    "valid_loss": "on held-out validation pieces (the honest one)",
    "g_loss": "the generator's (GAN)",
    "d_loss": "the discriminator's (GAN)",
    "recon_loss": "reconstruction (VAE)",
    "kl_loss": "KL to the prior (VAE)",
}


def x_axis_control() -> str:
    x = st.segmented_control("Plot against", list(X_LABELS), format_func=X_LABELS.get, default="step",
                             required=True, key="training_x")
    return x or "step"


def read_history(checkpoint_id: str) -> dict:
    """`checkpoints/<id>/history.json`; a missing or broken file gives no records and an `error`."""
    path = checkpoints_dir() / checkpoint_id / HISTORY
    if not path.exists():
        return {"records": [], "error": f"{path.name} is missing"}
    try:
        history = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"records": [], "error": f"{path.name} cannot be read ({type(exc).__name__})"}
    return history if isinstance(history, dict) else {"records": [], "error": f"{path.name} is not an object"}


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
    return "; ".join(f"**{k}**: {LOSS_WORDS.get(k, k.replace('_', ' '))}" for k in keys)


def overlay_section(histories: dict[str, dict], x: str) -> None:
    """Several checkpoints' curves for one loss on one chart."""
    ids = [cid for cid, h in histories.items() if h.get("records")]
    if not ids:
        st.info("No checkpoint has a training history yet.")
        return
    pick_col, key_col = st.columns([3, 1])
    chosen = pick_col.multiselect("Checkpoints to overlay", ids, default=ids, key="overlay_ids")
    keys = loss_keys([histories[c] for c in chosen]) or ["valid_loss"]
    key = key_col.selectbox("Loss", keys, key="overlay_key")
    fig = overlay_loss_figure({c: histories[c] for c in chosen}, key or keys[0], x, title=f"{key} of each checkpoint")
    st.plotly_chart(fig, key="overlay-chart")


def _facts(card: dict) -> str:
    t = card.get("training", {})
    split = t.get("split_sizes")
    pieces = " / ".join(str(split.get(k, "?")) for k in ("train", "valid", "test")) if isinstance(split, dict) else "—"
    rows = [
        ("Preset", f"`{t['preset']}`" if t.get("preset") else "—"),
        ("Data", corpus_name(t.get("corpus", ""))),
        ("Pieces train / valid / test", pieces),
        ("Steps", _number(t.get("steps", "—"))),
        ("Epochs", _number(t.get("epochs", "—"))),
        ("Training time", f"{duration_words(t.get('seconds'))} on {t.get('device', '?')}"),
        ("Final validation loss", _number(t.get("final_valid_loss", "—"))),
        ("Held-out NLL per token", _number(t.get("test_nll_per_token", "—"))),
    ]
    return "| How it was made | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def sweep_section(cid: str, history: dict, x: str) -> None:
    runs = sweep_runs(history)
    st.markdown(f"**Hyperparameter sweep**: {len(runs)} settings, one curve each.")
    keys = loss_keys([{"sweep": history.get("sweep")}], sweeps=True) or ["valid_loss"]
    key = st.selectbox("Sweep loss", keys, key=f"sweep-key-{cid}") if len(keys) > 1 else keys[0]
    st.plotly_chart(sweep_figure(history, key or keys[0], x, title=f"{key} per setting"), key=f"sweep-{cid}")
    st.dataframe(sweep_rows(history, key or keys[0]), hide_index=True)


def checkpoint_panel(card: dict, history: dict, x: str) -> None:
    """One checkpoint: its loss curves, how it was made, its evaluation and any sweep."""
    cid = card["id"]
    with st.container(border=True):
        st.subheader(card.get("title") or cid, anchor=False)
        family = FAMILY_WORDS.get(card.get("family", ""), card.get("family") or "unknown model")
        st.caption(f"`{cid}` · {family}")
        if card.get("error"):
            st.warning(f"This checkpoint cannot be used right now. {card['error']}", icon=":material/warning:")
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
                           "(P(real) near 1 on real and near 0 on generated) is winning and teaching the "
                           "generator little; a spread near 0 means every sample looks the same.")
        with facts_col:
            st.markdown(_facts(card))
            config = card.get("training", {}).get("train_config")
            if config:
                with st.expander("Training configuration"):
                    st.json(config, expanded=True)
        st.markdown("**Evaluation against real music**")
        show_evaluation(card.get("evaluation"), key=f"train-eval-{cid}")
        if sweep_runs(history):
            sweep_section(cid, history, x)
