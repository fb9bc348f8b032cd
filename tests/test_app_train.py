"""The Train page, driven headless with AppTest: the form queues a job, bad settings are one line, Cancel works.

No runner is started here (`jobs._spawn_runner` is replaced): the page only writes requests and reads job
files; the runner itself is tested in test_jobs.py and, with the page, in the browser test."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen import jobs

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "pages" / "9_Train.py")
TIMEOUT = 60


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    spawned = []
    monkeypatch.setattr(jobs, "_spawn_runner", lambda: spawned.append(1))
    at = AppTest.from_file(TRAIN, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.spawned = spawned
    return at


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_the_form_queues_a_job_and_the_queue_shows_it(page, tmp_path):
    folder = tmp_path / "my music"
    folder.mkdir()
    assert "No training runs yet" in _texts(page.info)
    assert "toy" not in page.selectbox(key="train_corpus").options  # built-in collections, not the test one
    page.selectbox(key="train_preset").set_value("B-lstm")
    page.radio(key="train_source").set_value("folder").run()
    page.text_input(key="train_folder").input(str(folder))
    page.text_area(key="train_settings").input("hidden=32\nlr=0.003")
    page.number_input(key="train_minutes").set_value(2.0)
    page.button(key="train_start").click().run()
    assert not page.exception and not page.error, _texts(page.error)
    assert "B-lstm-my-music" in _texts(page.success) and page.spawned == [1]
    [job] = jobs.list_jobs()
    assert job.checkpoint_id == "B-lstm-my-music" and job.status == jobs.QUEUED
    assert job.spec.settings == {"hidden": "32", "lr": "0.003"} and job.spec.corpus == f"folder:{folder}"
    assert job.max_seconds == 120
    assert "B-lstm-my-music" in _texts(page.markdown) and "Waiting in the queue (number 1)" in _texts(page.caption)

    page.button(key=f"train_cancel_{job.id}").click().run()
    assert jobs.read(job.id).status == jobs.CANCELLED
    assert "Cancelled: nothing was saved" in _texts(page.caption)


def test_a_bad_setting_shows_the_one_line_error(page):
    page.selectbox(key="train_preset").set_value("B-lstm").run()
    page.text_area(key="train_settings").input("hiden=3")
    page.button(key="train_start").click().run()
    [error] = page.error
    assert "unknown setting 'hiden'" in error.value and "hidden" in error.value and "\n" not in error.value
    assert jobs.list_jobs() == [] and page.spawned == []


def test_a_folder_that_is_not_there_is_refused(page, tmp_path):
    page.radio(key="train_source").set_value("folder").run()
    page.text_input(key="train_folder").input(str(tmp_path / "nothing"))
    page.button(key="train_start").click().run()
    assert "is not a folder on this server" in _texts(page.error) and jobs.list_jobs() == []
