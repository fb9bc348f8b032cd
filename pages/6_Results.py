"""Results (organisers only): set up studies, share their links, and read the votes and statistics."""

import streamlit as st

st.set_page_config(page_title="Results · musicgen", page_icon=":material/leaderboard:", layout="wide")

from musicgen.ui import listening, results  # noqa: E402 (set_page_config first)
from musicgen.ui.errors import attempt  # noqa: E402

st.title("Listening test results", anchor=False)
if not results.password_gate():
    st.stop()

store = attempt("open the vote store", listening.vote_store)
if store is None:
    st.stop()
st.caption(f"Vote store: `{store.url}`")
results.study_setup(store)
spec = results.pick_study(store)
if spec is not None:
    results.show_results(store, spec)
