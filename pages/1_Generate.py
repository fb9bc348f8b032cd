"""Generate: pick a model and settings, make a piece, listen, look, download, reproduce."""

from dataclasses import replace

import streamlit as st

st.set_page_config(page_title="Generate · musicgen", page_icon=":material/music_note:", layout="wide")

from musicgen.ui import generation  # noqa: E402 (set_page_config first)
from musicgen.ui.cards import usable_cards  # noqa: E402
from musicgen.ui.widgets import model_picker  # noqa: E402

st.title("Generate", anchor=False)

cards = usable_cards()
if not cards:
    st.error("No usable model is installed. Train one with `python -m musicgen train markov`, "
             "then reload this page (the home page lists any broken checkpoints).")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    card, loaded = model_picker(cards, key="model", describe=True)
    request = generation.sampling_controls(card)
    primer = generation.primer_controls(card)
    request = replace(request, primer=primer.spec, primer_seconds=primer.seconds)
    clicked = st.button("Generate", type="primary", icon=":material/music_note:",
                        disabled=not (loaded and primer.ready), width="stretch")

with result_col:
    if clicked:
        generation.generate_into_state(request, card, primer.upload)
    result = st.session_state.get(generation.RESULT_KEY)
    if result is not None:
        generation.show_result(result)
    else:
        st.info("Choose a model and settings, then press **Generate**.")
