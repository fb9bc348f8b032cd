"""Two app replicas behind nginx on one PostgreSQL (`scripts/serve.sh`, issue 16): participants spread over
both; one replica is killed mid-study; its participants reload onto the other and resume where they were
(their id is in their link, their trials in the database); every vote is stored exactly once."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from musicgen import listening as L
from tests.browser.conftest import ROOT, _free_port, _unavailable, idle, wait_healthy

pytestmark = pytest.mark.browser
STUDY, TRIALS, PARTICIPANTS = "crowd", 3, 4


@pytest.fixture
def replicas(pg_url, tmp_path, playwright_api):
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        _unavailable("nginx is missing (install Debian `nginx-light`)")
    port = _free_port()
    env = {**os.environ, "MUSICGEN_DATA": str(tmp_path), "MUSICGEN_CLIP_BANK": "0", "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(["bash", "scripts/serve.sh", "--replicas", "2", "--port", str(port), "--db", pg_url],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, 180, tmp_path / "serve.log")
        yield base, tmp_path / "serve"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def vote(page, number: int) -> None:
    page.get_by_text(f"Trial {number} of {TRIALS}").wait_for()
    idle(page, timeout=90_000)
    page.locator("[data-testid='stRadio'] label").filter(has_text=re.compile(r"^\s*A\s*$")).click()
    page.get_by_role("button", name="Submit and continue").click()
    try:
        page.get_by_text(f"Trial {number + 1} of {TRIALS}" if number < TRIALS else "Thank you").wait_for()
    except Exception:
        raise AssertionError(f"trial {number} did not advance: {page.inner_text('body')[-1500:]}") from None


def test_a_killed_replica_loses_no_participant_and_no_vote(browser, replicas, pg_url):
    base, run = replicas
    store = L.VoteStore(pg_url)
    store.save_study(L.StudySpec.from_dict({"id": STUDY, "systems": ["markov", "real"], "clip": {"seconds": 3},
                                            "trials_per_participant": TRIALS, "min_listen_seconds": 0}))
    contexts = [browser.new_context() for _ in range(PARTICIPANTS)]
    pages, served_by = [], []
    for context in contexts:
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{base}/Listening_test?study={STUDY}&key={L.study_key(store, STUDY)}")
        page.get_by_role("button", name="I agree, start").click()
        vote(page, 1)
        # the context's own requests carry its replica cookie, so nginx names the replica its session is on
        served_by.append(context.request.get(f"{base}/_stcore/health").headers["x-musicgen-replica"])
        pages.append(page)
    counts = Counter(served_by)
    victim = counts.most_common(1)[0][0]  # the replica with most participants (both, when they spread)
    number = int(victim.rsplit(":", 1)[1]) - int(base.rsplit(":", 1)[1])
    os.kill(int((run / f"replica-{number}.pid").read_text()), signal.SIGKILL)
    print(f"\n[replicas] participants per replica {dict(counts)}; killed {victim}")

    for page, where in zip(pages, served_by):
        if where == victim:
            page.reload()  # what a participant does when the page stops answering
        vote(page, 2)
        vote(page, 3)
    for context in contexts:
        context.close()

    votes = store.votes(STUDY)
    by_participant = Counter(v.participant_id for v in votes)
    assert len(by_participant) == PARTICIPANTS and set(by_participant.values()) == {TRIALS}, by_participant
    assert sorted(v.number for v in votes) == sorted(list(range(1, TRIALS + 1)) * PARTICIPANTS)
    assert len({v.token for v in votes}) == len(votes) == PARTICIPANTS * TRIALS
    store.close()
