"""The "Human or AI?" game: one clip, person or machine, the reveal with a piano roll, a running score.

Its votes go to the same store as any study, under an identify study made from the shipped models and
real held-out pieces (created the first time the page runs). The blinding rule of
`musicgen.ui.listening` holds until each vote is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter

import streamlit as st

from musicgen import listening as L
from musicgen.listening.schedule import trial_audio
from musicgen.plots import piano_roll_figure
from musicgen.ui.cards import usable_cards
from musicgen.ui.listening import PREPARE_FAILED, participant_id, prepare, vote
from musicgen.ui.resources import open_vote_store

log = logging.getLogger("musicgen.ui.game")

GAME_STUDY = "human-or-ai"
ROUNDS = 10
CLIP_SECONDS = 15.0
QUESTION = "Was this written by a person or a machine?"
REVEAL_KEY = "game_reveal_token"
SCOPE = "game"


def game_spec(study_id: str = GAME_STUDY) -> L.StudySpec | None:
    """An identify study of the shipped models (those trained on the most common corpus) and real
    pieces of that corpus; None if no usable model is installed."""
    cards = list(usable_cards(lambda c: bool(c.corpus)).values())
    if not cards:
        return None
    corpus = Counter(c.corpus for c in cards).most_common(1)[0][0]
    models = sorted(c.id for c in cards if c.corpus == corpus)
    return L.StudySpec.from_dict({
        "id": study_id, "kind": "identify", "title": "Human or AI?", "systems": [*models, L.REAL],
        "trials_per_participant": ROUNDS, "question": QUESTION, "corpus": corpus,
        "clip": {"seconds": CLIP_SECONDS}})


def ensure_game_study(store: L.VoteStore) -> L.StudySpec | None:
    """The game's study in `store`, created if missing. A study under the fixed id with other systems
    (models added or removed since) is replaced while it has no votes; once it has votes it is kept
    as it was and the game moves on to an id with a digest of its settings."""
    wanted = game_spec()
    if wanted is None:
        return None
    digest = hashlib.sha256(wanted.to_json().encode()).hexdigest()[:8]
    for study_id in (GAME_STUDY, f"{GAME_STUDY}-{digest}"):
        spec = L.StudySpec.from_dict({**wanted.to_dict(), "id": study_id})
        try:
            stored = store.get_study(study_id)
        except KeyError:
            return store.save_study(spec)
        if stored == spec:
            return stored
        if store.vote_count(study_id) == 0:
            return store.save_study(spec, replace=True)
    raise RuntimeError(f"studies {GAME_STUDY} and {GAME_STUDY}-{digest} both exist with other settings and votes")


@st.cache_resource(show_spinner=False, ttl=600)
def _ensured(url: str) -> L.StudySpec | None:
    return ensure_game_study(open_vote_store(url))


def game_study() -> L.StudySpec | None:
    """The game's study, created in the store if missing (cached ten minutes per store); None after
    telling the visitor why there is no game (no model installed, or a problem logged on the server)."""
    try:
        spec = _ensured(L.default_db_url())
    except Exception:  # noqa: BLE001
        log.exception("could not set up the %s study", GAME_STUDY)
        st.error("Sorry, the game is not available right now. Please try again in a minute.",
                 icon=":material/error:")
        return None
    if spec is None:
        st.info("The game needs at least one trained model. Train one with `python -m musicgen train markov`.")
    return spec


@st.cache_data(show_spinner=False, max_entries=64)
def _clip_figure(system: str, seed: int, settings_json: str):
    notes = L.clip_notes(system, seed, json.loads(settings_json))
    return piano_roll_figure(notes, title="What you heard, as a piano roll", height=280)


def _one_line(text: str) -> str:
    first = text.strip().split(". ")[0].rstrip(".")
    return f"{first}." if first else ""


def show_reveal(store: L.VoteStore, token: str, number: int) -> None:
    """Right or wrong, who wrote it, a one-line explanation, the piano roll, and the next button."""
    v = L.reveal(store, token)
    about = L.describe_system(v.system_a)
    person = v.system_a == L.REAL
    verdict = "Right!" if v.correct else "Not this time."
    who = "a person" if person else "a machine"
    (st.success if v.correct else st.warning)(f"**{verdict}** This was written by {who}.")
    st.markdown(f"**{about['title']}** — {_one_line(about['description'])}" if about["description"]
                else f"**{about['title']}**")
    try:  # the vote is stored: the clip may be heard again next to its notes
        st.audio(trial_audio(store.get_trial(token))[0], format="audio/mpeg")
        st.plotly_chart(_clip_figure(v.system_a, v.seed_a, json.dumps(v.settings_a, sort_keys=True)))
    except Exception:  # noqa: BLE001 — the roll and the replay are a bonus; the game goes on without them
        log.exception("could not replay or draw a game clip")
    if st.button("Next clip", type="primary", icon=":material/skip_next:", key=f"next{number}"):
        st.session_state.pop(REVEAL_KEY, None)
        st.rerun()


def show_round(store: L.VoteStore, trial: L.BlindTrial) -> None:
    """One clip and the two big buttons; a stored vote turns the page into the reveal."""
    st.subheader(f"Clip {trial.number} of {trial.total}: {trial.question}", anchor=False)
    st.audio(trial.audio[0], format=trial.mime)
    person_col, machine_col = st.columns(2)
    n = trial.number
    choice = None
    if person_col.button("A person", icon=":material/person:", key=f"person{n}", width="stretch", type="primary"):
        choice = "person"
    if machine_col.button("A machine", icon=":material/smart_toy:", key=f"machine{n}", width="stretch",
                          type="primary"):
        choice = "machine"
    if choice and vote(store, trial.token, choice):
        st.session_state[REVEAL_KEY] = (trial.token, n)
        st.rerun()


def score(store: L.VoteStore, study_id: str, pid: str) -> tuple[int, int]:
    try:
        s = L.participant_summary(store, study_id, pid)
    except Exception:  # noqa: BLE001
        log.exception("could not read the game score")
        return 0, 0
    return s.correct, s.answered


def play(store: L.VoteStore, spec: L.StudySpec) -> None:
    """The whole game screen: score, then a reveal, a round, or the final score and "play again"."""
    pid = participant_id(SCOPE)
    right, played = score(store, spec.id, pid)
    st.metric("Your score", f"{right} of {played}" if played else "–")
    pending = st.session_state.get(REVEAL_KEY)
    if pending:
        show_reveal(store, *pending)
        return
    trial = prepare(store, spec.id, pid)
    if trial is PREPARE_FAILED:
        return
    if trial is not None:
        show_round(store, trial)
        return
    st.success(f"That's all {played} clips: you got {right} right. Most people find this harder than it sounds!",
               icon=":material/emoji_events:")
    if st.button("Play again", type="primary", icon=":material/replay:"):
        st.session_state.pop(f"listening_pid_{SCOPE}", None)
        st.rerun()
