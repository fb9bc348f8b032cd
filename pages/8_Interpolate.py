"""Interpolate: morph one piece into another through a VAE's latent space; each step, then the whole morph."""

import streamlit as st

st.set_page_config(page_title="Interpolate · musicgen", page_icon=":material/linear_scale:", layout="wide")

from musicgen.ui import interpolate  # noqa: E402 (set_page_config first)
from musicgen.ui.widgets import model_picker  # noqa: E402

st.title("Interpolate", anchor=False)
st.markdown(interpolate.EXPLANATION)

cards = interpolate.interp_cards()
if not cards:
    st.error("No model that can interpolate is installed. Train one with `python -m musicgen train D-lstm-vae`, "
             "then reload this page.")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    card, loaded = model_picker(cards, key="interp_model")
    a = interpolate.piece_controls(card, "a", 0)
    b = interpolate.piece_controls(card, "b", 1)
    settings = interpolate.settings_controls(card)
    ready = loaded and a is not None and b is not None
    clicked = st.button("Interpolate", type="primary", icon=":material/linear_scale:", disabled=not ready,
                        width="stretch")

with result_col:
    if clicked and ready:
        interpolate.interpolate_into_state(card.id, a, b, settings)
    view = st.session_state.get(interpolate.INTERP_KEY)
    if view is not None:
        interpolate.show_interpolation(view)
    else:
        st.info("Choose two pieces and a number of steps, then press **Interpolate**.")
