"""Sampling: which temperature sounds best? Each swept model's overlap, C2ST and diversity against the setting,
and a clip at any point of the curves with one click."""

import streamlit as st

st.set_page_config(page_title="Sampling · musicgen", page_icon=":material/tune:", layout="wide")

from musicgen.ui import sampling  # noqa: E402 (set_page_config first)
from musicgen.ui.errors import attempt  # noqa: E402

st.title("Sampling", anchor=False)
st.markdown("Which temperature to use is a measurement, not a guess: `python -m musicgen sweep` makes the same "
            "samples (the same seeds) at every setting and scores them against held-out real pieces, as "
            "`evaluate` does. A star marks each model's best setting, the one Generate recommends. "
            "Click a point to hear a clip made there.")

tables = attempt("read the sweep tables", sampling.sweep_tables)
if not tables:
    sampling.no_tables()
    st.stop()

chosen = sampling.model_choice(tables)
if not chosen:
    st.info("Pick at least one model.")
    st.stop()
sampling.show_charts(chosen)

st.header("Listen at a setting", anchor=False)
point, seed, played = sampling.point_controls(chosen)
clicked = st.session_state.pop(sampling.PLAY_KEY, None)  # a point clicked on a chart
if played or clicked is not None:
    sampling.play_into_state(chosen, clicked if clicked is not None and not played else point, seed)
made = st.session_state.get(sampling.CLIP_KEY)
if made is not None and made.point.model in chosen:
    sampling.show_clip(chosen, made)
else:
    st.caption("Pick a model and a temperature, then press **Play** (or click a point on a chart).")
