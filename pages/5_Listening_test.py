"""Listening test: a participant's page, opened from a study link (`?study=<id>&key=<key>`).

Blind until each vote is stored: the clips are labelled only A and B, and nothing in the page (text,
widget keys, file names, error messages) names a system. The reveal comes after the last trial.
"""

import streamlit as st

st.set_page_config(page_title="Listening test · musicgen", page_icon=":material/headphones:",
                   initial_sidebar_state="collapsed")

from musicgen.ui import listening  # noqa: E402 (set_page_config first)
from musicgen.ui.chrome import hide_app_chrome  # noqa: E402

hide_app_chrome()  # no sidebar, toolbar or "Deploy": nowhere to go from here, in the full app too

study_id = st.query_params.get("study")
store = listening.participant_store()
spec = listening.find_study(store, study_id, st.query_params.get("key")) if store is not None else None

st.title(spec.title if spec is not None and spec.title else "Listening test", anchor=False)
if store is None:
    st.stop()
if not study_id:
    st.info("This page is opened from a study link, which ends in `?study=…`. Please use the link you were given.",
            icon=":material/link:")
elif spec is None:
    st.error("There is no study at this link. Please check that you copied the whole link you were given.",
             icon=":material/link_off:")
else:
    listening.run_study(store, spec)
