"""The Listening test and Human-or-AI pages' parts: the vote store, blinded trials, votes, the reveal.

The blinding rule: until a trial's vote is stored, nothing here may put anything that identifies a
system into the page — no system id or title, seed, piece or soundfont name in text, labels, help
texts, widget keys or file names. Widget keys carry only the trial number; the trial token lives in
`st.session_state` (server side). Errors shown to participants are generic: a library message may
name a model, so the details go to the server log only.

The participant's path (`run_study`) follows `musicgen.listening.flow`: consent, an optional headphone
check, an optional questionnaire, practice trials (not counted), the trials of the study's kind (pair,
identify, mos: a 1-5 rating per criterion, mushra: K clips labelled 1..K with a 0-100 slider each per
criterion), then the reveal the study allows and its completion code. Each step is read from the store, so
a reload resumes where the participant was.
"""

from __future__ import annotations

import logging
import re

import streamlit as st

from musicgen import listening as L
from musicgen.listening import flow
from musicgen.listening.schema import ACR_LABELS, MAX_COMMENT
from musicgen.listening.study import RATING_KINDS
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


def vote(store: L.VoteStore, token: str, answer: str | None, comment: str = "",
         listen_seconds: list[float] | None = None, **ratings_or_answers) -> bool:
    """Store the vote once (a second click or a rerun is a no-op); False after a generic error.
    `ratings=` (mos, mushra) or `answers=` (a pair study with several criteria) go with it."""
    done = st.session_state.setdefault(VOTED_KEY, set())
    if token in done:
        return True
    try:
        L.submit_vote(store, token, answer, comment=comment or None, listen_seconds=listen_seconds,
                      **ratings_or_answers)
    except Exception:  # noqa: BLE001
        log.exception("could not store a vote")
        st.error(VOTE_ERROR, icon=":material/error:")
        return False
    done.add(token)
    return True


# ---- the Listening test page: consent, headphone check, questionnaire, practice, trials, the end ----------
def _what(spec: L.StudySpec) -> str:
    n = spec.trials_per_participant
    trials = f"{n} {'trial' if n == 1 else 'trials'}"
    return {"pair": f"{trials} of pairs of clips, A and B.",
            "identify": f"{trials} of clips, one at a time.",
            "mos": f"{trials} of clips, one at a time, each rated from 1 (bad) to 5 (excellent).",
            "mushra": f"{trials} of {spec.clips_per_trial} clips on one screen, each rated from 0 (bad) to 100 "
                      "(excellent)."}[spec.kind]


def show_consent(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    """The instructions and consent text with a start button; the consent is stored with the participant."""
    st.markdown(spec.consent or DEFAULT_CONSENT)
    steps = []
    if spec.headphone_check != "off":
        steps.append("a one-minute headphone check")
    if spec.questionnaire:
        steps.append(f"{len(spec.questionnaire)} short {'question' if len(spec.questionnaire) == 1 else 'questions'} "
                     "about you")
    if spec.practice_trials:
        steps.append(f"{spec.practice_trials} practice {'trial' if spec.practice_trials == 1 else 'trials'}")
    first = f"First {', then '.join(steps)}; then " if steps else ""
    st.caption(f"{first}{_what(spec)} Use headphones or speakers in a quiet place.")
    if st.button("I agree, start", type="primary", icon=":material/play_arrow:"):
        flow.give_consent(store, spec, pid)
        st.rerun()


def show_headphone_check(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    """Woods et al. (2017): six sounds of three tones each; which tone is quietest? Scored on the server."""
    st.subheader("Headphone check", anchor=False)
    st.markdown("Please put on headphones and set a comfortable volume. Each sound below plays **three tones**, "
                "one after another. Which tone is the **quietest**: the first, the second or the third? Play each "
                "sound once and answer.")
    audio = flow.headphone_audio(store, spec, pid)
    with st.form("headphones"):
        answers = []
        for i, wav in enumerate(audio):
            st.audio(wav, format="audio/wav")
            answers.append(st.radio(f"Sound {i + 1}: the quietest tone was", (1, 2, 3), index=None, horizontal=True,
                                    key=f"headphones{i}", format_func=lambda t: ("first", "second", "third")[t - 1]))
        sent = st.form_submit_button("Continue", type="primary", icon=":material/arrow_forward:")
    if not sent:
        return
    if any(a is None for a in answers):
        st.warning("Please answer for every sound.", icon=":material/touch_app:")
        return
    flow.record_headphones(store, spec, pid, answers)
    st.rerun()


SCREENED_OUT_TEXT = ("Thank you for your time. This study needs headphones, and the check suggests the sound is "
                     "coming from loudspeakers, so we cannot go on with it. You do not need to do anything else.")


def show_questionnaire(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    """The study's questions about the participant, asked once; stored with the participant."""
    st.subheader("A few questions about you", anchor=False)
    given = {}
    with st.form("questionnaire"):
        for q in spec.questionnaire:
            label = q.text if q.required else f"{q.text} (optional)"
            if q.type == "number":
                given[q.id] = st.number_input(label, min_value=q.min, max_value=q.max, value=None, step=1.0,
                                              key=f"q_{q.id}")
            elif q.type == "choice":
                given[q.id] = st.radio(label, q.options, index=None, key=f"q_{q.id}")
            else:
                given[q.id] = st.text_input(label, key=f"q_{q.id}", max_chars=flow.MAX_TEXT_ANSWER)
        sent = st.form_submit_button("Continue", type="primary", icon=":material/arrow_forward:")
    if not sent:
        return
    problems = flow.record_questionnaire(store, spec, pid, given)
    if problems:
        st.warning("\n".join(f"- {p}" for p in problems), icon=":material/touch_app:")
    else:
        st.rerun()


def show_trial(store: L.VoteStore, spec: L.StudySpec, trial: L.BlindTrial, *, practice_for: str | None = None
               ) -> None:
    """Progress, the clip players (labelled only A/B, 1..K or "the clip"), the answer form for the study's kind
    and criteria, open once every clip has played for the study's minimum; a stored answer reruns the page.
    `practice_for`: a practice trial of this participant (kept with the participant, never a vote)."""
    n, min_seconds = trial.number, spec.min_listen_seconds
    prefix = "practice" if practice_for else ""
    what = "Practice" if practice_for else "Trial"
    st.progress((n - 1) / trial.total, text=f"{what} {n} of {trial.total}")
    if practice_for:
        st.caption("A practice trial, to get used to the clips and the scale: it is not counted.")
    criteria = spec.rating_criteria
    st.subheader(criteria[0].question if len(criteria) == 1 else "Listen, then answer each question", anchor=False)
    if spec.clip.primer != "none":  # continuation trials: the same words on every trial, catch trials included
        st.caption("Every clip begins with the same opening; listen to how each one continues it.")
    labels = [CLIP_LABELS.get(label, f"Clip {label}") for label in trial.labels]
    played = listen_players(list(trial.audio), trial.mime, labels, min_seconds=min_seconds,
                            trial=f"{prefix}{n}" if prefix else n)
    ready = all(s >= min_seconds for s in played)
    with st.form(f"{prefix}trial{n}"):
        given = _answer_widgets(trial, criteria, labels, f"{prefix}{{}}{n}")
        comment = st.text_area("Comment (optional)", key=f"{prefix}comment{n}", max_chars=MAX_COMMENT,
                               placeholder="Anything you noticed")
        sent = st.form_submit_button("Submit and continue", type="primary", icon=":material/arrow_forward:",
                                     disabled=not ready)
    if not ready:
        which = "each clip" if len(labels) > 1 else "the clip"
        st.caption(f"Listen to {which} for at least {min_seconds:g} s; then you can answer.")
    if not sent:
        return
    if any(v is None for v in given.values()) or any(v is None for vs in given.values() if isinstance(vs, list)
                                                     for v in vs):
        st.warning("Answer every question first." if len(criteria) > 1 else "Choose an answer first.",
                   icon=":material/touch_app:")
        return
    payload = _payload(trial, criteria, given)
    if practice_for:
        try:
            flow.record_practice(store, spec, practice_for, trial, **payload)
        except Exception:  # noqa: BLE001
            log.exception("could not store a practice answer")
            st.error(VOTE_ERROR, icon=":material/error:")
            return
        st.rerun()
    elif vote(store, trial.token, payload.pop("answer", None), comment, played, **payload):
        st.rerun()


def _answer_widgets(trial: L.BlindTrial, criteria, labels: list[str], key: str) -> dict:
    """The answer widgets of one trial: {criterion: answer} (pair, identify), {criterion: [rating]} (mos) or
    {criterion: [rating per clip]} (mushra). Keys carry the trial number and positions only."""
    given = {}
    several = len(criteria) > 1
    for j, c in enumerate(criteria):
        suffix = f"_{j}" if several else ""
        if trial.kind == "mos":
            given[c.name] = [st.radio(c.question if several else "Your rating", MOS_SCALE, index=None,
                                      horizontal=True, key=key.format("mos") + f"_{j}",
                                      format_func=lambda v: f"{v} · {ACR_LABELS[v]}")]
        elif trial.kind == "mushra":
            if several:
                st.markdown(f"**{c.question}**")
            st.caption(MUSHRA_SCALE)
            given[c.name] = [st.slider(label, 0, 100, 50, key=key.format("mushra") + f"_{j}_{i}")
                             for i, label in enumerate(labels)]
        else:
            given[c.name] = st.radio(c.question if several else "Your answer", trial.answers, index=None,
                                     horizontal=True, key=key.format("answer") + suffix,
                                     format_func=lambda a: ANSWER_LABELS.get(a, a))
    return given


def _payload(trial: L.BlindTrial, criteria, given: dict) -> dict:
    """What the store takes: answer (one criterion), answers (several, pair) or ratings (mos, mushra)."""
    if trial.kind in RATING_KINDS:
        return {"ratings": {c: [float(v) if trial.kind == "mushra" else int(v) for v in vs] for c, vs in given.items()}}
    if len(criteria) > 1:
        return {"answers": dict(given)}
    return {"answer": given[criteria[0].name]}


MOS_SCALE = (5, 4, 3, 2, 1)
MUSHRA_SCALE = "0–20 bad · 20–40 poor · 40–60 fair · 60–80 good · 80–100 excellent"


def show_practice(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    try:
        with st.spinner("Preparing the practice clips…"):
            trial = flow.practice_trial(store, spec, pid)
    except Exception:  # noqa: BLE001 — the message may name a model
        log.exception("could not prepare a practice trial of study %s", spec.id)
        st.error(TRIAL_ERROR, icon=":material/error:")
        return
    if trial is not None:
        show_trial(store, spec, trial, practice_for=pid)


def show_end(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    """The reveal (as the study says) and the completion code."""
    show_summary(store, spec, pid)
    try:
        code = flow.completion_code(store, spec, pid)
    except Exception:  # noqa: BLE001
        log.exception("could not make the completion code of study %s", spec.id)
        st.error(STORE_ERROR, icon=":material/error:")
        return
    if code:
        st.markdown("Your completion code (copy it into the page that sent you here):")
        st.code(code, language=None)


def show_summary(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    """After the last trial, as the study's `reveal` says: thanks only; what each clip was and the
    participant's answers; and (only once the study is closed, so no one is swayed) everyone's."""
    if spec.reveal == "none":
        st.success("Thank you, all your answers are saved.", icon=":material/celebration:")
        return
    try:
        if spec.kind in RATING_KINDS:
            rows = rating_rows(store, spec, pid)
        else:
            everyone = spec.reveal == "everyone" and store.is_closed(spec.id)
            summary = L.participant_summary(store, spec.id, pid, everyone=everyone)
            rows = summary_rows(summary, everyone=everyone)
    except Exception:  # noqa: BLE001
        log.exception("could not summarise study %s", spec.id)
        st.success("Thank you, all your answers are saved.")
        return
    st.success("Thank you, all your answers are saved. Here is what you heard.", icon=":material/celebration:")
    st.dataframe(rows, hide_index=True, width="stretch")
    if spec.kind == "identify":
        st.metric("Your score", f"{summary.correct} of {summary.answered}")
    if spec.kind not in RATING_KINDS and everyone:
        st.caption("“Everyone” counts every participant's answers, yours included.")


def rating_rows(store: L.VoteStore, spec: L.StudySpec, pid: str) -> list[dict]:
    """A rating study's reveal: each clip the participant rated, what it was, and their ratings."""
    rows: dict[tuple[int, int], dict] = {}
    for r in store.ratings(spec.id):
        if r["participant"] != pid:
            continue
        row = rows.setdefault((r["trial"], r["position"]), {
            "Trial": r["trial"], **({"Clip": r["position"] + 1} if spec.kind == "mushra" else {}),
            "The clip was": _title(r["system"])})
        row[r["criterion"]] = f"{r['value']:g}"
    return [rows[k] for k in sorted(rows)]


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
    """The participant's whole path through a study, each step read from the store (a reload resumes it):
    consent, headphone check, questionnaire, practice, trial after trial, the end."""
    pid = study_participant_id(spec.id)
    try:
        where = flow.step(store, spec, pid)
    except Exception:  # noqa: BLE001
        log.exception("could not read the progress of participant %s in study %s", pid, spec.id)
        st.error(STORE_ERROR, icon=":material/error:")
        return
    if where == "consent":
        show_consent(store, spec, pid)
    elif where == "headphones":
        show_headphone_check(store, spec, pid)
    elif where == flow.SCREENED_OUT:
        st.info(SCREENED_OUT_TEXT, icon=":material/headphones:")
    elif where == "questionnaire":
        show_questionnaire(store, spec, pid)
    elif where == "practice":
        show_practice(store, spec, pid)
    else:
        trial = prepare(store, spec.id, pid)
        if trial is PREPARE_FAILED:
            return
        if trial is None:
            show_end(store, spec, pid)
        else:
            if trial.number == 1 and spec.practice_trials:
                st.info("The practice is over: from now on every answer counts.", icon=":material/flag:")
            show_trial(store, spec, trial)
