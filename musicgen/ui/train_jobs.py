"""The Train page's parts: the form that queues a training run (`jobs.submit`), and the live list of runs.

Runs happen in a background process (`musicgen.jobs`), so this page only writes requests and reads job
files: reloading it, or closing the tab, changes nothing. The list refreshes itself every
`REFRESH_SECONDS` (an `st.fragment`), showing each run's status, progress, time left and loss curve.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from musicgen import jobs
from musicgen.checkpoints import user_checkpoints_dir
from musicgen.corpora import CORPORA, CorpusError
from musicgen.plots import loss_curve_figure
from musicgen.presets import PRESETS
from musicgen.presets.base import default_run_id, settable_keys

REFRESH_SECONDS = 2.0
BUILTIN, FOLDER, UPLOAD = "builtin", "folder", "upload"
SOURCES = {BUILTIN: "A built-in collection", FOLDER: "A folder on this server", UPLOAD: "A zip I upload"}
FINISHED_SHOWN = 10
STATUS_BADGES = {jobs.QUEUED: ("Queued", "gray", ":material/schedule:"),
                 jobs.RUNNING: ("Running", "blue", ":material/model_training:"),
                 jobs.DONE: ("Done", "green", ":material/check_circle:"),
                 jobs.FAILED: ("Failed", "red", ":material/error:"),
                 jobs.CANCELLED: ("Cancelled", "orange", ":material/cancel:")}


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


# ---- the form --------------------------------------------------------------------------------------------
def _corpus_choice(preset) -> tuple[str | None, str | None, str | None]:
    """(corpus, label, problem): the corpus widgets' answer, or why it is not ready yet."""
    source = st.radio("Music to learn from", list(SOURCES), format_func=SOURCES.get, key="train_source",
                      horizontal=True)
    if source == BUILTIN:
        names = [c for c in CORPORA if c != "toy"]
        corpus = st.selectbox("Collection", names, key="train_corpus",
                              index=names.index(preset.corpus) if preset.corpus in names else 0)
        return corpus, corpus, None
    if source == FOLDER:
        text = st.text_input("Folder on the server", key="train_folder", placeholder="/data/my-midi",
                             help="Every MIDI, ABC and MusicXML file in it (and in folders inside it).").strip()
        if not text:
            return None, None, "Type the path of a folder on the server."
        folder = Path(text).expanduser()
        if not folder.is_dir():
            return None, None, f"{text} is not a folder on this server."
        return f"folder:{folder.resolve()}", text, None
    upload = st.file_uploader("Zip of MIDI, ABC or MusicXML files", type=["zip"], key="train_zip")
    if upload is None:
        return None, None, "Choose a zip file of your music."
    return None, upload.name, None  # unpacked only when Start is pressed


def start_form() -> None:
    """Preset, corpus, settings, name and time budget; **Start** queues the run (one line if refused)."""
    preset_id = st.selectbox("Start from the settings of", list(PRESETS), key="train_preset",
                             format_func=lambda p: f"{p}: {PRESETS[p].title}")
    preset = PRESETS[preset_id]
    corpus, label, problem = _corpus_choice(preset)
    model_keys, train_keys = settable_keys(preset)
    text = st.text_area("Settings to change (optional)", key="train_settings", placeholder="hidden=64\nlr=0.003",
                        help=f"One key=value per line. Model: {', '.join(model_keys)}. "
                             f"Training: {', '.join(train_keys)}.")
    name = st.text_input("Name (optional)", key="train_name", placeholder=default_run_id(preset, label),
                         help="The new model's id in Generate and Compare.").strip()
    if (user_checkpoints_dir() / (name or default_run_id(preset, label))).exists():
        st.warning("You already have a model with this name: a finished run replaces it.", icon=":material/warning:")
    budget = float(preset.train.max_seconds or 30 * 60) / 60
    minutes = st.number_input("Time budget (minutes)", min_value=0.5, max_value=24 * 60.0, value=budget, step=1.0,
                              key="train_minutes", help="Training stops at this time or at the preset's last "
                                                        "step, whichever comes first; evaluation follows.")
    if st.button("Start", type="primary", icon=":material/play_arrow:", key="train_start", width="stretch"):
        if problem:
            st.error(problem, icon=":material/error:")
            return
        _start(preset_id, corpus, label, text, name or None, minutes)


def _start(preset_id: str, corpus: str | None, label: str | None, text: str, name: str | None,
           minutes: float) -> None:
    try:
        settings = jobs.parse_settings(text)
        if corpus is None:  # an upload: kept under the data folder and unpacked once
            upload = st.session_state["train_zip"]
            corpus = jobs.corpus_from_upload(upload.name, upload.getvalue())
        job = jobs.submit(jobs.JobSpec(preset=preset_id, corpus=corpus, settings=settings, name=name,
                                       max_minutes=minutes, corpus_label=label))
    except (jobs.JobError, CorpusError) as e:
        st.error(str(e), icon=":material/error:")
        return
    ahead = sum(1 for j in jobs.list_jobs() if j.active and j.created < job.created)
    where = f"waits behind {ahead} other run{'s' if ahead > 1 else ''}" if ahead else "starts in a few seconds"
    st.success(f"**{job.checkpoint_id}** is queued and {where}.", icon=":material/check:")


# ---- the list of runs ------------------------------------------------------------------------------------
def _cancel(job_id: str) -> None:
    try:
        jobs.cancel(job_id)
    except jobs.JobError as e:  # it ended in the meantime
        st.toast(str(e))


def _forget(job_id: str) -> None:
    try:
        jobs.forget(job_id)
    except jobs.JobError as e:
        st.toast(str(e))


def _loss_curve(job: jobs.Job) -> None:
    records = jobs.progress(job.id)
    if records:
        st.plotly_chart(loss_curve_figure({"records": records}, title="Loss so far" if job.active else "Loss"),
                        key=f"train_loss_{job.id}")


def show_job(job: jobs.Job, *, position: int = 0) -> None:
    """One run: name, badge, what it is doing (or why it stopped), progress, loss curve, Cancel."""
    with st.container(border=True, key=f"train_job_{job.id}"):
        title_col, badge_col = st.columns([4, 1], vertical_alignment="center")
        title_col.markdown(f"**{job.checkpoint_id}** · {job.spec.preset} on {job.corpus_label}")
        text, color, icon = STATUS_BADGES.get(job.status, (job.status, "gray", None))
        badge_col.badge(text, color=color, icon=icon)
        if job.status == jobs.QUEUED:
            st.caption(f"Waiting in the queue (number {position}): one run at a time on this machine.")
        elif job.status == jobs.RUNNING:
            _running(job)
        elif job.status == jobs.DONE:
            took = _duration(job.finished - job.started) if job.finished and job.started else ""
            st.markdown(f"Finished in {took}: **{job.checkpoint_id}** is now on the **Generate** and "
                        "**Compare** pages.")
        elif job.status == jobs.FAILED:
            st.error(job.error or "failed", icon=":material/error:")
        else:
            st.caption("Cancelled: nothing was saved.")
        if job.note:
            st.caption(job.note)
        if job.active:
            st.button("Cancel", key=f"train_cancel_{job.id}", icon=":material/stop:", on_click=_cancel,
                      args=(job.id,), disabled=job.cancel_requested)
        else:
            with st.expander("Loss curve"):
                _loss_curve(job)
            st.button("Remove from list", key=f"train_forget_{job.id}", on_click=_forget, args=(job.id,),
                      type="tertiary")


def _running(job: jobs.Job) -> None:
    if job.cancel_requested:
        st.caption("Cancelling: it stops at its next progress report.")
    fraction, eta = job.fraction, job.eta_seconds
    parts = [f"step {job.step}" + (f" of {job.max_steps}" if job.max_steps else ""),
             f"{_duration(job.seconds)} trained"]
    if eta is not None and job.phase == "training":
        parts.append(f"about {_duration(eta)} left")
    label = f"{job.phase.capitalize() or 'Starting'}: " + " · ".join(parts)
    if fraction is not None:
        st.progress(fraction, text=label)
    else:
        st.caption(label)
    _loss_curve(job)


@st.fragment(run_every=REFRESH_SECONDS)
def job_list() -> None:
    """Running and queued runs first (in queue order), then the latest finished ones; refreshes itself."""
    listed = jobs.list_jobs()
    if not listed:
        st.info("No training runs yet. Choose what to train on the left and press **Start**.")
        return
    active = [j for j in listed if j.active]
    finished = [j for j in reversed(listed) if not j.active][:FINISHED_SHOWN]
    st.subheader(f"Queue ({len(active)})" if active else "Queue (empty)", anchor=False)
    queued = 0
    for job in active:
        queued += job.status == jobs.QUEUED
        show_job(job, position=queued)
    if finished:
        st.subheader("Finished", anchor=False)
        for job in finished:
            show_job(job)
