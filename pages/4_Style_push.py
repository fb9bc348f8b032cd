"""Style push: nudge a piece toward a composer with the composer classifier; before and after."""

import streamlit as st

st.set_page_config(page_title="Style push · musicgen", page_icon=":material/swap_horiz:", layout="wide")

from musicgen import ui  # noqa: E402 (set_page_config first)

st.title("Style push", anchor=False)
st.markdown(ui.PUSH_EXPLANATION)

cards = ui.push_cards()
if not cards:
    st.error("No style-push model is installed. Train it with `python -m musicgen train D-classifier-ascent`, "
             "then reload this page.")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    model_id = st.selectbox("Model", list(cards), key="push_model",
                            format_func=lambda cid: cards[cid].get("title") or cid)
    card = cards[model_id]
    loaded = ui.attempt(f"load {model_id}", ui.load_model, model_id) is not None
    piece, label = ui.push_piece_controls(card)
    settings = ui.push_settings(card)
    clicked = st.button("Push", type="primary", icon=":material/swap_horiz:", disabled=not (loaded and piece),
                        width="stretch")

with result_col:
    if clicked and piece is not None:
        ui.push_into_state(model_id, piece, label, settings)
    view = st.session_state.get(ui.PUSH_KEY)
    if view is not None:
        ui.show_push(view)
    else:
        st.info("Choose a piece, a composer and a strength, then press **Push**.")
