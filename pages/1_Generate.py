"""Generate: pick a model (or a sample set) and settings, make a piece, listen, look, download, reproduce."""

from dataclasses import replace

import streamlit as st

st.set_page_config(page_title="Generate · musicgen", page_icon=":material/music_note:", layout="wide")

from musicgen.ui import generation  # noqa: E402 (set_page_config first)
from musicgen.ui.cards import usable_systems  # noqa: E402
from musicgen.ui.widgets import model_picker  # noqa: E402

st.title("Generate", anchor=False)

systems = usable_systems()  # checkpoints, then sample sets
if not systems:
    st.error("No usable model is installed. Train one with `python -m musicgen train markov`, "
             "then reload this page (the home page lists any broken checkpoints).")
    st.stop()

settings_col, result_col = st.columns([1, 2], gap="large")
with settings_col:
    system, loaded = model_picker(systems, key="model", describe=True)
    if system.card is not None:
        request = generation.sampling_controls(system.card)
        primer = generation.primer_controls(system.card)
        request = replace(request, primer=primer.spec, primer_seconds=primer.seconds)
    else:  # a sample set: the seed picks a file, no temperature or primer
        request, primer = generation.sample_set_controls(system), generation.Primer()
    clicked = st.button("Generate", type="primary", icon=":material/music_note:",
                        disabled=not (loaded and primer.ready), width="stretch")

with result_col:
    if primer.failed:  # a bad upload: its error stands alone, not beside the last (now stale) result
        st.session_state.pop(generation.RESULT_KEY, None)
    if clicked:
        generation.generate_into_state(request, system, primer.upload)
    result = st.session_state.get(generation.RESULT_KEY)
    if result is not None:
        generation.show_result(result)
    elif primer.failed:
        st.info("The uploaded file could not be read (the message is under the upload): choose another file, "
                "or no primer.", icon=":material/upload_file:")
    else:
        st.info("Choose a model and settings, then press **Generate**.")
