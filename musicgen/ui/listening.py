"""The Listening test and Human-or-AI pages' parts: the vote store, blinded trials, votes, the reveal.

The blinding rule: until a trial's vote is stored, nothing here may put anything that identifies a
system into the page — no system id or title, seed, piece or soundfont name in text, labels, help
texts, widget keys or file names. Widget keys carry only the trial number; the trial token lives in
`st.session_state` (server side). Errors shown to participants are generic: a library message may
name a model, so the details go to the server log only.
"""

from __future__ import annotations

import logging
import re

import streamlit as st

from musicgen import listening as L
from musicgen.listening.schema import MAX_COMMENT
from musicgen.ui.playhead import listen_players
from musicgen.ui.resources import open_vote_store

log = logging.getLogger("musicgen.ui.listening")

ANSWER_LABELS = {"A": "A", "B": "B", "none": "No preference", "person": "A person", "machine": "A machine"}
CLIP_LABELS = {"A": "A", "B": "B", "clip": "The clip"}
DEFAULT_CONSENT = ("You will hear short clips of piano music and answer one question about each. Listen to "
                   "every clip in full before you answer. Your answers are stored anonymously, with a random "
                   "participant id and no personal data, and you can stop at any time. By starting you agree "
                   "that your anonymous answers may be used in a published comparison.")
TRIAL_ERROR = ("Sorry, the next clips could not be prepared. Please reload the page in a minute; if it keeps "
               "happening, tell the person who sent you the link.")
STORE_ERROR = "Sorry, this page is not available right now. Please try again in a few minutes."
VOTE_ERROR = "Sorry, your answer could not be saved. Please press the button again in a moment."
PID_PARAM = "pid"
_PID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what a participant id from a link may be (stored as given)
VOTED_KEY = "listening_voted_tokens"  # tokens whose vote this session stored (a rerun never votes twice)
PREPARE_FAILED = object()


def vote_store() -> L.VoteStore:
    """The process's store ($MUSICGEN_DB_URL, else the SQLite file under $MUSICGEN_DATA), opened once."""
    return open_vote_store(L.default_db_url())


def participant_store() -> L.VoteStore | None:
    """The store for a participant's page; None after a generic message (details in the server log)."""
    try:
        return vote_store()
    except Exception:  # noqa: BLE001 — the database URL or driver error is for the organiser's eyes only
        log.exception("could not open the vote store")
        st.error(STORE_ERROR, icon=":material/error:")
        return None


def participant_id(scope: str) -> str:
    """This browser session's anonymous participant id for `scope` (a study id or the game)."""
    key = f"listening_pid_{scope}"
    if key not in st.session_state:
        st.session_state[key] = L.new_participant_id()
    return st.session_state[key]


def study_participant_id(study_id: str) -> str:
    """The participant id of a study page: `?pid=` from the link when it is a plausible id (crowd platforms
    pass their worker id there), else a new random one, which is then written into the link. Either way a
    reload, a second tab or a move to another app replica resumes the same participant from the database
    instead of starting a new one with fresh trials."""
    key = f"listening_pid_{study_id}"
    given = st.query_params.get(PID_PARAM)
    if key not in st.session_state:
        st.session_state[key] = given if given and _PID.fullmatch(given) else L.new_participant_id()
    if given != st.session_state[key]:
        st.query_params[PID_PARAM] = st.session_state[key]
    return st.session_state[key]


def find_study(store: L.VoteStore, study_id: str | None, key: str | None) -> L.StudySpec | None:
    """The study of a participant link, when its key is right (a wrong key reads as no study: ids are guessable,
    and the page must not confirm that one exists)."""
    if not study_id:
        return None
    try:
        return store.get_study(study_id) if L.study_key_ok(store, study_id, key) else None
    except KeyError:
        return None
    except Exception:  # noqa: BLE001 — a database problem: log it, show participants nothing specific
        log.exception("could not read study %r", study_id)
        return None


def prepare(store: L.VoteStore, study_id: str, pid: str):
    """The participant's current BlindTrial, None when finished, or PREPARE_FAILED after a generic error."""
    try:
        with st.spinner("Preparing the next clips…"):
            return L.prepare_trial(store, study_id, pid)
    except L.StudyExhausted:
        log.warning("study %s: participant %s ran out of unheard clips", study_id, pid)
        return None
    except L.StudyClosed:
        st.info("This study has closed. Thank you for your interest.", icon=":material/event_busy:")
        return PREPARE_FAILED
    except Exception:  # noqa: BLE001 — the message may name a model: log it, show a generic one
        log.exception("could not prepare a trial of study %s", study_id)
        st.error(TRIAL_ERROR, icon=":material/error:")
        return PREPARE_FAILED


def vote(store: L.VoteStore, token: str, answer: str, comment: str = "", listen_seconds: list[float] | None = None
         ) -> bool:
    """Store the vote once (a second click or a rerun is a no-op); False after a generic error."""
    done = st.session_state.setdefault(VOTED_KEY, set())
    if token in done:
        return True
    try:
        L.submit_vote(store, token, answer, comment=comment or None, listen_seconds=listen_seconds)
    except Exception:  # noqa: BLE001
        log.exception("could not store a vote")
        st.error(VOTE_ERROR, icon=":material/error:")
        return False
    done.add(token)
    return True


# ---- the Listening test page ------------------------------------------------------------------------
def consent(spec: L.StudySpec, *, resumed: bool = False) -> bool:
    """The instructions and consent text with a start button; True once the participant has started (in
    this session, or before: `resumed`, the participant already has trials)."""
    key = f"listening_started_{spec.id}"
    if st.session_state.get(key) or resumed:
        return True
    st.markdown(spec.consent or DEFAULT_CONSENT)
    n = spec.trials_per_participant
    what = "pairs of clips, A and B" if spec.kind == "pair" else "clips, one at a time"
    st.caption(f"{n} {'trial' if n == 1 else 'trials'} of {what}. Use headphones or speakers in a quiet place.")
    if st.button("I agree, start", type="primary", icon=":material/play_arrow:"):
        st.session_state[key] = True
        st.rerun()
    return False


def show_trial(store: L.VoteStore, trial: L.BlindTrial, min_seconds: float = 0.0) -> None:
    """Progress, the clip players (labelled only A/B), the answer form, open once every clip has played for
    `min_seconds`; a stored vote (with those play times) reruns the page."""
    n = trial.number
    st.progress((n - 1) / trial.total, text=f"Trial {n} of {trial.total}")
    st.subheader(trial.question, anchor=False)
    labels = [CLIP_LABELS.get(label, label) for label in trial.labels]
    played = listen_players(list(trial.audio), trial.mime, labels, min_seconds=min_seconds, trial=n)
    ready = all(s >= min_seconds for s in played)
    with st.form(f"trial{n}"):
        answer = st.radio("Your answer", trial.answers, index=None, horizontal=True, key=f"answer{n}",
                          format_func=lambda a: ANSWER_LABELS.get(a, a))
        comment = st.text_area("Comment (optional)", key=f"comment{n}", max_chars=MAX_COMMENT,
                               placeholder="Anything you noticed")
        sent = st.form_submit_button("Submit and continue", type="primary", icon=":material/arrow_forward:",
                                     disabled=not ready)
    if not ready:
        what = "each clip" if len(labels) > 1 else "the clip"
        st.caption(f"Listen to {what} for at least {min_seconds:g} s; then you can answer.")
    if not sent:
        return
    if answer is None:
        st.warning("Choose an answer first.", icon=":material/touch_app:")
    elif vote(store, trial.token, answer, comment, played):
        st.rerun()


def show_summary(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    """After the last trial, as the study's `reveal` says: thanks only; what each clip was and the
    participant's answers; and (only once the study is closed, so no one is swayed) everyone's."""
    if spec.reveal == "none":
        st.success("Thank you, all your answers are saved.", icon=":material/celebration:")
        return
    try:
        everyone = spec.reveal == "everyone" and store.is_closed(spec.id)
        summary = L.participant_summary(store, spec.id, pid, everyone=everyone)
    except Exception:  # noqa: BLE001
        log.exception("could not summarise study %s", spec.id)
        st.success("Thank you, all your answers are saved.")
        return
    st.success("Thank you, all your answers are saved. Here is what you heard.", icon=":material/celebration:")
    st.dataframe(summary_rows(summary, everyone=everyone), hide_index=True, width="stretch")
    if spec.kind == "identify":
        st.metric("Your score", f"{summary.correct} of {summary.answered}")
    if everyone:
        st.caption("“Everyone” counts every participant's answers, yours included.")


def _title(system: str | None) -> str:
    return L.describe_system(system)["title"] if system else ""


def summary_rows(summary: L.ParticipantSummary, *, everyone: bool = True) -> list[dict]:
    rows = []
    for t in summary.trials:
        v = t.vote
        if v.kind == "pair":
            a, b = _title(v.system_a), _title(v.system_b)
            row = {"Trial": v.number, "A was": a, "B was": b,
                   "You preferred": {"A": a, "B": b}.get(v.answer, "no preference")}
            if everyone:
                row["Everyone who chose between these two, same as you"] = (
                    "" if t.agreed_with is None else f"{t.agreed_with:.0%}")
        else:
            row = {"Trial": v.number, "The clip was": _title(v.system_a),
                   "You said": ANSWER_LABELS.get(v.answer, v.answer).lower(), "Right?": "yes" if v.correct else "no"}
            if everyone:
                row["Everyone right on this one"] = "" if t.everyone_correct is None else f"{t.everyone_correct:.0%}"
        rows.append(row)
    return rows


def run_study(store: L.VoteStore, spec: L.StudySpec) -> None:
    """The participant's whole path through a study: consent, trial after trial, the reveal."""
    pid = study_participant_id(spec.id)
    try:
        resumed = bool(store.participant_trials(spec.id, pid))
    except Exception:  # noqa: BLE001 — the trial step below reports a store problem in words
        resumed = False
    if not consent(spec, resumed=resumed):
        return
    trial = prepare(store, spec.id, pid)
    if trial is PREPARE_FAILED:
        return
    if trial is None:
        show_summary(store, spec, pid)
    else:
        show_trial(store, trial, spec.min_listen_seconds)
