"""Home page: what musicgen is, the shipped models as cards, where to go next."""

import streamlit as st

st.set_page_config(page_title="musicgen", page_icon=":material/piano:", layout="wide")

from musicgen.ui import cards  # noqa: E402 (set_page_config first)

st.title("musicgen")
st.markdown(
    "musicgen writes new music, one note at a time. Each model here has studied a collection of real "
    "pieces (such as Bach's chorales) and learned which notes tend to follow which; you can ask it for "
    "a new piece, listen to it, see it as a piano roll and download it as a MIDI file.\n\n"
    "Models are trained and compared side by side, and every piece can be made again exactly from "
    "its settings."
)
st.caption("Not Meta's MusicGen: that model makes audio directly, whereas this project works with notes "
           "(MIDI), which are then played on a synthesized instrument.")

st.header("The models", anchor=False)
usable = cards.model_overview()

st.header("Where to go next", anchor=False)
if usable:
    st.page_link("pages/1_Generate.py", label="Generate a piece with one of these models", icon=":material/music_note:")
    st.page_link("pages/2_Compare.py", label="Compare models side by side, with real music as a yardstick",
                 icon=":material/compare:")
    st.page_link("pages/3_Training.py", label="See how each model learned (loss curves, settings)",
                 icon=":material/monitoring:")
    st.page_link("pages/9_Train.py", label="Train a model of your own on your music", icon=":material/model_training:")
    st.page_link("pages/8_Interpolate.py", label="Morph one piece into another with a VAE (Interpolate)",
                 icon=":material/linear_scale:")
    st.page_link("pages/7_Human_or_AI.py", label="Play Human or AI? Can you tell a person's music from a machine's?",
                 icon=":material/quiz:")
    st.page_link("pages/6_Results.py", label="Run a blind listening test (organisers; password)",
                 icon=":material/how_to_vote:")
    st.caption("Participants of a listening test open the link the organiser gives them "
               "(Listening test page with `?study=<id>`).")
else:
    st.info("Once a model is trained (`python -m musicgen train markov`), the Generate page can use it.")
    st.page_link("pages/1_Generate.py", label="Generate page", icon=":material/music_note:")
