"""The live audience vote's two screens (library side: `musicgen.listening.live`).

* The **presenter** page (organisers, behind the Results password) sets up or picks a live study, shows
  the join QR code, short link and code on the big screen, plays each round's blind clips, opens a
  countdown, draws the room's votes as they arrive, then reveals what was played.
* The **phone** page (`/?live=<code>`, registered alone by app.py: no navigation) shows the answer buttons
  while voting is open, "your vote is in" after a tap, and the reveal. Its participant id sits in the URL
  (`&pid=`), so a reload keeps the phone's one vote per round.

Both poll the store in a fragment (every `POLL_SECONDS`): the state lives in the database, so phones may be
served by any replica. Nothing on a phone names a system before the presenter reveals the round.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import streamlit as st

from musicgen import listening as L
from musicgen.listening import live
from musicgen.listening.schedule import trial_audio
from musicgen.plots_listening import live_tally_figure
from musicgen.ui.cards import usable_systems
from musicgen.ui.chrome import hide_app_chrome
from musicgen.ui.errors import attempt
from musicgen.ui.listening import ANSWER_LABELS, participant_store

log = logging.getLogger("musicgen.ui.live")

PUBLIC_URL_ENV = "MUSICGEN_PUBLIC_URL"  # the address phones use, when the presenter's own URL is localhost
POLL_SECONDS = 1.0  # the big screen's tally
PHONE_POLL_SECONDS = 2.0  # each phone; a room of phones polling every second kept a 2-core server busy
STATE_TTL_SECONDS = 0.75  # phones of one process share one database read of the round per this interval
STUDY_KEY, PID_PARAM, CODE_PARAM = "live_study", "pid", "live"
DEFAULT_VOTE_SECONDS = 20
PHONE_STYLE = """
[data-testid="stMainBlockContainer"], .block-container { padding-top: 1.5rem; max-width: 640px; }
.live-big { font-size: 1.6rem !important; line-height: 1.3 !important; }
[class*="st-key-live_vote_"] button { font-size: 1.8rem; min-height: 4.5rem; }
[class*="st-key-live_vote_"] button p { font-size: 1.8rem !important; }
"""
CODE_STYLE = "<div style='font-size:3.2rem;font-weight:700;letter-spacing:.4rem;line-height:1.1'>{code}</div>"


# ---- the phone ----------------------------------------------------------------------------------
def phone_page() -> None:
    """`/?live=<code>`: join, vote while the countdown runs, see the reveal."""
    hide_app_chrome(PHONE_STYLE)
    store = participant_store()
    if store is None:
        return
    spec = attempt("find this live vote", live.study_for_code, store, st.query_params.get(CODE_PARAM, ""))
    if spec is None:
        st.error("There is no live vote with this code. Check the code on the big screen and open its link again.",
                 icon=":material/link_off:")
        return
    pid = st.query_params.get(PID_PARAM, "")
    if not pid.startswith("phone-") or len(pid) > 64:
        pid = live.new_phone_id()
        st.query_params[PID_PARAM] = pid  # a reload keeps this phone's identity, and so its one vote a round
    st.markdown(f"### {spec.title or 'Live vote'}")
    _phone_round(store, spec, pid)


_shared_states: dict[str, tuple[float, live.RoundState | None]] = {}
_shared_lock = threading.Lock()


def shared_round_state(store: L.VoteStore, study_id: str) -> live.RoundState | None:
    """The latest round's state, read from the database at most once per STATE_TTL_SECONDS in this process
    (20 phones polling would otherwise mean 20 reads a poll); a phone's own vote is kept in its session."""
    now = time.monotonic()
    with _shared_lock:
        cached = _shared_states.get(study_id)
    if cached is not None and now - cached[0] < STATE_TTL_SECONDS:
        return cached[1]
    state = live.round_state(store, study_id)
    with _shared_lock:
        _shared_states[study_id] = (now, state)
    return state


def _my_vote(store: L.VoteStore, study_id: str, pid: str, number: int) -> str | None:
    """This phone's answer in a round: from its session once known (it only changes when this phone votes),
    else from the database (after a reload)."""
    key = f"live_vote_{study_id}_{number}"
    if st.session_state.get(key) is None:
        st.session_state[key] = live.phone_vote(store, study_id, pid, number)
    return st.session_state[key]


@st.fragment(run_every=PHONE_POLL_SECONDS)
def _phone_round(store: L.VoteStore, spec: L.StudySpec, pid: str) -> None:
    try:
        state = shared_round_state(store, spec.id)
        mine = _my_vote(store, spec.id, pid, state.number) if state is not None else None
    except Exception:  # noqa: BLE001 — a database hiccup: say so calmly, the next poll tries again
        log.exception("live vote %s: could not read the round", spec.id)
        st.warning("Reconnecting…", icon=":material/sync:")
        return
    if state is None:
        st.markdown("<p class='live-big'>You're in. The first round starts soon: watch the big screen.</p>",
                    unsafe_allow_html=True)
        return
    st.caption(f"Round {state.number}")
    if state.phase == live.LISTENING:
        st.markdown("<p class='live-big'>Listen to the clips on the big screen. Voting opens soon.</p>",
                    unsafe_allow_html=True)
    elif state.phase == live.VOTING and mine is None:
        st.markdown(f"<p class='live-big'>{spec.question}</p>", unsafe_allow_html=True)
        st.markdown(f"<p class='live-big'>⏱ {state.seconds_left:.0f} s left</p>", unsafe_allow_html=True)
        for answer in L.ANSWERS[spec.kind]:  # full width: a thumb finds them on any phone
            st.button(ANSWER_LABELS[answer], key=f"live_vote_{state.number}_{answer}", type="primary",
                      width="stretch", on_click=_cast, args=(store, spec.id, pid, state.number, answer))
    elif mine is not None and state.phase != live.REVEALED:
        st.success(f"Your vote is in: **{ANSWER_LABELS[mine]}**. Watch the big screen.", icon=":material/check:")
    elif state.phase == live.CLOSED:
        st.info("Voting has closed. The answer is coming on the big screen.", icon=":material/hourglass_top:")
    if state.phase == live.REVEALED:
        _reveal_lines(state, mine)


def _cast(store: L.VoteStore, study_id: str, pid: str, number: int, answer: str) -> None:
    try:
        vote = live.cast_vote(store, study_id, pid, number, answer)
        st.session_state[f"live_vote_{study_id}_{number}"] = vote.answer  # the stored one, if a tap came first
    except live.LiveVoteError as e:
        st.toast(str(e), icon=":material/schedule:")
    except Exception:  # noqa: BLE001 — never a traceback on a phone; the server log has it
        log.exception("live vote %s: could not store a vote", study_id)
        st.toast("Your vote could not be saved. Please tap again.", icon=":material/error:")


def _reveal_lines(state: live.RoundState, mine: str | None) -> None:
    titles = [L.describe_system(s)["title"] for s in state.systems]
    if state.kind == "pair":
        st.markdown(f"<p class='live-big'>A was <b>{titles[0]}</b>; B was <b>{titles[1]}</b>.</p>",
                    unsafe_allow_html=True)
    else:
        st.markdown(f"<p class='live-big'>It was <b>{titles[0]}</b>.</p>", unsafe_allow_html=True)
    if mine is not None:
        st.caption(f"You voted {ANSWER_LABELS[mine]}.")


# ---- the presenter ------------------------------------------------------------------------------
def presenter_page(store: L.VoteStore) -> None:
    spec = _pick_or_create(store)
    if spec is None:
        return
    code = live.join_code(store, spec.id)
    join_col, round_col = st.columns([1, 2], gap="large")
    with join_col:
        _join_panel(code)
    with round_col:
        _round_panel(store, spec)


def _pick_or_create(store: L.VoteStore) -> L.StudySpec | None:
    specs = {s.id: s for s in store.studies() if s.kind in L.ANSWERS}
    with st.expander("New live vote", expanded=not specs, icon=":material/add:"):
        _new_live_form(store)
    if not specs:
        return None
    ids = sorted(specs, key=lambda i: (not i.startswith("live-"), i), reverse=False)
    chosen = st.session_state.get(STUDY_KEY)
    sid = st.selectbox("Live vote", ids, index=ids.index(chosen) if chosen in ids else 0, key="live_pick",
                       format_func=lambda i: f"{specs[i].title} ({i})" if specs[i].title else i)
    st.session_state[STUDY_KEY] = sid
    return specs[sid]


def _new_live_form(store: L.VoteStore) -> None:
    systems = usable_systems()
    with st.form("new_live", enter_to_submit=False):
        title = st.text_input("Title on the phones (do not name the systems)", "Person or machine?")
        kind = st.radio("Question", ["identify", "pair"], horizontal=True, format_func={
            "identify": "One clip: person or machine?", "pair": "Two clips: which is more musical?"}.get)
        models = st.multiselect("Models", list(systems), default=list(systems)[:2],
                                format_func=lambda c: f"{systems[c].title} ({c})")
        real = st.checkbox("Include real pieces", value=True, help="Needed for person-or-machine rounds.")
        seconds = st.slider("Clip length (seconds)", 5, 30, 12)
        sent = st.form_submit_button("Create", type="primary")
    if sent:
        sid = "live-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        data = {"id": sid, "kind": kind, "title": title, "systems": [*models] + ([L.REAL] if real else []),
                "trials_per_participant": 1, "clip": {"seconds": float(seconds)}}
        spec = attempt("set up the live vote", L.StudySpec.from_dict, data)
        if spec is not None and attempt("save the live vote", store.save_study, spec) is not None:
            st.session_state[STUDY_KEY] = spec.id
            st.rerun()


def join_url(code: str) -> str:
    """The link phones open: $MUSICGEN_PUBLIC_URL, else this page's own address with a LAN address in place
    of localhost (a phone cannot reach the presenter's 'localhost')."""
    base = os.environ.get(PUBLIC_URL_ENV, "").rstrip("/")
    if not base:
        parts = urlsplit(getattr(st.context, "url", None) or "http://localhost:8501")
        host = parts.hostname or "localhost"
        if host in ("localhost", "127.0.0.1", "::1"):
            host = _lan_address() or host
        base = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"
    return f"{base}/?{CODE_PARAM}={code}"


def _lan_address() -> str | None:
    """This machine's address on its network (no packet is sent: a UDP connect only picks a route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def _join_panel(code: str) -> None:
    import segno  # small, pure Python; only this page draws QR codes

    url = join_url(code)
    st.markdown("**Join on your phone**")
    png = io.BytesIO()  # a PNG, not inline SVG: st.html's sanitiser drops the SVG, and an image scales cleanly
    segno.make(url, error="m").save(png, kind="png", scale=10, border=2)
    st.image(png.getvalue(), width=280, caption="Scan to vote")
    st.html(CODE_STYLE.format(code=code))
    st.code(url, language=None)
    if os.environ.get(PUBLIC_URL_ENV) is None and "localhost" in url:
        st.caption(f"Phones cannot open localhost: set ${PUBLIC_URL_ENV} to this machine's network address.")


def _round_panel(store: L.VoteStore, spec: L.StudySpec) -> None:
    state = attempt("read the round", live.round_state, store, spec.id)
    number = state.number if state is not None else 0
    if st.button(f"Start round {number + 1}", type="primary" if state is None or state.phase == live.REVEALED
                 else "secondary", icon=":material/play_arrow:", key="live_next"):
        attempt("start a round", live.start_round, store, spec.id)
        st.rerun()
    if state is None:
        st.info("Start the first round when the room has joined.", icon=":material/groups:")
        return
    live_round = store.get_round(spec.id, state.number)
    record = store.get_trial(live_round.token)
    st.subheader(f"Round {state.number}: {spec.question}", anchor=False)
    audio = attempt("prepare the clips", trial_audio, record)
    if audio is not None:  # blind: labelled A and B only, the presenter does not know either
        for label, clip in zip(("A", "B") if spec.kind == "pair" else ("The clip",), audio):
            st.markdown(f"**{label}**")
            st.audio(clip, format="audio/mpeg")
    seconds_col, open_col, reveal_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    seconds = seconds_col.number_input("Countdown (seconds)", *live.VOTE_SECONDS, DEFAULT_VOTE_SECONDS, step=5,
                                       key="live_seconds")
    if open_col.button("Open voting", disabled=state.phase != live.LISTENING, key="live_open",
                       icon=":material/how_to_vote:"):
        attempt("open voting", live.open_voting, store, spec.id, state.number, float(seconds))
        st.rerun()
    if reveal_col.button("Reveal", disabled=state.phase == live.REVEALED, key="live_reveal",
                         icon=":material/visibility:"):
        attempt("reveal the round", live.reveal_round, store, spec.id, state.number)
        st.rerun()
    _tally(store, spec.id, state.number)


@st.fragment(run_every=POLL_SECONDS)
def _tally(store: L.VoteStore, study_id: str, number: int) -> None:
    state = attempt("read the votes", live.round_state, store, study_id, number)
    if state is None:
        return
    words = {live.LISTENING: "Listening: voting opens when you press Open voting.",
             live.VOTING: f"Voting: {state.seconds_left:.0f} s left.", live.CLOSED: "Voting closed.",
             live.REVEALED: "Revealed."}[state.phase]
    counts = " · ".join(f"{ANSWER_LABELS[a]}: {n}" for a, n in state.counts.items())
    st.markdown(f"**{words}** {counts} ({state.total} votes)")
    st.plotly_chart(live_tally_figure(state.counts, ANSWER_LABELS), key=f"live_tally_{number}")
    if state.phase == live.REVEALED:
        _reveal_lines(state, None)
