"""Training: every checkpoint's loss curves, how it was made, its evaluation; overlays and sweeps."""

import streamlit as st

st.set_page_config(page_title="Training · musicgen", page_icon=":material/monitoring:", layout="wide")

from musicgen.checkpoints import list_cards, read_history  # noqa: E402 (set_page_config first)
from musicgen.ui import training  # noqa: E402

st.title("Training", anchor=False)
st.markdown("How each model learned: its loss on the training batches and on held-out validation pieces "
            "(the one that matters: it rises again when a model starts memorising), what made it, and how "
            "its music measures up against real pieces.")

cards = list_cards()
if not cards:
    st.info("No trained models are installed yet. Train one with `python -m musicgen train markov`.")
    st.stop()

x = training.x_axis_control()
histories = {c.id: read_history(c.id) for c in cards}

st.header("Checkpoints side by side", anchor=False)
training.overlay_section(histories, x, {c.id: c for c in cards})

st.header("Each checkpoint", anchor=False)
for card in cards:
    training.checkpoint_panel(card, histories[card.id], x)
