"""Human or AI? A one-screen game for demos: hear a clip, guess who wrote it, see the answer."""

import streamlit as st

st.set_page_config(page_title="Human or AI? · musicgen", page_icon=":material/psychology_alt:",
                   initial_sidebar_state="collapsed")

from musicgen.ui import game, listening  # noqa: E402 (set_page_config first)

st.title("Human or AI?", anchor=False)
st.markdown("Listen to the clip and guess: was it written by a person, or by one of our computer models?")

store = listening.participant_store()
spec = game.game_study() if store is not None else None
if spec is not None:
    game.play(store, spec)
