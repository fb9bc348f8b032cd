"""Results (organisers only): set up studies, share their links, and read the votes and statistics."""

import streamlit as st

st.set_page_config(page_title="Results · musicgen", page_icon=":material/leaderboard:", layout="wide")

from musicgen import ui  # noqa: E402 (set_page_config first)

st.title("Listening test results", anchor=False)
if not ui.password_gate():
    st.stop()

store = ui.attempt("open the vote store", ui.vote_store)
if store is None:
    st.stop()
st.caption(f"Vote store: `{store.url}`")
ui.study_setup(store)
spec = ui.pick_study(store)
if spec is not None:
    ui.show_results(store, spec)
