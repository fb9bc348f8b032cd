"""Style push: nudge a piece toward a composer with the composer classifier; before and after."""

import streamlit as st

st.set_page_config(page_title="Style push · musicgen", page_icon=":material/swap_horiz:", layout="wide")

from musicgen.ui import style_push  # noqa: E402 (set_page_config first)
from musicgen.ui.widgets import model_picker  # noqa: E402

st.title("Style push", anchor=False)
st.markdown(style_push.EXPLANATION)

cards = style_push.push_cards()
if not cards:
    st.error("No style-push model is installed. Train it with `python -m musicgen train D-classifier-ascent`, "
             "then reload this page.")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    card, loaded = model_picker(cards, key="push_model")
    piece = style_push.piece_controls(card)
    settings = style_push.settings_controls(card)
    clicked = st.button("Push", type="primary", icon=":material/swap_horiz:", disabled=not (loaded and piece),
                        width="stretch")

with result_col:
    if clicked and piece is not None:
        style_push.push_into_state(card.id, piece, settings)
    view = st.session_state.get(style_push.PUSH_KEY)
    if view is not None:
        style_push.show_push(view)
    else:
        st.info("Choose a piece, a composer and a strength, then press **Push**.")
