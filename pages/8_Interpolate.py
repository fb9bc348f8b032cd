"""Interpolate: morph one piece into another through a VAE's latent space; each step, then the whole morph."""

import streamlit as st

st.set_page_config(page_title="Interpolate · musicgen", page_icon=":material/linear_scale:", layout="wide")

from musicgen import ui  # noqa: E402 (set_page_config first)

st.title("Interpolate", anchor=False)
st.markdown(ui.INTERP_EXPLANATION)

cards = ui.interp_cards()
if not cards:
    st.error("No model that can interpolate is installed. Train one with `python -m musicgen train D-lstm-vae`, "
             "then reload this page.")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    model_id = st.selectbox("Model", list(cards), key="interp_model",
                            format_func=lambda cid: cards[cid].get("title") or cid)
    card = cards[model_id]
    loaded = ui.attempt(f"load {model_id}", ui.load_model, model_id) is not None
    a, label_a = ui.interp_piece_controls(card, "a", 0)
    b, label_b = ui.interp_piece_controls(card, "b", 1)
    settings = ui.interp_settings(card)
    ready = loaded and a is not None and b is not None
    clicked = st.button("Interpolate", type="primary", icon=":material/linear_scale:", disabled=not ready,
                        width="stretch")

with result_col:
    if clicked and ready:
        ui.interpolate_into_state(model_id, a, b, (label_a, label_b), settings)
    view = st.session_state.get(ui.INTERP_KEY)
    if view is not None:
        ui.show_interpolation(view)
    else:
        st.info("Choose two pieces and a number of steps, then press **Interpolate**.")
