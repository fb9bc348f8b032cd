"""Background training jobs (`musicgen.jobs`): a real runner process, a queue, cancel, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from musicgen import jobs
from musicgen.checkpoints import list_checkpoint_ids, read_card, user_checkpoints_dir
from musicgen.cli import main
from musicgen.corpora import toy_corpus
from musicgen.midi import save_midi

TIMEOUT = 180
TINY = {"window": "32", "batch_size": "4", "embed_dim": "8", "hidden": "16", "dense": "16", "log_every": "2",
        "eval_every": "20"}


def make_music(folder: Path, n: int = 20) -> Path:
    """n small MIDI files (scales and arpeggios): enough for a split with two test pieces (evaluation)."""
    folder.mkdir(parents=True, exist_ok=True)
    for piece in toy_corpus(n, 64).pieces:
        save_midi(piece, folder / f"{piece.name}.mid")
    return folder


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A fresh data folder and cache (inherited by the runner); afterwards no runner is left working."""
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    yield tmp_path
    for job in jobs.list_jobs():
        if job.active:
            jobs.cancel(job.id)
    deadline = time.monotonic() + 60
    while jobs.runner_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in {j.runner_pid for j in jobs.list_jobs() if j.runner_pid}:  # runners this test started, if stuck
        if jobs.runner_alive():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def music(data) -> str:
    return f"folder:{make_music(data / 'music')}"


def wait_for(job_id: str, predicate, timeout: float = TIMEOUT) -> jobs.Job:
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.read(job_id)
        if predicate(job):
            return job
        if time.monotonic() > deadline:
            log = jobs.jobs_dir() / "runner.log"
            pytest.fail(f"job {job_id} still {job.status} ({job.phase}) after {timeout} s; runner log:\n"
                        f"{log.read_text()[-3000:] if log.exists() else '(none)'}")
        time.sleep(0.2)


def finished(job: jobs.Job) -> bool:
    return not job.active


def test_jobs_run_one_at_a_time_in_order_and_leave_evaluated_checkpoints(music):
    first = jobs.submit(jobs.JobSpec(preset="B-lstm", corpus=music, settings=TINY, name="first", max_steps=40))
    second = jobs.submit(jobs.JobSpec(preset="markov", corpus=music, name="second"))
    assert jobs.read(second.id).status == jobs.QUEUED  # the first is ahead of it

    first, second = wait_for(first.id, finished), wait_for(second.id, finished)
    assert (first.status, second.status) == (jobs.DONE, jobs.DONE), (first, second)
    assert second.started >= first.finished  # queued behind, not beside
    assert first.runner_pid == second.runner_pid  # one runner took both
    assert first.step == 40 and first.fraction == 1.0
    records = jobs.progress(first.id)
    assert [r["step"] for r in records][:3] == [2, 4, 6] and any("valid_loss" in r for r in records)
    for job in (first, second):
        card = read_card(user_checkpoints_dir() / job.checkpoint_id)
        assert card.user_trained and card.evaluation and card.evaluation["n_samples"] == jobs.EVAL_SAMPLES
        assert job.checkpoint_id in list_checkpoint_ids()  # so Generate and Compare list it
    assert not jobs.runner_alive()  # the runner exits when the queue is empty


def test_cancel_stops_a_running_job_without_a_checkpoint_and_a_queued_one_never_starts(music):
    long = jobs.submit(jobs.JobSpec(preset="B-lstm", corpus=music, settings={**TINY, "eval_every": "1000000"},
                                    name="long", max_steps=10**7))
    behind = jobs.submit(jobs.JobSpec(preset="markov", corpus=music, name="behind"))
    running = wait_for(long.id, lambda j: j.status == jobs.RUNNING and j.step > 0)
    assert running.eta_seconds is not None and running.eta_seconds > 0

    assert jobs.cancel(behind.id).status == jobs.CANCELLED
    assert jobs.cancel(long.id).cancel_requested
    long = wait_for(long.id, finished, timeout=60)
    assert long.status == jobs.CANCELLED
    assert wait_for(behind.id, lambda j: not jobs.runner_alive()).started is None  # never ran
    users = user_checkpoints_dir()
    assert not users.exists() or not any(users.iterdir())  # no checkpoint, no half-written folder
    with pytest.raises(jobs.JobError, match="already cancelled"):
        jobs.cancel(long.id)


def test_a_crashing_job_fails_with_a_one_line_reason(data):
    job = jobs.submit(jobs.JobSpec(preset="markov", corpus=f"folder:{data / 'no-such-folder'}", name="broken"))
    job = wait_for(job.id, finished)
    assert job.status == jobs.FAILED
    assert "does not exist" in job.error and "\n" not in job.error
    assert not (user_checkpoints_dir() / "broken").exists()


def test_a_job_whose_runner_died_shows_as_failed(data):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = jobs.jobs_dir() / "20000101-000000-x-0000"
    folder.mkdir(parents=True)
    job = jobs.Job(id=folder.name, spec=jobs.JobSpec(preset="markov"), checkpoint_id="x", status=jobs.RUNNING,
                   created=1.0, started=2.0, runner_pid=dead.pid)
    (folder / jobs.JOB).write_text(json.dumps(job.to_dict()))
    [seen] = jobs.list_jobs()
    assert seen.status == jobs.FAILED and "stopped unexpectedly" in seen.error
    assert jobs.read(job.id).status == jobs.FAILED
    assert jobs.run_queue() == 0  # a new runner records it as failed for good
    assert json.loads((folder / jobs.JOB).read_text())["status"] == jobs.FAILED


@pytest.mark.parametrize("spec, message", [
    (jobs.JobSpec(preset="B-lstm", settings={"hiden": "3"}), "unknown setting 'hiden'.*model settings: .*hidden"),
    (jobs.JobSpec(preset="nope"), "unknown preset"),
    (jobs.JobSpec(preset="markov", name="A-lstm"), "shipped checkpoint"),
    (jobs.JobSpec(preset="markov", corpus="/x/y"), "folder:PATH"),
    (jobs.JobSpec(preset="markov", max_minutes=0), "more than 0"),
])
def test_bad_requests_are_refused_before_queueing(data, spec, message):
    with pytest.raises(jobs.JobError, match=message) as e:
        jobs.submit(spec)
    assert "\n" not in str(e.value)
    assert jobs.list_jobs() == []


def test_settings_lines():
    assert jobs.parse_settings("hidden=64\n\n  lr = 0.003  # faster\n# a comment\n") == {"hidden": "64", "lr": "0.003"}
    with pytest.raises(jobs.JobError, match="line 2: write key=value"):
        jobs.parse_settings("hidden=64\nlr")


def test_cli_lists_and_cancels(data, capsys):
    assert main(["jobs", "list"]) == 0 and "no training jobs" in capsys.readouterr().out
    assert main(["jobs", "cancel", "nope"]) == 2
    assert "no job 'nope'" in capsys.readouterr().err


def test_an_uploaded_zip_is_kept_under_the_data_folder_and_unpacked(data):
    import io
    import zipfile

    music = make_music(data / "zipped", n=3)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for f in music.iterdir():
            z.write(f, f"inner/{f.name}")
    corpus = jobs.corpus_from_upload("My Songs.zip", buffer.getvalue())
    folder = Path(corpus.removeprefix("folder:"))
    assert folder.is_relative_to(data / "data") and sorted(p.name for p in folder.rglob("*.mid")) == \
        sorted(p.name for p in music.iterdir())
    assert (data / "data" / "uploads" / "My-Songs.zip").is_file()
    with pytest.raises(jobs.CorpusError, match="not a readable zip"):
        jobs.corpus_from_upload("bad.zip", b"PK nope")
