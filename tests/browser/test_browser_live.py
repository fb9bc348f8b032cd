"""A live audience vote in real browsers (issue 17): a presenter runs a round, 20 phones (separate browser
contexts, phone-sized) join by the code's link and vote at once; every vote is stored once, the big
screen's chart shows the database's counts, and no phone names a system before the reveal."""

from __future__ import annotations

import re
import time

import pytest

from musicgen import listening as L
from musicgen.listening import live

PHONES = 20
STUDY = "live-room"
ANSWER_BUTTONS = {"A": "A", "B": "B", "none": "No preference"}


@pytest.fixture(scope="module")
def live_store(app_data):
    store = L.VoteStore(f"sqlite:///{app_data / 'listening.sqlite'}")
    store.save_study(L.StudySpec.from_dict({"id": STUDY, "kind": "pair", "title": "Which do you like more?",
                                            "systems": ["markov", "real"], "clip": {"seconds": 3}}))
    yield store
    store.close()


def idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def test_twenty_phones_vote_at_once_and_the_big_screen_counts_each_once(browser, app_server, live_store,
                                                                        results_password):
    presenter = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    presenter.set_default_timeout(60_000)
    presenter.goto(f"{app_server}/Live_vote")
    presenter.get_by_label("Password", exact=True).fill(results_password)
    presenter.get_by_role("button", name="Open the results").click()
    presenter.get_by_role("button", name="Start round 1").click()
    presenter.get_by_text("Listening: voting opens").wait_for()
    qr = presenter.locator("[data-testid='stImage'] img").first  # the QR code, drawn and big enough to scan
    qr.wait_for()
    assert qr.evaluate("i => i.complete && i.naturalWidth >= 200")
    code = live.join_code(live_store, STUDY)
    assert presenter.get_by_text(f"/?live={code}").count() >= 1
    presenter.get_by_label("Countdown (seconds)").fill("120")
    presenter.get_by_label("Countdown (seconds)").press("Tab")
    idle(presenter)
    presenter.get_by_role("button", name="Open voting").click()
    presenter.get_by_text("Voting:", exact=False).wait_for()

    played = live_store.get_trial(live_store.get_round(STUDY).token)
    secrets_ = [L.describe_system(s)["title"] for s in (played.system_a, played.system_b)] + ["markov"]
    contexts = [browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
                for _ in range(PHONES)]
    phones = [c.new_page() for c in contexts]
    for phone in phones:
        phone.set_default_timeout(90_000)
        phone.goto(f"{app_server}/?live={code}", wait_until="commit")
    chosen = [("A", "B", "none")[i % 3] if i % 4 else "A" for i in range(PHONES)]
    for phone in phones:
        phone.get_by_role("button", name="No preference").wait_for()
        body = phone.inner_text("body")
        assert not any(s in body for s in secrets_), "a phone named a system before the reveal"
        assert not re.search(r"\breal\b", phone.content(), re.IGNORECASE)
    start = time.monotonic()
    for phone, answer in zip(phones, chosen):  # every tap sent before any is confirmed: the server takes them together
        phone.get_by_role("button", name=ANSWER_BUTTONS[answer], exact=True).click(no_wait_after=True)
    for phone, answer in zip(phones, chosen):
        phone.get_by_text(f"Your vote is in: {ANSWER_BUTTONS[answer]}").wait_for()
    print(f"\n[live] {PHONES} phones' votes confirmed {time.monotonic() - start:.1f} s after the first tap")

    expected = {a: chosen.count(a) for a in ("A", "B", "none")}
    assert live_store.vote_count(STUDY) == PHONES
    assert live.round_state(live_store, STUDY).counts == expected
    tally = f"A: {expected['A']} · B: {expected['B']} · No preference: {expected['none']} ({PHONES} votes)"
    presenter.get_by_text(tally).wait_for()  # the fragment polls the database every second
    bars = presenter.wait_for_function(
        f"() => {{ const p = document.querySelector('.js-plotly-plot');"
        f" return p && p.data && p.data[0].y.reduce((a, b) => a + b, 0) === {PHONES} && p.data[0].y; }}").json_value()
    assert bars == [expected["A"], expected["B"], expected["none"]]

    phones[0].reload()  # a reload keeps the phone's identity (its id is in the link): still one vote
    phones[0].get_by_text(f"Your vote is in: {ANSWER_BUTTONS[chosen[0]]}").wait_for()
    presenter.get_by_role("button", name="Reveal").click()
    titles = secrets_[:2]
    presenter.get_by_text(f"A was {titles[0]}; B was {titles[1]}.").wait_for()
    phones[1].get_by_text(f"A was {titles[0]}; B was {titles[1]}.").wait_for()
    assert live_store.vote_count(STUDY) == PHONES
    for context in contexts:
        context.close()
    presenter.context.close()
