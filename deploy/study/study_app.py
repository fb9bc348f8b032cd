"""Entry point of a participant-only deployment (`scripts/study.sh`): the listening page and nothing else.

It lives in its own folder on purpose: Streamlit serves every script in a `pages/` folder beside the
entry point by URL until `st.navigation` has run once, so an entry point next to the app's `pages/`
could not keep participants away from Generate or Results. Here there is no such folder, and the one
registered page (the participant page, hidden navigation) is all an URL can reach.
"""

from pathlib import Path

import streamlit as st

PARTICIPANT_PAGE = Path(__file__).resolve().parents[2] / "pages" / "5_Listening_test.py"

if st.query_params.get("live"):  # a phone joining a live vote (musicgen.ui.live): its page alone
    from musicgen.ui import live

    st.navigation([st.Page(live.phone_page, title="Live vote", default=True)], position="hidden").run()
    st.stop()

participant = st.Page(PARTICIPANT_PAGE, title="Listening test", url_path="Listening_test")


def _root() -> None:
    # Streamlit serves the default page at "/" whatever its url_path, so with the participant page as the
    # default, a study link (/Listening_test?study=...) met a "Page not found" dialog that blocked the page.
    # The root (and any unknown path) now forwards to the participant page with the link's parameters.
    st.switch_page(participant, query_params=dict(st.query_params))


st.navigation([st.Page(_root, title="Listening test", default=True), participant], position="hidden").run()
