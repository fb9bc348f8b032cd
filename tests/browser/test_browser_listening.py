"""A whole listening study in a real browser: blind until each vote, votes stored once, results behind a password.

At every trial, before voting, everything the browser has received — the DOM, every websocket message
from the server and the bytes of both audio clips — is searched for what would identify a system
(its id, checkpoint title, seed, the real piece's name, the soundfont's name), and the two clips must be
the same number of bytes.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from musicgen import listening as L
from musicgen.card import Card
from musicgen.checkpoints import list_cards
from musicgen.listening.schema import to_record, trials

pytestmark = pytest.mark.browser

STUDY = "web"


def _shipped_systems() -> list[str]:
    """markov, one more shipped model trained on the same corpus (if any), and real pieces."""
    cards = {c.id: c for c in list_cards() if isinstance(c, Card)}
    corpus = cards["markov"].corpus
    others = sorted(cid for cid, c in cards.items() if cid != "markov" and c.corpus == corpus)
    return ["markov", *others[:1], L.REAL]



@pytest.fixture(scope="module")
def app_store(app_data):
    """The server's store, holding a pair study with one trial per pair of systems."""
    store = L.VoteStore(f"sqlite:///{app_data / 'listening.sqlite'}")
    systems = _shipped_systems()
    store.save_study(L.StudySpec.from_dict({
        "id": STUDY, "systems": systems, "trials_per_participant": len(systems) * (len(systems) - 1) // 2,
        "title": "Which do you prefer?", "clip": {"seconds": 3}, "min_listen_seconds": 1,
        "reveal": "own"}))
    yield store
    store.close()


def open_trial(store: L.VoteStore) -> L.TrialRecord:
    """The one unvoted trial of the study (this test is its only participant)."""
    voted = {v.token for v in store.votes(STUDY)}
    with store.engine.connect() as conn:
        rows = [to_record(L.TrialRecord, r) for r in conn.execute(select(trials).where(trials.c.study_id == STUDY))]
    [record] = [r for r in rows if r.token not in voted]
    return record


def identifying(record: L.TrialRecord) -> tuple[list[str], list[str]]:
    """(strings that must not appear anywhere, words that must not appear as whole words)."""
    anywhere = [record.soundfont, Path(record.soundfont).stem]
    words = []
    for system, seed, settings in record.clips:
        if system == L.REAL:
            words.append(system)
            anywhere.append(settings["piece"])
        else:
            anywhere += [system, L.describe_system(system)["title"], settings["weights_sha256"][:16]]
            words.append(str(seed))
    return anywhere, words


def assert_absent(where: str, text: str, anywhere: list[str], words: list[str]) -> None:
    for s in anywhere:
        assert s not in text, f"{s!r} reached the browser before the vote ({where})"
    for w in words:
        assert not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.IGNORECASE), \
            f"{w!r} reached the browser before the vote ({where})"


def without_audio(text: str) -> str:
    """`text` less the inline audio (base64 in data URLs): its digits and letters are not names, and short words
    such as a real piece's index would turn up in 100 KB of base64 by chance. The bytes are checked decoded."""
    return re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", text)


def wait_idle(page) -> None:
    """Until the script run that the last action started has finished (no "Running…" indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def audio_sources(page, count: int, old: set[str]) -> list[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        srcs = page.eval_on_selector_all("audio", "els => els.map(e => e.src)")
        if len(srcs) == count and all(srcs) and not set(srcs) & old:
            return srcs
        page.wait_for_timeout(200)
    raise AssertionError(f"expected {count} new audio players, found {srcs}")


def test_a_participant_completes_a_blind_study_and_results_count_it(app_server, app_store, page, results_password):
    spec = app_store.get_study(STUDY)
    systems, n_trials = spec.systems, spec.trials_per_participant
    frames: list[bytes] = []  # every websocket message the server sent to this browser
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode())))
    page.goto(f"{app_server}/Listening_test?study={STUDY}&key={L.study_key(app_store, STUDY)}")
    page.get_by_role("button", name="I agree, start").click()
    page.get_by_text(f"Trial 1 of {n_trials}").wait_for()
    for chrome in ("stSidebar", "stSidebarNav", "stToolbar", "stHeader"):  # nowhere to go from the page
        assert not page.locator(f"[data-testid='{chrome}']:visible").count(), f"{chrome} shows to a participant"
    assert "Deploy" not in page.inner_text("body")

    heard: set[str] = set()
    for number in range(1, n_trials + 1):
        page.get_by_text(f"Trial {number} of {n_trials}").wait_for()
        srcs = audio_sources(page, 2, heard)
        wait_idle(page)
        record = open_trial(app_store)
        assert record.number == number
        anywhere, words = identifying(record)
        assert_absent("page text", page.inner_text("body"), anywhere, words)
        assert_absent("DOM", without_audio(page.content()), anywhere, words)
        received = b"\n".join(frames).decode("latin-1")
        assert f"Trial {number} of {n_trials}" in received  # the capture sees what the server sends
        assert_absent("websocket", without_audio(received), anywhere, words)
        clips = [base64.b64decode(src.split("base64,", 1)[1]) for src in srcs]  # the audio is inline: no URL
        assert all(src.startswith("data:audio/mpeg;base64,") for src in srcs)
        assert len(clips[0]) == len(clips[1]) > 1000, "the two clips differ in size"
        for clip in clips:
            assert_absent("audio bytes", clip.decode("latin-1"), anywhere, [])
            assert not clip.startswith(b"ID3")
        heard.update(srcs)

        submit = page.get_by_role("button", name="Submit and continue")
        assert submit.is_disabled()  # the answer opens only once each clip has played long enough
        page.get_by_text("then you can answer").wait_for()
        page.eval_on_selector_all("audio", "els => els.forEach(a => { a.muted = true; a.play(); })")
        page.wait_for_function("() => [...document.querySelectorAll('.mg-listen .heard')]"
                               ".every(e => e.classList.contains('done'))", timeout=30_000)
        page.eval_on_selector_all("audio", "els => els.forEach(a => a.pause())")
        expect(submit).to_be_enabled(timeout=30_000)  # the players told the page: each clip heard ≥ 1 s

        page.locator("[data-testid='stRadio'] label").filter(has_text=re.compile(r"^\s*A\s*$")).click()
        page.get_by_label("Comment (optional)").fill(f"browser comment {number}")
        if number == 1:
            submit.dblclick()  # an impatient double click must not vote twice
        else:
            submit.click()
        page.get_by_text(f"Trial {number + 1} of {n_trials}" if number < n_trials else "Thank you").wait_for()
        wait_idle(page)
        assert app_store.vote_count(STUDY) == number

    titles = [L.describe_system(s)["title"] for s in systems]
    page.wait_for_timeout(0)  # let pending websocket events reach `frames`
    deadline = time.monotonic() + 30
    while not all(t in b"\n".join(frames).decode("latin-1") for t in titles):  # now, and only now, the reveal
        assert time.monotonic() < deadline, f"the reveal never named {titles}"
        page.wait_for_timeout(200)
    votes = app_store.votes(STUDY)
    assert [v.number for v in votes] == list(range(1, n_trials + 1)) and len({v.token for v in votes}) == n_trials
    assert [v.comment for v in votes] == [f"browser comment {n}" for n in range(1, n_trials + 1)]
    assert all(len(v.listen_seconds) == 2 and min(v.listen_seconds) >= 1 for v in votes)  # measured, stored
    assert {tuple(sorted((v.system_a, v.system_b))) for v in votes} == set(spec.pairs)  # every pair once

    # Results: closed without the password, open with it, and the counts match the store
    page.goto(f"{app_server}/Results?study={STUDY}")  # other tests' studies share this store
    page.get_by_label("Password", exact=True).fill(results_password)
    page.get_by_role("button", name="Open the results").click()
    page.get_by_text("Participant link:").wait_for()
    # the statistics render after the link (first use imports scipy and bootstraps): wait for them
    page.locator("[data-testid='stMetricLabel']", has_text="Votes").first.wait_for()
    wait_idle(page)
    metrics = dict(zip(page.locator("[data-testid='stMetricLabel']").all_inner_texts(),
                       page.locator("[data-testid='stMetricValue']").all_inner_texts()))
    assert metrics["Votes"].strip() == str(n_trials) and metrics["Participants"].strip() == "1"
    assert page.get_by_text(f"/Listening_test?study={STUDY}&key={L.study_key(app_store, STUDY)}").count() >= 1


def test_results_refuse_a_wrong_password(app_server, page):
    page.goto(f"{app_server}/Results")
    page.get_by_label("Password", exact=True).fill("not it")
    page.get_by_role("button", name="Open the results").click()
    page.get_by_text("That is not the password").wait_for()
    assert page.locator("[data-testid='stMetricValue']").count() == 0
