"""The Results page's parts (organisers only): the password gate, setting up studies, the statistics.

The password comes from `st.secrets["results_password"]` (.streamlit/secrets.toml) or the environment
variable MUSICGEN_RESULTS_PASSWORD; with neither set the page explains how and shows nothing else.
"""

from __future__ import annotations

import hmac
import os
import tempfile
import threading
import time
from pathlib import Path

import streamlit as st

from musicgen import listening as L
from musicgen.checkpoints import list_cards
from musicgen.corpora import corpus_names
from musicgen.listening.clips import study_corpus
from musicgen.listening.study import DEFAULT_QUESTIONS
from musicgen.listening import report
from musicgen.plots_listening import (
    identification_figure,
    mean_scores_figure,
    mushra_figure,
    pair_win_rates_figure,
    ranking_figure,
    win_matrix_figure,
)
from musicgen.sample_sets import SampleSet, add_sample_set
from musicgen.sampling import TEMPERATURE_RANGE
from musicgen.ui.cards import usable_systems
from musicgen.ui.errors import attempt
from musicgen.ui.listening import DEFAULT_CONSENT, vote_store

PASSWORD_ENV = "MUSICGEN_RESULTS_PASSWORD"
SECRET_KEY = "results_password"
UNLOCKED_KEY = "results_unlocked"
ADDED_KEY = "results_sample_set_added"
SAVED_KEY = "results_study_saved"  # shown above the set-up panel, which closes once a study exists
STUDIES_DIR = Path(__file__).resolve().parents[2] / "studies"
PARTICIPANT_PAGE = "Listening_test"
REVEAL_WORDS = {"none": "only thanks", "own": "what they heard and chose",
                "everyone": "what they heard, and everyone's votes once the study is closed"}
HOW_TO_SET = f"""No results password is set, so the results stay closed. Set one in either place and reload:

* `.streamlit/secrets.toml` next to `app.py` (keep it out of git): `{SECRET_KEY} = "a long passphrase"`
* the environment of the app server: `{PASSWORD_ENV}="a long passphrase" streamlit run app.py`
"""


def results_password() -> str | None:
    try:
        secret = st.secrets.get(SECRET_KEY)
    except Exception:  # noqa: BLE001 — no secrets file at all
        secret = None
    return str(secret) if secret else (os.environ.get(PASSWORD_ENV) or None)


class PasswordLockout:
    """Process-wide guard against guessing: after `tries` wrong passwords within `window` seconds, every
    attempt (the right one too) is refused until `lock` seconds after the last wrong one. Process-wide, not
    per browser: a guesser can open new sessions or addresses at will, an organiser just waits a minute."""

    def __init__(self, tries: int = 5, window: float = 600.0, lock: float = 60.0, clock=time.monotonic):
        self.tries, self.window, self.lock, self.clock = tries, window, lock, clock
        self._failures: list[float] = []
        self._guard = threading.Lock()

    def seconds_left(self) -> float:
        with self._guard:
            now = self.clock()
            self._failures = [f for f in self._failures if now - f < self.window]
            if len(self._failures) < self.tries:
                return 0.0
            return max(0.0, self._failures[-1] + self.lock - now)

    def failed(self) -> None:
        with self._guard:
            self._failures.append(self.clock())


LOCKOUT = PasswordLockout()


def password_gate() -> bool:
    """True once this session has typed the password; otherwise shows the form (or how to set one)."""
    password = results_password()
    if not password:
        st.warning(HOW_TO_SET, icon=":material/lock:")
        return False
    if st.session_state.get(UNLOCKED_KEY) == password:
        return True
    with st.form("results_login"):
        typed = st.text_input("Password", type="password", key="results_password_input")
        sent = st.form_submit_button("Open the results", type="primary", icon=":material/lock_open:")
    if sent:
        wait = LOCKOUT.seconds_left()
        if wait > 0:
            st.error(f"Too many wrong passwords. Try again in {wait:.0f} s.", icon=":material/timer:")
            return False
        if hmac.compare_digest(typed.encode(), password.encode()):
            st.session_state[UNLOCKED_KEY] = password
            st.rerun()
        LOCKOUT.failed()
        st.error("That is not the password.", icon=":material/lock:")
    return False


def organiser_store() -> L.VoteStore | None:
    """The vote store for an organiser's page (Results, Live vote): None after the password form, or after a
    message saying why the store cannot be opened."""
    if not password_gate():
        return None
    return attempt("open the vote store", vote_store)


# ---- setting up studies -------------------------------------------------------------------------
def _check_and_save(store: L.VoteStore, spec: L.StudySpec, replace: bool) -> L.StudySpec:
    missing = spec.missing_checkpoints()
    if missing:
        raise ValueError(f"no checkpoint named {', '.join(missing)} (installed: "
                         f"{', '.join(c.id for c in list_cards()) or 'none'})")
    if L.REAL in spec.systems:
        study_corpus(spec)  # raises when the models disagree on their corpus and `corpus` is unset
    return store.save_study(spec, replace=replace)


def _new_study_form(store: L.VoteStore) -> None:
    systems = usable_systems()  # checkpoints, then sample sets (outside models' files)
    with st.form("new_study", clear_on_submit=False, enter_to_submit=False):  # Enter in a field must not save
        sid = st.text_input("Study id (goes into the participant link)", placeholder="bach-spring",
                            help="1–64 characters: a–z, 0–9, '-' or '_'.")
        title = st.text_input("Title (participants see it: do not name the systems)")
        kind = st.radio("Kind", ["pair", "identify", "mos", "mushra"], horizontal=True, format_func={
            "pair": "Pairs: A or B?", "identify": "One clip: person or machine? (needs real pieces)",
            "mos": "One clip: rate 1–5", "mushra": "Several clips on one screen: rate 0–100"}.get)
        models = st.multiselect("Models and sample sets", list(systems), default=list(systems)[:2],
                                format_func=lambda c: f"{systems[c].title} ({c})")
        real = st.checkbox("Include real held-out pieces (“real”)", value=True)
        corpora = sorted({s.corpus for s in systems.values() if s.corpus})
        corpus = st.selectbox("Real pieces from", [None, *corpora],
                              format_func=lambda c: c or "the corpus the models were trained on")
        seconds = st.slider("Clip length (seconds)", 5, 60, 20)
        listen = st.slider("Each clip must play at least (seconds) before the answer opens", 0, 30, 5,
                           help="0 turns it off. The seconds each clip was actually played are stored with the vote.")
        temperature = st.slider("Temperature", *TEMPERATURE_RANGE, 1.0, step=0.05)
        trials = st.number_input("Trials per participant", 1, 200, 10)
        criteria = st.text_input("Criteria (optional): names asked one by one, e.g. musical, coherent",
                                 help="Each becomes its own question (“How musical is this clip?”) and its own "
                                      "statistics. Empty: the one question below. Not for identify studies.")
        question = st.text_input("Question (empty: the default for the kind)",
                                 placeholder=f"{DEFAULT_QUESTIONS['pair']} / {DEFAULT_QUESTIONS['identify']}")
        consent = st.text_area("Consent and instructions", DEFAULT_CONSENT, height=140)
        reveal = st.radio("After the last trial, participants see", list(REVEAL_WORDS), horizontal=True,
                          format_func=REVEAL_WORDS.get,
                          help="Research studies: only thanks, so that no one is swayed by what others chose.")
        replace = st.checkbox("Replace a stored study with this id (only while it has no votes)")
        sent = st.form_submit_button("Save the study", type="primary")
    if sent:
        data = {"id": sid.strip(), "kind": kind, "title": title, "systems": [*models] + ([L.REAL] if real else []),
                "trials_per_participant": int(trials), "question": question, "consent": consent,
                "clip": {"seconds": float(seconds), "temperature": float(temperature)},
                "min_listen_seconds": float(min(listen, seconds)), "reveal": reveal}
        names = [c.strip() for c in criteria.split(",") if c.strip()]
        if names:
            data["criteria"] = names
        if real and corpus:
            data["corpus"] = corpus
        spec = attempt("set up the study", L.StudySpec.from_dict, data)
        if spec is not None and attempt("save the study", _check_and_save, store, spec, replace) is not None:
            st.session_state[SAVED_KEY] = f"Saved study {spec.id}."
            st.rerun()


def _file_loader(store: L.VoteStore) -> None:
    files = sorted(STUDIES_DIR.glob("*.toml"))
    if not files:
        st.info(f"No study files in {STUDIES_DIR}.")
        return
    path = st.selectbox("Study file", files, format_func=lambda p: p.name)
    replace = st.checkbox("Replace a stored study with the same id (only while it has no votes)", key="toml_replace")
    if st.button("Load into the store", icon=":material/upload:"):
        spec = attempt("read the study file", L.load_study, path)
        if spec is not None and attempt("save the study", _check_and_save, store, spec, replace) is not None:
            st.session_state[SAVED_KEY] = f"Loaded study {spec.id} from {path.name}."
            st.rerun()


def _add_and_report(name: str, data: bytes, corpus: str) -> SampleSet:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.zip"
        path.write_bytes(data)
        return add_sample_set(name, path, corpus=corpus)


def _sample_set_form() -> None:
    """An outside model's MIDI files (a zip) become a sample set: a system for studies, Compare and evaluate."""
    corpora = [c for c in corpus_names() if c != "toy"]
    if ADDED_KEY in st.session_state:  # added on the previous run, which then reran so the study form offers it
        st.success(st.session_state.pop(ADDED_KEY))
    with st.form("new_sample_set", clear_on_submit=True, enter_to_submit=False):
        name = st.text_input("Name", placeholder="my-model", help="Letters, digits, '-' or '_'; the system is "
                             "then `samples:<name>`.")
        corpus = st.selectbox("Compared with the real pieces of", corpora)
        upload = st.file_uploader("A .zip of MIDI files your model made", type=["zip"], key="sample_set_zip")
        sent = st.form_submit_button("Add the sample set", type="primary", icon=":material/upload:")
    if not sent:
        return
    if upload is None or not name.strip():
        st.error("Give the set a name and choose a .zip of MIDI files.")
        return
    added = attempt("add the sample set", _add_and_report, name.strip(), upload.getvalue(), corpus)
    if added is not None:
        skipped = f"; {len(added.skipped)} skipped: " + "; ".join(f"{s.source} ({s.reason})" for s in added.skipped[:5]) \
            if added.skipped else ""
        st.session_state[ADDED_KEY] = (f"Added `samples:{added.name}`: {added.n_files} files{skipped}. It is now "
                                       "offered for new studies, in Compare and in Generate.")
        st.rerun()


def study_setup(store: L.VoteStore) -> None:
    if SAVED_KEY in st.session_state:  # outside the panel: saving the first study collapses it
        st.success(st.session_state.pop(SAVED_KEY), icon=":material/check_circle:")
    with st.expander("Set up a study", expanded=not store.study_ids(), icon=":material/add_circle:"):
        new_tab, file_tab, set_tab = st.tabs(["New study", "From a file in studies/", "Add a sample set (zip)"])
        with new_tab:
            _new_study_form(store)
        with file_tab:
            _file_loader(store)
        with set_tab:
            _sample_set_form()


def participant_link(store: L.VoteStore, study_id: str) -> str:
    """The link to send participants (absolute when the page knows its own URL), with the study's key."""
    url = getattr(st.context, "url", None) or ""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{PARTICIPANT_PAGE}?study={study_id}&key={L.study_key(store, study_id)}"


def pick_study(store: L.VoteStore) -> L.StudySpec | None:
    specs = {s.id: s for s in store.studies()}
    if not specs:
        st.info("No study yet: set one up above.")
        return None
    ids = list(specs)
    wanted = st.query_params.get("study")  # /Results?study=<id> opens on that study
    sid = st.selectbox("Study", ids, key="results_study", index=ids.index(wanted) if wanted in specs else 0,
                       format_func=lambda i: f"{i} — {specs[i].title}" if specs[i].title else i)
    spec = specs[sid]
    st.markdown("**Participant link:**")
    st.code(participant_link(store, spec.id), language=None)
    st.caption(f"{spec.kind} study of {', '.join(spec.systems)}; {spec.trials_per_participant} trials each, "
               f"{spec.clip.seconds:g} s clips; question: “{spec.question}”; after the last trial participants see "
               f"{REVEAL_WORDS[spec.reveal]}")
    _close_control(store, spec)
    return spec



def _close_control(store: L.VoteStore, spec: L.StudySpec) -> None:
    if attempt("read the study's state", store.is_closed, spec.id):
        st.info("This study is closed: its link serves no new trials, and its results are final.",
                icon=":material/event_busy:")
        return
    with st.popover("Close the study", icon=":material/event_busy:"):
        st.markdown("No new trials are served after this (votes on trials already on screen still count). "
                    "It cannot be reopened.")
        if st.button("Close it now", type="primary", key=f"close_{spec.id}"):
            if attempt("close the study", store.close_study, spec.id) is None and store.is_closed(spec.id):
                st.rerun()


# ---- statistics -----------------------------------------------------------------------------------
def _pair_rows(pairs: list[L.PairResult]) -> list[dict]:
    rows = []
    for p in pairs:
        needed = L.votes_for_power(p.a_rate.rate)  # at the observed rate, for 80 % power
        more = None if needed is None else max(0, needed - p.a_rate.n)
        rows.append({"first": p.a, "second": p.b, "votes": p.n, "first won": p.wins_a, "second won": p.wins_b,
                     "no preference": p.ties, "first's win rate": p.a_rate.rate, "95 % low": p.a_rate.low,
                     "95 % high": p.a_rate.high, "binomial p": p.a_rate.p_value, "more votes for 80 % power": more})
    return rows


def _report_download(store: L.VoteStore, spec: L.StudySpec) -> None:
    """The study report (one HTML file, plotly.js inline): made only when the button is clicked."""
    def make() -> str:
        return report.study_report(store, spec.id)

    st.download_button("Download the report (HTML)", make, f"{spec.id}-report.html", "text/html",
                       on_click="ignore", icon=":material/description:", key=f"report_{spec.id}",
                       help="One self-contained file: methods written from the study's data, every table and "
                            "figure (with and without excluded participants), and the votes as CSV and JSON.")


def _participants(analysis: report.StudyAnalysis) -> None:
    excluded = analysis.excluded
    label = f"Participants ({len(analysis.records)}; {len(excluded)} excluded)"
    with st.expander(label, icon=":material/group:", expanded=bool(excluded)):
        st.caption(f"Exclusion rule: {analysis.rule.describe()}. Time on task: the median response time per trial.")
        catches = any(r.catch_total for r in analysis.records)
        rated = analysis.spec.kind in report.RATING_KINDS
        checked = analysis.spec.headphone_check != "off"
        rows = []
        for r in analysis.records:
            row = {"participant": r.participant, "trials": r.trials, "median seconds": r.median_seconds}
            if catches:
                row["catch trials right"] = f"{r.catch_correct}/{r.catch_total}" if r.catch_total else None
            if rated:
                row["rating SD"] = r.rating_sd
            if checked:
                row["headphone check"] = r.headphones_passed
            rows.append({**row, "excluded because": "; ".join(excluded.get(r.participant, []))})
        st.dataframe(rows, hide_index=True, width="stretch")


def _pair_statistics(x: report.Analysis) -> None:
    st.subheader("Pairs", anchor=False)
    st.caption("Win rates count decisive votes only; intervals are 95 % Wilson intervals and p the exact "
               "two-sided binomial test against 50 %.")
    st.dataframe(_pair_rows(x.pairs), hide_index=True, width="stretch", column_config={
        k: st.column_config.NumberColumn(format="percent") for k in ("first's win rate", "95 % low", "95 % high")})
    bias = x.position
    if bias.n:
        st.caption(f"Position: the clip on the left (A) won {bias.rate:.0%} of decisive votes "
                   f"({bias.k} of {bias.n}; "
                   f"95 % interval {bias.low:.0%}–{bias.high:.0%}; binomial p = {bias.p_value:.3g}). Sides are "
                   "drawn at random, so far from 50 % means the listeners (or the page) favour a side. "
                   "“More votes for 80 % power”: decisive votes still needed to detect the observed win rate "
                   "(two-sided binomial test at 5 %), empty where there is no difference to detect.")
    st.plotly_chart(pair_win_rates_figure(x.pairs, title="Win rate per pair"))
    st.plotly_chart(win_matrix_figure(x.matrix, title="Who beat whom"))
    st.subheader("Ranking (Bradley–Terry)", anchor=False)
    st.dataframe([{"rank": r.rank, "system": r.system, "strength": r.strength, "95 % low": r.low,
                   "95 % high": r.high, "votes": r.votes} for r in x.ranking], hide_index=True)
    st.plotly_chart(ranking_figure(x.ranking, title="Strength with bootstrap intervals"))


def _mos_statistics(x: report.Analysis) -> None:
    st.subheader("Mean opinion scores", anchor=False)
    st.caption("1 = bad … 5 = excellent; 95 % Student t intervals of the mean, per system and criterion.")
    st.dataframe([{"criterion": m.criterion, "system": m.system, "ratings": m.n, "MOS": m.mean, "SD": m.sd,
                   "95 % low": m.low, "95 % high": m.high} for m in x.mos], hide_index=True, width="stretch")
    st.plotly_chart(mean_scores_figure(x.mos, title="MOS with 95 % intervals"))


def _mushra_statistics(x: report.Analysis) -> None:
    for r in x.mushra:
        st.subheader(f"Ratings: {r.criterion}", anchor=False)
        friedman = ("Friedman test: needs three systems and two complete blocks" if r.friedman_p is None else
                    f"Friedman test over {r.blocks} complete blocks: χ² = {r.friedman_statistic:.3g}, "
                    f"p = {r.friedman_p:.3g}")
        st.caption(f"{friedman} ({r.incomplete} incomplete blocks left out of the tests). Medians with "
                   "distribution-free 95 % intervals; pairwise two-sided Wilcoxon signed-rank tests, Holm-corrected.")
        st.dataframe([{"system": s.system, "ratings": s.n, "median": s.median, "95 % low": s.median_low,
                       "95 % high": s.median_high, "mean": s.mean} for s in r.systems], hide_index=True)
        st.dataframe([{"first": t.a, "second": t.b, "blocks": t.n, "median difference": t.median_difference,
                       "Wilcoxon p": t.p_value, "Holm p": t.p_holm, f"significant at {r.alpha:g}": t.significant}
                      for t in r.pairwise], hide_index=True)
        st.plotly_chart(mushra_figure(r, title=f"{r.criterion}: medians and means"))


def show_results(store: L.VoteStore, spec: L.StudySpec) -> None:
    with st.spinner("Computing the statistics…"):
        analysis = attempt("compute the results", report.analyse_study, store, spec.id)
    if analysis is None:
        return
    x = analysis.everyone
    if analysis.excluded:
        leave_out = st.toggle(f"Leave out the {len(analysis.excluded)} excluded participants (the study's rule)",
                              value=True, key=f"leave_out_{spec.id}",
                              help=f"Rule: {analysis.rule.describe()}. Off: the numbers with everyone.")
        x = analysis.kept if leave_out else analysis.everyone
    votes, people, third = st.columns(3)
    votes.metric("Votes", len(x.votes))
    people.metric("Participants", x.participants)
    if spec.kind in report.RATING_KINDS:
        third.metric("Ratings", x.ratings)
    else:
        third.metric("No preference", sum(v.answer == "none" for v in x.votes))
    downloads = st.columns(2)
    with downloads[0]:
        st.download_button("Download every vote (CSV, with provenance)", L.votes_csv(analysis.votes),
                           f"{spec.id}-votes.csv", "text/csv", on_click="ignore", icon=":material/download:")
    with downloads[1]:
        _report_download(store, spec)
    if not analysis.votes:
        st.info("No votes yet. Send participants the link above.")
        return
    if spec.kind == "pair":
        if x.by_criterion:
            questions = {c.name: c.question for c in spec.rating_criteria}
            names = [c for c, _ in x.by_criterion]
            chosen = st.radio("Criterion", names, horizontal=True, key=f"criterion_{spec.id}",
                              format_func=lambda c: f"{c}: {questions.get(c, c)}")
            x = dict(x.by_criterion)[chosen]
        _pair_statistics(x)
    elif spec.kind == "mos":
        _mos_statistics(x)
    elif spec.kind == "mushra":
        _mushra_statistics(x)
    if x.identification is not None:
        ident = x.identification
        st.subheader("Person or machine?", anchor=False)
        st.markdown(f"Listeners told real music from a model's **{ident.overall.rate:.0%}** of the time "
                    f"({ident.overall.k} of {ident.overall.n}; 95 % interval {ident.overall.low:.0%}–"
                    f"{ident.overall.high:.0%}; binomial p = {ident.overall.p_value:.3g}). 50 % means they could "
                    "not tell.")
        st.plotly_chart(identification_figure(ident, title="Identification rate per model"))
    _participants(analysis)
