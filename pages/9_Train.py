"""Train: a preset's model on a built-in collection, a folder on the server or an uploaded zip, in the background."""

import streamlit as st

st.set_page_config(page_title="Train · musicgen", page_icon=":material/model_training:", layout="wide")

from musicgen.ui import train_jobs  # noqa: E402 (set_page_config first)

st.title("Train", anchor=False)
st.caption("Train a model of your own: start from a preset's settings, pick the music it learns from, press "
           "**Start**. Runs go one at a time in the background (reloading or closing this page does not stop "
           "them); each finished model is evaluated and then appears on the Generate and Compare pages.")

form_col, jobs_col = st.columns([1, 2], gap="large")
with form_col:
    train_jobs.start_form()
with jobs_col:
    train_jobs.job_list()
