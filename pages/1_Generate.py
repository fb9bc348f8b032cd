"""Generate: pick a model and settings, make a piece, listen, look, download, reproduce."""

from dataclasses import replace

import streamlit as st

st.set_page_config(page_title="Generate · musicgen", page_icon=":material/music_note:", layout="wide")

from musicgen import ui  # noqa: E402 (set_page_config first)
from musicgen.checkpoints import list_cards  # noqa: E402

st.title("Generate", anchor=False)

cards = {c["id"]: c for c in list_cards() if "error" not in c}
if not cards:
    st.error("No usable model is installed. Train one with `python -m musicgen train markov`, "
             "then reload this page (the home page lists any broken checkpoints).")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    model_id = st.selectbox("Model", list(cards), key="model",
                            format_func=lambda cid: cards[cid].get("title") or cid)
    card = cards[model_id]
    st.caption(card.get("description", ""))
    loaded = ui.attempt(f"load {model_id}", ui.load_model, model_id) is not None
    request = ui.sampling_controls(card)
    primer, primer_seconds, upload, primer_ready = ui.primer_controls(card)
    request = replace(request, primer=primer, primer_seconds=primer_seconds)
    clicked = st.button("Generate", type="primary", icon=":material/music_note:",
                        disabled=not (loaded and primer_ready), width="stretch")

with result_col:
    if clicked:
        ui.generate_into_state(request, card, upload)
    result = st.session_state.get(ui.RESULT_KEY)
    if result is not None:
        ui.show_result(result)
    else:
        st.info("Choose a model and settings, then press **Generate**.")
