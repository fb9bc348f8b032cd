"""The live audience vote's pages (issue 17), driven headless with AppTest: the presenter page (password,
QR code and join code, a round from listening to reveal, the tally following the votes) and the phone page
(`app.py?live=<code>`: blind until the reveal, one vote per phone and round)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from musicgen import listening as L
from musicgen.listening import live
from musicgen.ui.live import PUBLIC_URL_ENV
from tests.test_app_listening import TIMEOUT, assert_blind, button, data_dir, page_dump, store  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PRESENTER = str(ROOT / "pages" / "10_Live_vote.py")
APP = str(ROOT / "app.py")


def live_study(store, kind="pair"):
    return store.save_study(L.StudySpec.from_dict({"id": "live-test", "kind": kind, "title": "Our room",
                                                   "systems": ["markov", "real"], "clip": {"seconds": 3}}))


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_presenter_runs_a_round_and_the_tally_follows_the_votes(store, monkeypatch):
    monkeypatch.setenv("MUSICGEN_RESULTS_PASSWORD", "secret")
    monkeypatch.setenv(PUBLIC_URL_ENV, "http://192.0.2.7:8501")
    live_study(store)
    at = AppTest.from_file(PRESENTER, default_timeout=TIMEOUT).run()
    assert [b.label for b in at.button] == ["Open the results"]  # the password first
    at.text_input(key="results_password_input").set_value("secret")
    button(at, "Open the results").click().run()
    code = live.join_code(store, "live-test")
    dump = page_dump(at)
    assert f"http://192.0.2.7:8501/?live={code}" in dump and code in dump  # the link and the code
    [qr] = at.get("image")  # the QR code, as an image
    assert "Scan to vote" in str(qr.proto)
    assert "Start the first round" in dump

    button(at, "Start round 1").click().run()
    assert not at.exception and len(at.get("audio")) == 2
    assert "Listening" in markdown(at)
    button(at, "Open voting").click().run()
    for phone, answer in (("phone-1", "A"), ("phone-2", "A"), ("phone-3", "none")):
        live.cast_vote(store, "live-test", phone, 1, answer)
    at.run()
    assert "A: 2 · B: 0 · No preference: 1 (3 votes)" in markdown(at)
    [chart] = at.get("plotly_chart")
    assert '"y":[2,0,1]' in chart.proto.spec.replace(" ", "")  # the bars are the database's counts

    button(at, "Reveal").click().run()
    played = store.get_trial(store.get_round("live-test").token)
    titles = [L.describe_system(s)["title"] for s in (played.system_a, played.system_b)]
    assert f"A was <b>{titles[0]}</b>; B was <b>{titles[1]}</b>." in markdown(at)
    button(at, "Start round 2").click().run()
    assert store.get_round("live-test").number == 2 and not at.exception


def test_phone_is_blind_until_the_reveal_and_votes_once(store, monkeypatch):
    monkeypatch.setattr("musicgen.ui.live.STATE_TTL_SECONDS", 0.0)  # each run reads the round afresh
    live_study(store)
    code = live.join_code(store, "live-test")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["live"] = code.lower()
    at.run()
    assert "first round starts soon" in markdown(at) and not at.button
    pid = at.query_params["pid"][0] if isinstance(at.query_params["pid"], list) else at.query_params["pid"]
    assert pid.startswith("phone-")

    first = live.start_round(store, "live-test")
    at.run()
    assert "Voting opens soon" in markdown(at) and not at.button
    live.open_voting(store, "live-test", 1, seconds=60)
    at.run()
    record = store.get_trial(first.token)
    assert_blind(at, record)
    assert [b.label for b in at.button] == ["A", "B", "No preference"]
    button(at, "B").click().run()
    assert "Your vote is in: **B**" in "\n".join(s.value for s in at.success) and not at.button
    assert live.phone_vote(store, "live-test", pid, 1) == "B" and store.vote_count("live-test") == 1
    assert_blind(at, record)

    live.reveal_round(store, "live-test", 1)
    at.run()
    assert "A was <b>" in markdown(at) and store.vote_count("live-test") == 1


def test_a_wrong_code_says_so():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["live"] = "NOPE42"
    at.run()
    assert "no live vote with this code" in "\n".join(e.value for e in at.error) and not at.exception
