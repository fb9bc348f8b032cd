"""Results (organisers only): set up studies, share their links, and read the votes and statistics."""

import streamlit as st

st.set_page_config(page_title="Results · musicgen", page_icon=":material/leaderboard:", layout="wide")

from musicgen.ui import results  # noqa: E402 (set_page_config first)

st.title("Listening test results", anchor=False)
store = results.organiser_store()  # the password first
if store is None:
    st.stop()
st.caption(f"Vote store: `{store.url}`")
results.study_setup(store)
spec = results.pick_study(store)
if spec is not None:
    results.show_results(store, spec)
