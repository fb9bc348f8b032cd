"""Rating studies in a real browser: a mos study (headphone check, questionnaire, practice, a reload mid-study,
completion code) and a mushra study (numbered clips in a shuffled order, sliders), blind until each vote.

Before every answer the page text, the DOM, every websocket message and the clips' bytes are searched for what
would identify a system, as in test_browser_listening.py, and the answer stays disabled until each clip has
played for the study's minimum.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from playwright.sync_api import expect

from musicgen import listening as L
from musicgen.card import Card
from musicgen.checkpoints import list_cards
from musicgen.listening import flow, headphones
from tests.browser.test_browser_listening import assert_absent, identifying, wait_idle, without_audio  # noqa: F401

pytestmark = pytest.mark.browser


def _systems() -> list[str]:
    """markov, one more shipped model trained on the same corpus (if any), and real pieces."""
    cards = {c.id: c for c in list_cards() if isinstance(c, Card)}
    corpus = cards["markov"].corpus
    others = sorted(cid for cid, c in cards.items() if cid != "markov" and c.corpus == corpus)
    return ["markov", *others[:1], L.REAL]


@pytest.fixture(scope="module")
def store(app_data):
    s = L.VoteStore(f"sqlite:///{app_data / 'listening.sqlite'}")
    s.save_study(L.StudySpec.from_dict({
        "id": "web-mos", "kind": "mos", "systems": ["markov", L.REAL], "trials_per_participant": 2,
        "clip": {"seconds": 3}, "min_listen_seconds": 1, "criteria": ["musical", "coherent"],
        "headphone_check": "required", "practice_trials": 1, "completion_code": "auto",
        "questionnaire": [{"id": "years", "text": "Years of musical training", "type": "number", "min": 0}]}))
    s.save_study(L.StudySpec.from_dict({
        "id": "web-mushra", "kind": "mushra", "systems": _systems(), "trials_per_participant": 1,
        "clip": {"seconds": 3}, "min_listen_seconds": 1, "completion_code": "C1A2B3"}))
    yield s
    s.close()


def open_trial(store: L.VoteStore, study_id: str, pid: str) -> L.TrialRecord:
    [record] = [r for r, voted in store.participant_trials(study_id, pid) if not voted]
    return record


def capture(page) -> list[bytes]:
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode())))
    return frames


def blind_players(page, count: int, heard: set[str]) -> list[str]:
    """Wait for `count` new inline players in the listening component; their data URLs."""
    deadline = time.monotonic() + 60
    srcs: list[str] = []
    while time.monotonic() < deadline:
        srcs = page.eval_on_selector_all(".mg-listen audio", "els => els.map(e => e.src)")
        if len(srcs) == count and all(srcs) and not set(srcs) & heard:
            return srcs
        page.wait_for_timeout(200)
    raise AssertionError(f"expected {count} new players, found {len(srcs)}")


def check_blind(page, frames: list[bytes], record: L.TrialRecord, srcs: list[str]) -> None:
    anywhere, words = identifying(record)
    assert_absent("page text", page.inner_text("body"), anywhere, words)
    assert_absent("DOM", without_audio(page.content()), anywhere, words)
    assert_absent("websocket", without_audio(b"\n".join(frames).decode("latin-1")), anywhere, words)
    clips = [base64.b64decode(src.split("base64,", 1)[1]) for src in srcs]
    assert len({len(c) for c in clips}) == 1, "the clips differ in size"
    for clip in clips:
        assert_absent("audio bytes", clip.decode("latin-1"), anywhere, [])


def listen(page) -> None:
    """The answer is disabled until every clip has played for the minimum; play them all (muted) until then."""
    submit = page.get_by_role("button", name="Submit and continue")
    assert submit.is_disabled()
    page.eval_on_selector_all(".mg-listen audio", "els => els.forEach(a => { a.muted = true; a.play(); })")
    page.wait_for_function("() => [...document.querySelectorAll('.mg-listen .heard')]"
                           ".every(e => e.classList.contains('done'))", timeout=30_000)
    page.eval_on_selector_all(".mg-listen audio", "els => els.forEach(a => a.pause())")
    expect(submit).to_be_enabled(timeout=30_000)


def pick(page, group: int, label: str) -> None:
    page.locator("[data-testid='stRadio']").nth(group).locator("label").filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).click()


def test_a_mos_study_with_its_whole_flow(app_server, store, page):
    pid = "browser-mos"
    frames = capture(page)
    link = f"{app_server}/Listening_test?study=web-mos&key={L.study_key(store, 'web-mos')}&pid={pid}"
    page.goto(link)
    page.get_by_role("button", name="I agree, start").click()

    page.get_by_text("Headphone check").wait_for()
    wait_idle(page)
    assert page.locator("[data-testid='stAudio'], audio").count() >= headphones.TRIALS
    for i, right in enumerate(headphones.answer_key(store.side_secret(), "web-mos", pid)):
        pick(page, i, ("first", "second", "third")[right - 1])
    page.get_by_role("button", name="Continue").click()

    page.get_by_text("A few questions about you").wait_for()
    page.get_by_label("Years of musical training").fill("6")
    page.get_by_label("Years of musical training").press("Tab")  # commits the value to the form, not a submit
    page.get_by_role("button", name="Continue").click()

    page.get_by_text("Practice 1 of 1").wait_for()
    heard: set[str] = set()
    heard.update(blind_players(page, 1, heard))
    wait_idle(page)
    listen(page)
    pick(page, 0, "3 · Fair")
    pick(page, 1, "2 · Poor")
    page.get_by_role("button", name="Submit and continue").click()
    page.get_by_text("Trial 1 of 2").wait_for()
    wait_idle(page)
    assert store.vote_count("web-mos") == 0 and len(store.participant("web-mos", pid)["practice"]) == 1

    page.reload()  # a reload mid-study resumes the same participant at the same trial
    page.get_by_text("Trial 1 of 2").wait_for()
    assert not page.get_by_role("button", name="I agree, start").count()
    for number in (1, 2):
        page.get_by_text(f"Trial {number} of 2").wait_for()
        srcs = blind_players(page, 1, heard)
        wait_idle(page)
        record = open_trial(store, "web-mos", pid)
        assert record.number == number
        check_blind(page, frames, record, srcs)
        heard.update(srcs)
        listen(page)
        pick(page, 0, "5 · Excellent")
        pick(page, 1, "1 · Bad")
        page.get_by_role("button", name="Submit and continue").click()
        page.get_by_text(f"Trial {number + 1} of 2" if number < 2 else "Thank you").wait_for()
        wait_idle(page)
        assert store.vote_count("web-mos") == number

    rows = store.ratings("web-mos")
    assert [(r["trial"], r["criterion"], r["value"]) for r in rows] == [
        (1, "musical", 5.0), (1, "coherent", 1.0), (2, "musical", 5.0), (2, "coherent", 1.0)]
    assert all(r["listen_seconds"] >= 1 for r in rows)
    code = flow.participant_code(store, "web-mos", pid)
    page.get_by_text(code).wait_for()
    assert store.participant("web-mos", pid)["questionnaire"] == {"years": 6}


def test_a_mushra_study_rates_numbered_clips_on_sliders(app_server, store, page):
    pid = "browser-mushra"
    frames = capture(page)
    page.goto(f"{app_server}/Listening_test?study=web-mushra&key={L.study_key(store, 'web-mushra')}&pid={pid}")
    page.get_by_role("button", name="I agree, start").click()
    page.get_by_text("Trial 1 of 1").wait_for()
    k = len(_systems())
    srcs = blind_players(page, k, set())
    wait_idle(page)
    assert page.locator(".mg-listen .label").all_inner_texts() == [f"Clip {i + 1}" for i in range(k)]
    record = open_trial(store, "web-mushra", pid)
    check_blind(page, frames, record, srcs)
    listen(page)
    sliders = page.locator("[data-testid='stSlider'] input[type='range']")  # react-aria's hidden input per thumb
    assert sliders.count() == k
    sliders.nth(0).focus()
    sliders.nth(0).press("End")  # 100
    sliders.nth(1).focus()
    sliders.nth(1).press("Home")  # 0; the rest stay at 50
    wait_idle(page)
    page.get_by_role("button", name="Submit and continue").click()
    page.get_by_text("Thank you").wait_for()
    page.get_by_text("C1A2B3").wait_for()
    got = {r["position"]: (r["system"], r["value"]) for r in store.ratings("web-mushra")}
    expected = {i: (system, [100.0, 0.0][i] if i < 2 else 50.0) for i, (system, _, _) in enumerate(record.clips)}
    assert got == expected
