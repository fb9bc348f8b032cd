"""The listening-test pages (Listening test, Results, Human or AI?), driven headless with AppTest.

Every test gets its own vote store ($MUSICGEN_DATA in a temp dir), so no real store is touched. Studies
use the shipped `markov` checkpoint and real held-out pieces with short clips, to stay fast.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from musicgen import listening as L
from musicgen.checkpoints import list_checkpoint_ids
from musicgen.listening.store import Vote
from musicgen.plots_listening import (
    identification_figure,
    pair_win_rates_figure,
    ranking_figure,
    win_matrix_figure,
)

ROOT = Path(__file__).resolve().parent.parent
LISTENING = str(ROOT / "pages" / "5_Listening_test.py")
RESULTS = str(ROOT / "pages" / "6_Results.py")
GAME = str(ROOT / "pages" / "7_Human_or_AI.py")
TIMEOUT = 60


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("MUSICGEN_DB_URL", raising=False)
    monkeypatch.delenv("MUSICGEN_RESULTS_PASSWORD", raising=False)
    return tmp_path / "data"


@pytest.fixture
def store(data_dir):
    s = L.open_store()
    yield s
    s.close()


def make_study(store, study_id="s", trials=2, **fields):
    # AppTest has no browser to play the clips in, so the minimum listening time is off unless a test sets it
    fields = {"min_listen_seconds": 0, **fields}
    spec = L.StudySpec.from_dict({"id": study_id, "systems": ["markov", "real"], "trials_per_participant": trials,
                                  "title": "A short study", "clip": {"seconds": 3}, **fields})
    return store.save_study(spec)


def open_link(at: AppTest, store, study_id: str) -> None:
    """What a participant's link sets: the study and its key."""
    at.query_params["study"] = study_id
    at.query_params["key"] = L.study_key(store, study_id)


def page_dump(at: AppTest) -> str:
    """Everything the script sent for the page: every element's protobuf (text, labels, help, keys, URLs)."""
    return "\n".join(str(node.proto) for node in at._tree if getattr(node, "proto", None) is not None)


def players(at: AppTest) -> list[dict]:
    """The blind players' clips on the page ({"label", "src"} each: a data URL), from the component's data."""
    return [clip for el in at.get("bidi_component") for clip in json.loads(el.proto.json)["clips"]]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def button(at: AppTest, label: str):
    [b] = [b for b in at.button if b.label == label]
    return b


def secrets_of(record: L.TrialRecord) -> list[str]:
    """What would identify the systems of a trial: ids, titles, model seeds, piece and soundfont names."""
    out = [record.soundfont, Path(record.soundfont).stem]
    for system, seed, settings in record.clips:
        if system == L.REAL:  # its title, "A person", is also an answer button: the piece names it
            out.append(settings["piece"])
        else:
            out += [system, L.describe_system(system)["title"], str(seed), settings["weights_sha256"][:16]]
    return out


def assert_blind(at: AppTest, record: L.TrialRecord) -> None:
    dump = page_dump(at)
    for secret in secrets_of(record):
        assert secret not in dump, f"{secret!r} reached the page before the vote"
    assert not re.search(r"\breal\b", dump, re.IGNORECASE), "the system id 'real' reached the page"


def open_trial(store, study_id: str, pid: str) -> L.TrialRecord:
    [record] = [r for r, voted in store.participant_trials(study_id, pid) if not voted]
    return record


# ---- Listening test ----------------------------------------------------------------------------------
def test_participant_completes_a_two_trial_study(store):
    make_study(store, reveal="own")
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    open_link(at, store, "s")
    at.run()
    assert not at.exception
    assert "A short study" in texts(at.title)
    assert "anonymously" in texts(at.markdown) and not players(at)  # consent first, no clips yet
    button(at, "I agree, start").click().run()
    pid = at.session_state["listening_pid_s"]

    for number, answer in ((1, "A"), (2, "none")):
        assert not at.exception and not at.error
        assert f"Trial {number} of 2" in page_dump(at)
        assert [clip["label"] for clip in players(at)] == ["A", "B"]
        record = open_trial(store, "s", pid)
        assert_blind(at, record)
        at.run()  # a rerun shows the same trial and records nothing
        assert open_trial(store, "s", pid).token == record.token and store.vote_count("s") == number - 1
        at.radio(key=f"answer{number}").set_value(answer)
        at.text_area(key=f"comment{number}").set_value(f"comment {number}")
        button(at, "Submit and continue").click().run()
        assert store.vote_count("s") == number

    assert not at.exception and not at.error
    votes = store.votes("s")
    assert [(v.number, v.answer, v.comment) for v in votes] == [(1, "A", "comment 1"), (2, "none", "comment 2")]
    assert {v.participant_id for v in votes} == {pid}
    assert "Thank you" in texts(at.success)
    [table] = at.dataframe
    shown = table.value.to_string()
    assert len(table.value) == 2 and "Markov chain" in shown and "A person" in shown  # the reveal
    at.run()  # reruns after the end record nothing more
    assert store.vote_count("s") == 2


def test_a_participant_resumes_from_the_link_and_cannot_vote_twice(store):
    # A reload, a second tab or another app replica is a new Streamlit session: the id in the link (a crowd
    # platform's, or the one the page wrote there) resumes the same participant, trial and all.
    make_study(store, trials=2)

    def visit(pid: str | None) -> AppTest:
        at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
        open_link(at, store, "s")
        if pid is not None:
            at.query_params["pid"] = pid
        return at.run()

    at = visit("worker-42")
    button(at, "I agree, start").click().run()
    first = open_trial(store, "s", "worker-42")
    again = visit("worker-42")  # no consent screen the second time: straight back to the open trial
    assert not again.exception and "Trial 1 of 2" in page_dump(again) and not [b for b in again.button
                                                                             if b.label == "I agree, start"]
    assert open_trial(store, "s", "worker-42").token == first.token
    again.radio(key="answer1").set_value("B")
    button(again, "Submit and continue").click().run()
    at.radio(key="answer1").set_value("A")  # the stale first tab votes on the same trial: refused, kept once
    button(at, "Submit and continue").click().run()
    assert [(v.number, v.answer) for v in store.votes("s")] == [(1, "B")]

    fresh = visit("not a valid id!")  # an implausible id is replaced by a new random one, written to the link
    button(fresh, "I agree, start").click().run()
    pid = fresh.session_state["listening_pid_s"]
    assert pid != "not a valid id!" and fresh.query_params["pid"] in (pid, [pid])
    assert open_trial(store, "s", pid).number == 1


def _finish(store, study_id: str, answers: list[str]) -> AppTest:
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    open_link(at, store, study_id)
    at.run()
    button(at, "I agree, start").click().run()
    for number, answer in enumerate(answers, 1):
        at.radio(key=f"answer{number}").set_value(answer)
        button(at, "Submit and continue").click().run()
    return at


def test_the_reveal_follows_the_study_and_others_votes_wait_for_its_close(store):
    make_study(store, "quiet", trials=1)  # research default: thanks, nothing else
    at = _finish(store, "quiet", ["A"])
    assert "Thank you" in texts(at.success) and not at.dataframe and "Markov chain" not in page_dump(at)

    make_study(store, "open", trials=1, reveal="everyone")
    _vote_through(store, "open", "earlier", ["A"])
    at = _finish(store, "open", ["B"])
    [table] = at.dataframe  # own answers only while the study is open: no one is swayed by the running result
    assert "Markov chain" in table.value.to_string() and not any("Everyone" in c for c in table.value.columns)
    store.close_study("open")
    at.run()
    [table] = at.dataframe
    assert any("Everyone" in c for c in table.value.columns)


def test_a_closed_study_serves_no_new_trials(store):
    make_study(store, trials=1)
    store.close_study("s")
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    open_link(at, store, "s")
    at.run()
    button(at, "I agree, start").click().run()
    assert "This study has closed" in texts(at.info) and not players(at) and not at.exception
    assert store.participant_trials("s", at.session_state["listening_pid_s"]) == []


def test_a_vote_without_an_answer_is_refused(store):
    make_study(store, trials=1)
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    open_link(at, store, "s")
    at.run()
    button(at, "I agree, start").click().run()
    button(at, "Submit and continue").click().run()
    assert not at.exception
    assert "Choose an answer" in texts(at.warning) and store.vote_count("s") == 0


def _double_vote_script():
    import streamlit as st

    from musicgen import listening as L
    from musicgen.ui.listening import VOTED_KEY, vote, vote_store

    store = vote_store()
    if "token" not in st.session_state:
        st.session_state["token"] = L.prepare_trial(store, "s", "p1").token
    token = st.session_state["token"]
    assert vote(store, token, "A") and vote(store, token, "B")  # a double click
    st.session_state.pop(VOTED_KEY)  # even without the session's memory, the store keeps the first vote
    assert vote(store, token, "B")
    st.write(f"votes: {store.vote_count('s')}, answer: {store.get_vote(token).answer}")


def test_double_clicks_and_reruns_vote_once(store):
    make_study(store, trials=1)
    at = AppTest.from_function(_double_vote_script, default_timeout=TIMEOUT).run()
    at.run()
    assert not at.exception
    assert "votes: 1, answer: A" in texts(at.markdown)


@pytest.mark.parametrize("query, key, message", [(None, None, "study link"), ("nope", None, "no study at this link"),
                                                 ("s", None, "no study at this link"),
                                                 ("s", "guessed", "no study at this link")])
def test_missing_or_unknown_study_link(store, query, key, message):
    make_study(store)  # "s" exists, but without its key the link reads exactly like one to no study
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    if query:
        at.query_params["study"] = query
    if key:
        at.query_params["key"] = key
    at.run()
    assert not at.exception
    assert message in texts(at.info) + texts(at.error)


def test_trial_errors_shown_to_participants_are_generic(store, monkeypatch):
    make_study(store)

    def broken(*args, **kwargs):
        raise RuntimeError("checkpoint markov changed since this trial was made")

    monkeypatch.setattr(L, "prepare_trial", broken)
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    open_link(at, store, "s")
    at.run()
    button(at, "I agree, start").click().run()
    assert not at.exception
    assert "could not be prepared" in texts(at.error)
    assert "markov" not in page_dump(at)


@pytest.mark.parametrize("page", [LISTENING, GAME])
def test_an_unreachable_store_gives_participants_a_generic_message(monkeypatch, page):
    monkeypatch.setenv("MUSICGEN_DB_URL", "postgresql://organiser:hunter2@127.0.0.1:1/votes")
    at = AppTest.from_file(page, default_timeout=TIMEOUT)
    at.query_params["study"] = "s"  # no store to compute its key from: the store fails first anyway
    at.run()
    assert not at.exception
    assert "not available right now" in texts(at.error)
    assert "hunter2" not in page_dump(at) and "127.0.0.1" not in page_dump(at)


# ---- Results ------------------------------------------------------------------------------------------
def _vote_through(store, study_id: str, pid: str, answers: list[str]) -> None:
    for answer in answers:
        L.submit_vote(store, L.prepare_trial(store, study_id, pid).token, answer)


def test_results_stay_closed_without_a_password(store):
    make_study(store)
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "MUSICGEN_RESULTS_PASSWORD" in texts(at.warning) and "secrets.toml" in texts(at.warning)
    assert not at.text_input and not at.dataframe and not at.get("download_button") and not at.selectbox


def test_results_need_the_right_password_then_show_everything(store, monkeypatch):
    make_study(store)
    _vote_through(store, "s", "p1", ["A", "B"])
    _vote_through(store, "s", "p2", ["none", "A"])
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    at.text_input(key="results_password_input").set_value("guess")
    button(at, "Open the results").click().run()
    assert "not the password" in texts(at.error) and not at.selectbox
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="results_study").value == "s"
    assert at.code[0].value.endswith(f"/Listening_test?study=s&key={L.study_key(store, 's')}")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Votes"] == "4" and metrics["Participants"] == "2" and metrics["No preference"] == "1"
    pairs = at.dataframe[0].value
    assert list(pairs["votes"]) == [4] and pairs["first won"][0] + pairs["second won"][0] == 3
    assert len(at.get("plotly_chart")) == 4  # win rates, matrix, ranking, identification
    votes_csv, report = at.get("download_button")
    assert votes_csv.proto.label.startswith("Download every vote")
    assert report.proto.label == "Download the report (HTML)"  # made when clicked (tests/listening: report)


def test_results_lock_out_a_guesser(store, monkeypatch):
    # An audit typed 15 wrong passwords in 28 s and was then let in: guessing now locks the gate a while.
    from musicgen.ui import results

    now = [1000.0]
    monkeypatch.setattr(results, "LOCKOUT", results.PasswordLockout(tries=5, lock=60, clock=lambda: now[0]))
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    make_study(store)
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    for guess in range(5):
        at.text_input(key="results_password_input").set_value(f"guess{guess}")
        button(at, "Open the results").click().run()
        assert "not the password" in texts(at.error)
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    assert "Too many wrong passwords. Try again in 60 s." in texts(at.error) and not at.selectbox
    now[0] += 61
    button(at, "Open the results").click().run()
    assert not at.error and at.selectbox(key="results_study").value == "s"


def test_results_password_from_secrets(store):
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT)
    at.secrets["results_password"] = "from-secrets"
    at.run()
    assert not at.warning
    at.text_input(key="results_password_input").set_value("from-secrets")
    button(at, "Open the results").click().run()
    assert not at.exception and "No study yet" in texts(at.info)


def test_organiser_sets_up_studies_from_the_form_and_from_a_file(store, monkeypatch):
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    def field(prefix):
        [found] = [t for t in at.text_input if t.label.startswith(prefix)]
        return found
    assert len(at.text_input) == 5  # the study's id, title, criteria and question; a sample set's name
    field("Study id").set_value("Bad Id!")
    button(at, "Save the study").click().run()
    assert "Could not set up the study" in texts(at.error) and store.study_ids() == []
    field("Study id").set_value("spring")
    field("Title").set_value("Spring study")
    button(at, "Save the study").click().run()
    assert not at.exception and "Saved study spring" in texts(at.success)
    # the message sits above the set-up panel, which saving the first study collapses: not hidden inside it
    assert not at.expander[0].success and not at.expander[0].proto.expanded
    spec = store.get_study("spring")
    assert spec.title == "Spring study" and L.REAL in spec.systems and set(spec.models) <= set(list_checkpoint_ids())
    at.expander[0].radio[0].set_value("mos")
    field("Study id").set_value("spring-mos")
    field("Criteria").set_value("musical, coherent")
    button(at, "Save the study").click().run()
    assert not at.exception and "Saved study spring-mos" in texts(at.success)
    spec = store.get_study("spring-mos")
    assert spec.kind == "mos" and [c.name for c in spec.criteria] == ["musical", "coherent"]
    next(b for b in at.selectbox if b.label == "Study file").set_value(ROOT / "studies" / "example.toml")
    button(at, "Load into the store").click().run()
    assert not at.exception and "Loaded study example" in texts(at.success)
    assert store.get_study("example") == L.load_study(ROOT / "studies" / "example.toml")


# ---- Human or AI? -----------------------------------------------------------------------------------
def test_human_or_ai_round_reveal_and_score(store):
    at = AppTest.from_file(GAME, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    spec = store.get_study("human-or-ai")  # made on first use from the shipped models and real pieces
    assert spec.kind == "identify" and L.REAL in spec.systems and "markov" in spec.systems
    pid = at.session_state["listening_pid_game"]
    record = open_trial(store, spec.id, pid)
    assert len(at.get("audio")) == 1 and not at.get("plotly_chart")
    assert_blind(at, record)

    button(at, "A person").click().run()
    assert not at.exception and not at.error
    [vote] = store.votes(spec.id)
    assert vote.answer == "person" and vote.correct == (record.system_a == L.REAL)
    revealed = texts(at.success) + texts(at.warning) + texts(at.markdown)
    assert ("a person" if record.system_a == L.REAL else "a machine") in revealed
    assert L.describe_system(record.system_a)["title"] in revealed
    assert len(at.get("plotly_chart")) == 1 and len(at.get("audio")) == 1  # the piano roll, and a replay
    assert at.metric[0].value == f"{int(vote.correct)} of 1"

    at.run()  # a rerun keeps the reveal and votes nothing more
    assert store.vote_count(spec.id) == 1 and button(at, "Next clip")
    button(at, "Next clip").click().run()
    assert not at.exception and len(at.get("audio")) == 1 and "Clip 2 of" in texts(at.subheader)
    button(at, "A machine").click().run()
    assert store.vote_count(spec.id) == 2 and at.metric[0].value.endswith("of 2")


def test_human_or_ai_study_is_replaced_while_it_has_no_votes(store):
    from musicgen.ui.game import GAME_STUDY, ensure_game_study

    stale = L.StudySpec.from_dict({"id": GAME_STUDY, "kind": "identify", "systems": ["markov", "real"],
                                   "trials_per_participant": 3})
    store.save_study(stale)
    fresh = ensure_game_study(store)
    assert fresh.id == GAME_STUDY and fresh != stale and store.get_study(GAME_STUDY) == fresh
    store.save_study(stale, replace=True)
    _vote_through(store, GAME_STUDY, "p", ["person"])
    moved = ensure_game_study(store)  # votes are never mixed with other settings: a new id
    assert moved.id.startswith(GAME_STUDY + "-") and store.get_study(GAME_STUDY) == stale
    assert ensure_game_study(store) == moved


# ---- charts (pure functions) --------------------------------------------------------------------------
def _vote(i, a, b, answer):
    winner = {"A": a, "B": b, "none": L.TIE}[answer]
    return Vote(token=f"t{i}", study_id="s", participant_id="p", number=i, kind="pair", system_a=a, seed_a=i,
                settings_a={}, system_b=b, seed_b=i, settings_b={}, soundfont="sf", sample_rate=22050,
                served_at=None, id=i, answer=answer, winner=winner, correct=None, comment=None,
                response_seconds=1.0, voted_at=None)


def test_results_show_exclusions_with_and_without_and_rating_tables(store, monkeypatch):
    # A MOS study: one participant gave every clip the same score, so the study's rule (P.808: near-zero
    # rating spread) leaves them out; the page shows the numbers without them, and with everyone on request.
    from tests.listening.test_listening_report import _trial

    store.save_study(L.StudySpec.from_dict({"id": "m", "kind": "mos", "systems": ["markov", "real"],
                                            "criteria": ["musical", "coherent"]}))
    n = 0
    for pid, scores in (("p1", (2, 4)), ("p2", (1, 5)), ("flat", (3, 3))):
        for system, score in zip(("markov", "real"), scores):
            n += 1
            store.record_vote(_trial(store, "m", pid, n, "mos", [system]),
                              ratings={"musical": [score], "coherent": [score]})
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Votes": "4", "Participants": "2", "Ratings": "8"}
    mos = at.dataframe[0].value
    assert list(mos["criterion"]) == ["musical", "musical", "coherent", "coherent"]
    assert list(mos["MOS"]) == [1.5, 4.5, 1.5, 4.5]
    people = at.dataframe[1].value
    assert list(people["participant"]) == ["flat", "p1", "p2"]
    assert people["excluded because"][0] == "gave every clip the same rating"
    at.toggle(key="leave_out_m").set_value(False).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Participants"] == "3" and list(at.dataframe[0].value["MOS"]) == [2.0, 4.0, 2.0, 4.0]
    assert [b.proto.label for b in at.get("download_button")] == ["Download every vote (CSV, with provenance)",
                                                                 "Download the report (HTML)"]
    assert len(at.get("plotly_chart")) == 1  # the MOS bars


def test_results_of_a_pair_study_with_criteria_one_at_a_time(store, monkeypatch):
    from tests.listening.test_listening_report import _trial

    store.save_study(L.StudySpec.from_dict({"id": "pc", "systems": ["markov", "real"],
                                            "criteria": ["musical", "coherent"]}))
    for n, (musical, coherent) in enumerate([("A", "B"), ("A", "A"), ("B", "none")], start=1):
        store.record_vote(_trial(store, "pc", f"p{n}", n, "pair", ["markov", "real"]),
                          answers={"musical": musical, "coherent": coherent})
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    assert not at.exception and at.radio(key="criterion_pc").value == "musical"
    pairs = at.dataframe[0].value
    assert (pairs["first won"][0], pairs["second won"][0], pairs["no preference"][0]) == (2, 1, 0)
    at.radio(key="criterion_pc").set_value("coherent").run()
    pairs = at.dataframe[0].value
    assert (pairs["first won"][0], pairs["second won"][0], pairs["no preference"][0]) == (1, 1, 1)


def test_result_charts():
    votes = [_vote(1, "x", "y", "A"), _vote(2, "y", "x", "A"), _vote(3, "x", L.REAL, "B"),
             _vote(4, "y", L.REAL, "none"), _vote(5, "x", "y", "A")]
    pairs = L.pair_results(votes)
    fig = pair_win_rates_figure(pairs, {"x": "Model X"})
    assert len(fig.data) == 1 and "Model X vs y" in fig.data[0].y
    matrix = L.win_matrix(votes, ["x", "y", L.REAL])
    heat = win_matrix_figure(matrix)
    assert heat.data[0].text[0][1] == "2/3"  # x beat y twice in three decisive votes
    assert np.isclose(heat.data[0].z[0][1], 2 / 3) and heat.data[0].z[0][0] is None
    ranking = L.bradley_terry_ranking(votes, ["x", "y", L.REAL], n_boot=50)
    assert len(ranking_figure(ranking).data[0].x) == 3
    ident = identification_figure(L.identification(votes))
    assert list(ident.data[0].x) == ["all", "x"]  # the y-vs-real vote was a tie
    for empty in (pair_win_rates_figure([]), win_matrix_figure(L.win_matrix([], ["x"])), ranking_figure([]),
                  identification_figure(None)):
        assert not empty.data and empty.layout.annotations


def test_results_page_adds_a_sample_set_from_a_zip_and_offers_it_for_studies(store, monkeypatch):
    import io
    import zipfile

    from musicgen.corpora import toy_corpus
    from musicgen.midi import to_midi_bytes

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for seq in toy_corpus().pieces[:4]:
            z.writestr(f"out/{seq.name}.mid", to_midi_bytes(seq))
        z.writestr("out/garbage.mid", b"not midi at all")
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    at = AppTest.from_file(RESULTS, default_timeout=TIMEOUT).run()
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    form_name = [t for t in at.text_input if t.label == "Name"][0]
    form_name.set_value("theirs")
    at.file_uploader(key="sample_set_zip").set_value(("outputs.zip", buf.getvalue(), "application/zip"))
    button(at, "Add the sample set").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert "samples:theirs" in texts(at.success) and "4 files" in texts(at.success)
    assert "garbage.mid" in texts(at.success)  # the skipped file is named, with its reason
    [models] = [m for m in at.multiselect if m.label == "Models and sample sets"]
    assert "samples:theirs" in models.options or any("samples:theirs" in o for o in models.options)


# ---- rating kinds, criteria and the participant flow -------------------------------------------------
def visit(store, study_id: str, pid: str) -> AppTest:
    """A participant's link with their id: a reload or a new tab is a new session on the same participant."""
    at = AppTest.from_file(LISTENING, default_timeout=TIMEOUT)
    open_link(at, store, study_id)
    at.query_params["pid"] = pid
    return at.run()


def submit(at: AppTest) -> AppTest:
    return button(at, "Submit and continue").click().run()


def test_a_mos_study_runs_through_questionnaire_practice_and_completion_code(store):
    make_study(store, "m", kind="mos", criteria=["musical", "coherent"], practice_trials=1,
               completion_code="C1A2B3", reveal="own",
               questionnaire=[{"id": "years", "text": "Years of musical training", "type": "number", "min": 0,
                               "max": 80},
                              {"id": "hand", "text": "Listening with", "type": "choice",
                               "options": ["Headphones", "Speakers"]}])
    at = visit(store, "m", "w1")
    assert "1 practice trial" in texts(at.caption) and not players(at)
    button(at, "I agree, start").click().run()
    assert "A few questions about you" in page_dump(at)
    at.radio(key="q_hand").set_value("Speakers")
    button(at, "Continue").click().run()
    assert "Years of musical training: please answer" in texts(at.warning)
    assert store.participant("m", "w1")["questionnaire"] is None
    at.number_input(key="q_years").set_value(7)
    at.radio(key="q_hand").set_value("Speakers")
    button(at, "Continue").click().run()
    assert store.participant("m", "w1")["questionnaire"] == {"years": 7, "hand": "Speakers"}

    at = visit(store, "m", "w1")  # a reload resumes at the practice trial, not at the consent
    assert not at.exception and "Practice 1 of 1" in page_dump(at) and "not counted" in texts(at.caption)
    assert [c["label"] for c in players(at)] == ["The clip"]
    at.radio(key="practicemos1_0").set_value(5)
    submit(at)
    assert "Choose" not in texts(at.warning) and "Answer every question first." in texts(at.warning)
    at.radio(key="practicemos1_1").set_value(4)
    submit(at)
    assert store.vote_count("m") == 0 and store.ratings("m") == []  # practice: never a vote
    assert [p["ratings"] for p in store.participant("m", "w1")["practice"]] == [{"musical": [5], "coherent": [4]}]

    [practice] = store.participant("m", "w1")["practice"]
    assert len(practice["clips"]) == 1  # kept with the answer, so that no real trial plays it again
    assert "The practice is over" in texts(at.info) and "Trial 1 of 2" in page_dump(at)
    for number in (1, 2):
        record = open_trial(store, "m", "w1")
        assert_blind(at, record)
        assert [list(c[:2]) for c in record.clips] != practice["clips"]
        assert "How musical is this clip?" in texts(at.radio) or "How musical is this clip?" in page_dump(at)
        at.radio(key=f"mos{number}_0").set_value(number + 2)
        at.radio(key=f"mos{number}_1").set_value(1)
        submit(at)
        assert store.vote_count("m") == number
    assert not at.exception and not at.error
    rows = store.ratings("m")
    assert [(r["trial"], r["criterion"], r["value"]) for r in rows] == [
        (1, "musical", 3.0), (1, "coherent", 1.0), (2, "musical", 4.0), (2, "coherent", 1.0)]
    assert "C1A2B3" in texts(at.code) and store.participant("m", "w1")["completed_at"] is not None
    [table] = at.dataframe
    assert list(table.value.columns)[:2] == ["Trial", "The clip was"] and len(table.value) == 2  # the reveal


def test_a_mushra_study_shows_numbered_clips_with_sliders(store):
    make_study(store, "mu", kind="mushra", trials=1, completion_code="auto", criteria=["musical", "human-like"])
    at = visit(store, "mu", "w2")
    button(at, "I agree, start").click().run()
    record = open_trial(store, "mu", "w2")
    assert [c["label"] for c in players(at)] == ["Clip 1", "Clip 2"]
    assert_blind(at, record)
    assert sorted(s for s, _, _ in record.clips) == ["markov", "real"]
    assert [s.label for s in at.slider] == ["Clip 1", "Clip 2"] * 2 and all(s.value == 50 for s in at.slider)
    at.slider(key="mushra1_0_0").set_value(80)
    at.slider(key="mushra1_0_1").set_value(20)
    at.slider(key="mushra1_1_1").set_value(65)
    submit(at)
    assert not at.exception and not at.error
    got = {(r["position"], r["criterion"]): (r["system"], r["value"]) for r in store.ratings("mu")}
    first, second = record.clips[0][0], record.clips[1][0]
    assert got == {(0, "musical"): (first, 80.0), (1, "musical"): (second, 20.0),
                   (0, "human-like"): (first, 50.0), (1, "human-like"): (second, 65.0)}
    from musicgen.listening import flow
    [code] = [c.value for c in at.code]
    assert flow.completion_code_ok(store, "mu", "w2", code) and not flow.completion_code_ok(store, "mu", "w3", code)


def test_a_pair_study_with_several_criteria_takes_an_answer_for_each(store):
    make_study(store, "pc", trials=1, criteria=["musical", "human-like"])
    at = visit(store, "pc", "w4")
    button(at, "I agree, start").click().run()
    at.radio(key="answer1_0").set_value("A")
    submit(at)
    assert store.vote_count("pc") == 0 and "Answer every question first." in texts(at.warning)
    at.radio(key="answer1_1").set_value("none")
    submit(at)
    [v] = store.votes("pc")
    assert v.answers == {"musical": "A", "human-like": "none"} and v.answer == "A"


def test_the_headphone_check_lets_headphone_listeners_through_and_stops_the_others(store):
    from musicgen.listening import headphones

    make_study(store, "h", trials=1, headphone_check="required")
    for pid, passes in (("ears", True), ("room", False)):
        at = visit(store, "h", pid)
        button(at, "I agree, start").click().run()
        assert "Headphone check" in page_dump(at) and len(at.get("audio")) == headphones.TRIALS
        key = headphones.answer_key(store.side_secret(), "h", pid)
        for i, right in enumerate(key):
            at.radio(key=f"headphones{i}").set_value(right if passes else right % 3 + 1)
        button(at, "Continue").click().run()
        assert store.participant("h", pid)["headphones_passed"] is passes
        again = visit(store, "h", pid)  # the result holds after a reload
        if passes:
            assert "Trial 1 of 1" in page_dump(again) and players(again)
        else:
            assert "cannot go on" in texts(again.info) and not players(again) and not again.button
    assert [v.participant_id for v in store.votes("h")] == []
    assert [r["participant_id"] for r in store.participants("h")] == ["ears", "room"]
