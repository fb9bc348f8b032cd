"""Compare: 2–4 models or sample sets (and a held-out real piece) with one set of settings, side by side."""

import streamlit as st

st.set_page_config(page_title="Compare · musicgen", page_icon=":material/compare_arrows:", layout="wide")

from musicgen.ui import compare  # noqa: E402 (set_page_config first)
from musicgen.ui.cards import usable_systems  # noqa: E402

st.title("Compare", anchor=False)
st.markdown("The same seed, temperature and length for every column. Audio is cut to the same length and "
            "matched in loudness, and the piano rolls share their axes, so only the music differs.")

systems = usable_systems()  # checkpoints, then sample sets
if not systems:
    st.error("No usable model is installed. Train one with `python -m musicgen train markov`, "
             "then reload this page (the home page lists any broken checkpoints).")
    st.stop()

keys = compare.column_picker(systems)
settings = compare.settings_controls()
ready = len(keys) >= 2
clicked = st.button("Compare", type="primary", icon=":material/compare_arrows:", disabled=not ready)
if not ready:
    st.info("Pick at least two columns: two models, or a model and the real piece.")

if clicked and ready:
    compare.compose_into_state(keys, systems, settings)
comparison = st.session_state.get(compare.COMPARE_KEY)
if comparison is not None:
    compare.show_comparison(comparison)
elif ready:
    st.info("Choose the columns and settings, then press **Compare**.")
