"""`bench --listening` against a real server in miniature: 2 participants x 2 trials speaking Streamlit's websocket
protocol to the participant-only app on toy checkpoints. Marked `browser`: like the browser tests it starts a real
Streamlit server (no Chromium needed); run with `-m browser`. About 30-50 s."""

import json
from argparse import Namespace

import pytest

from musicgen import bench
from musicgen.bench import server_load

pytest.importorskip("fluidsynth")
pytestmark = pytest.mark.browser


@pytest.fixture
def toy_env(toy_checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy_checkpoints["markov"].parent))  # the server inherits these
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CLIP_BANK", "2")
    monkeypatch.delenv("MUSICGEN_DB_URL", raising=False)


def test_two_participants_against_a_server_store_every_vote_once(toy_env):
    r = server_load.run(2, trials=2, think_s=(0.2, 0.4), systems=("toy-markov", "toy-lstm"), clip_seconds=3,
                        timeout_s=60)
    assert r["errors"] == []
    # read from the vote rows: one per participant and trial (the last one double-clicked), as sent
    assert r["votes_stored"] == r["votes_expected"] == 4 and r["lost_or_doubled"] == 0
    assert r["answers_mismatched"] == 0
    assert r["waits"] == 2 and 0 < r["wait_p50_s"] <= r["wait_p95_s"] <= r["wait_max_s"]
    assert r["first_trial_p50_s"] > 0 and r["finish_max_s"] > 0
    assert set(r["wait_p50_by_system_s"]) <= {"toy-markov", "toy-lstm"} and r["wait_p50_by_system_s"]
    assert r["server_cpu_s"] is not None and r["server_cpu_s"] > 0 and r["mb_received"] > 0
    text = server_load.format_result(r)
    assert "submit -> next trial playable" in text and "4 of 4" in text


def test_a_page_that_is_not_a_trial_is_not_playable():
    assert server_load.trial_shown(server_load.sc.Page()) is None


def test_the_cli_flags_reach_the_in_process_mode(toy_env, tmp_path, monkeypatch):
    from musicgen.bench import listening_load

    real_run, seen = listening_load.run, {}

    def small_run(n, **kw):
        seen.update(kw)
        return real_run(n, **{**kw, "systems": ("toy-markov", "toy-lstm"), "clip_seconds": 3})

    monkeypatch.setattr(listening_load, "run", small_run)
    args = Namespace(listening=2, trials=1, think="0.05-0.1", in_process=True, json=str(tmp_path / "l.json"),
                     db=None, url=None, app="study", server_pid=None)
    assert bench.run_cli(args) == 0
    assert seen["trials"] == 1 and seen["think_s"] == (0.05, 0.1)
    assert json.loads((tmp_path / "l.json").read_text())["votes_stored"] == 2


def test_the_crowd_runs_in_its_own_loop_even_inside_a_running_one():
    """A test process that drove Playwright's sync API has an event loop running in its main thread (the suite
    failed so when this file ran after a browser test in the same worker); the bench must not care."""
    import asyncio
    import concurrent.futures

    async def crowd():
        return "done"

    async def caller():
        return server_load._run_in_own_loop(crowd())

    def inside_a_running_loop():
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(caller())
        finally:
            loop.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a thread of its own: this one may run a loop already
        assert pool.submit(inside_a_running_loop).result() == "done"
    assert server_load._run_in_own_loop(crowd()) == "done"  # and here, whatever runs in this thread


def test_the_protocol_classes_come_without_importing_streamlit_and_write_its_bytes():
    import subprocess
    import sys

    code = ("import sys; from musicgen.bench import st_client; "
            "print(sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out  # the last line: the report, whatever an import printed
    from streamlit.proto.BackMsg_pb2 import BackMsg

    from musicgen.bench import st_client, st_protocol

    ours, theirs = st_protocol.BackMsg(), BackMsg()
    for msg in (ours, theirs):
        msg.rerun_script.query_string, msg.rerun_script.page_name = "study=s&key=k", "Listening_test"
    ours.rerun_script.widget_states.widgets.append(st_client.click(type("B", (), {"id": "w1"})()))
    theirs.rerun_script.widget_states.widgets.add(id="w1", trigger_value=True)
    assert ours.SerializeToString() == theirs.SerializeToString()
