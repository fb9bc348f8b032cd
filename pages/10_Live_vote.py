"""Live vote (presenters): the room joins on its phones with a QR code, hears blind clips, votes in a
countdown, and sees the votes arrive and the reveal. Phones open `/?live=<code>` (no navigation there)."""

import streamlit as st

st.set_page_config(page_title="Live vote · musicgen", page_icon=":material/groups:", layout="wide")

from musicgen.ui import live, results  # noqa: E402 (set_page_config first)

st.title("Live audience vote", anchor=False)
store = results.organiser_store()  # the Results password first
if store is None:
    st.stop()
live.presenter_page(store)
