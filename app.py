"""The app's entry point: registers every page (the home page, titled "Home", plus each `pages/*.py`) with
`st.navigation`, then runs the chosen one. The home page leads with where to go, then the shipped models as
compact cards in plain words (the technical detail one click away)."""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="musicgen", page_icon=":material/piano:", layout="wide")

from musicgen.ui import cards, kiosk, live  # noqa: E402 (set_page_config first)

PAGES = Path(__file__).resolve().parent / "pages"
LINKS = [  # (page, short label, what it does); labels stay short so they fit a phone's width
    ("pages/1_Generate.py", "Generate a piece", ":material/music_note:",
     "Pick a model, press Generate, listen, see the notes and download them."),
    ("pages/2_Compare.py", "Compare models", ":material/compare:",
     "Several models side by side, with real music as a yardstick."),
    ("pages/7_Human_or_AI.py", "Play Human or AI?", ":material/quiz:",
     "Can you tell a person's music from a machine's?"),
    ("pages/11_Sampling.py", "Which settings sound best", ":material/tune:",
     "Measured quality against temperature; hear any point."),
    ("pages/3_Training.py", "How the models learned", ":material/monitoring:",
     "Loss curves and the settings behind each model."),
    ("pages/9_Train.py", "Train your own", ":material/model_training:", "Train a model on your own music."),
    ("pages/8_Interpolate.py", "Morph two pieces", ":material/linear_scale:",
     "Morph one piece into another, step by step."),
    ("pages/10_Live_vote.py", "Live audience vote", ":material/groups:",
     "A room votes on its phones: person or machine? (password)"),
    ("pages/6_Results.py", "Run a listening test", ":material/how_to_vote:",
     "For organisers (password). Participants open the link the organiser gives them."),
]


def home() -> None:
    st.title("musicgen", anchor=False)
    st.markdown("Small models that write new music, note by note, after studying real pieces such as Bach's "
                "chorales. Pick one, press **Generate**, and listen.")
    st.header("Where to go next", anchor=False)
    usable = cards.usable_cards()
    if not usable:
        st.info("Once a model is trained (`python -m musicgen train markov`), the Generate page can use it.")
    links = LINKS if usable else LINKS[:1]
    half = (len(links) + 1) // 2  # two columns read top to bottom, so a phone (one column) keeps the order
    for col, part in zip(st.columns(2), (links[:half], links[half:])):
        for path, label, icon, help_text in part:
            col.page_link(path, label=label, icon=icon, help=help_text)
    st.caption("Not Meta's MusicGen: that model makes audio directly, whereas this project works with notes "
               "(MIDI), played on a synthesized instrument. Every piece can be made again exactly from its settings.")
    st.header("The models", anchor=False)
    cards.model_overview()


if st.query_params.get(live.CODE_PARAM):  # a phone joining a live vote: its page alone, no navigation
    st.navigation([st.Page(live.phone_page, title="Live vote", icon=":material/how_to_vote:", default=True)],
                  position="hidden").run()
    st.stop()

if kiosk.kiosk_on():  # issue 17: ?kiosk=1 or MUSICGEN_KIOSK=1 registers the kiosk screen alone, no navigation
    st.navigation([st.Page(kiosk.kiosk_page, title="musicgen", icon=":material/piano:", default=True)],
                  position="hidden").run()
    st.stop()

pages = [st.Page(home, title="Home", icon=":material/home:", default=True)]
pages += [st.Page(f"pages/{p.name}") for p in sorted(PAGES.glob("*.py"), key=lambda p: int(p.name.split("_")[0]))]
st.navigation(pages).run()
