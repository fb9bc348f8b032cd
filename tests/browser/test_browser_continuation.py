"""A continuation pair study in a real browser, with a catch trial failed on purpose.

Every trial's clips begin with the same held-out opening (the page says so, in the same words each time);
the catch trial (a real continuation against its pitch-scrambled copy) looks like any other pair: before
every answer the page text, the DOM, every websocket message and the clips' bytes are searched for what
would identify a system or give the catch trial away. The participant chooses the scrambled clip, and the
store scores the catch trial as failed.
"""

from __future__ import annotations

import re

import pytest

from musicgen import listening as L
from musicgen.listening import catch
from tests.browser.test_browser_ratings import (assert_absent, blind_players, capture, check_blind, identifying,
                                                listen, open_trial, pick, wait_idle, without_audio)

pytestmark = pytest.mark.browser

STUDY = "web-continuation"


@pytest.fixture(scope="module")
def store(app_data):
    s = L.VoteStore(f"sqlite:///{app_data / 'listening.sqlite'}")
    s.save_study(L.StudySpec.from_dict({
        "id": STUDY, "kind": "pair", "systems": ["markov", L.REAL], "trials_per_participant": 3,
        "catch_rate": 0.34, "clip": {"seconds": 4, "primer": "heldout", "primer_seconds": 2},
        "min_listen_seconds": 1, "completion_code": "CONT1"}))
    yield s
    s.close()


def test_a_continuation_study_with_a_catch_trial_failed_on_purpose(app_server, store, page):
    pid = "browser-continuation"
    frames = capture(page)
    page.goto(f"{app_server}/Listening_test?study={STUDY}&key={L.study_key(store, STUDY)}&pid={pid}")
    page.get_by_role("button", name="I agree, start").click()
    heard: set[str] = set()
    caught = 0
    for number in (1, 2, 3):
        page.get_by_text(f"Trial {number} of 3").wait_for()
        srcs = blind_players(page, 2, heard)
        wait_idle(page)
        record = open_trial(store, STUDY, pid)
        assert record.number == number
        check_blind(page, frames, record, srcs)
        anywhere, words = identifying(record)
        secrets_ = [record.settings_a["primer"].removeprefix("test:"), "scrambl", "broken"]
        for where, text in (("page text", page.inner_text("body")), ("DOM", without_audio(page.content())),
                            ("websocket", without_audio(b"\n".join(frames).decode("latin-1")))):
            assert_absent(where, text, secrets_, words + ["catch"])
        assert "Every clip begins with the same opening" in page.inner_text("body")
        heard.update(srcs)
        listen(page)
        if catch.is_catch(record):  # choose the scrambled clip: a failed attention check
            caught += 1
            pick(page, 0, "B" if record.catch_answer == "A" else "A")
        else:
            pick(page, 0, "A")
        page.get_by_role("button", name="Submit and continue").click()
        page.get_by_text(f"Trial {number + 1} of 3" if number < 3 else "Thank you").wait_for()
        wait_idle(page)
        assert store.vote_count(STUDY) == number
    assert caught == 1
    assert catch.catch_scores(store, STUDY) == [(pid, 1, 0)]
    votes = store.votes(STUDY)
    assert len({v.settings_a["primer"] for v in votes}) == 3  # three trials, three openings
    assert all(re.fullmatch(r"test:.+", v.settings_b["primer"]) for v in votes)
    assert catch.failed(store.get_study(STUDY), 1, 0)
