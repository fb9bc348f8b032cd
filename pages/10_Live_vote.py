"""Live vote (presenters): the room joins on its phones with a QR code, hears blind clips, votes in a
countdown, and sees the votes arrive and the reveal. Phones open `/?live=<code>` (no navigation there)."""

import streamlit as st

st.set_page_config(page_title="Live vote · musicgen", page_icon=":material/groups:", layout="wide")

from musicgen.ui import listening, live, results  # noqa: E402 (set_page_config first)
from musicgen.ui.errors import attempt  # noqa: E402

st.title("Live audience vote", anchor=False)
if not results.password_gate():
    st.stop()
store = attempt("open the vote store", listening.vote_store)
if store is None:
    st.stop()
live.presenter_page(store)
