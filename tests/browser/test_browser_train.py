"""The Train page in a real browser: start a run, reload mid-run (it keeps going), then find the model on Generate.

The run happens in the server's background runner (`musicgen.jobs`), trained on a folder of small MIDI
files on the server, with a tiny model and a 30-second budget."""

from __future__ import annotations

import re

import pytest

from musicgen.corpora import toy_corpus
from musicgen.midi import save_midi

pytestmark = pytest.mark.browser

NAME = "browser-run"
SETTINGS = "window=32\nbatch_size=4\nembed_dim=8\nhidden=16\ndense=16\nlog_every=5\neval_every=50\nmax_steps=1000000"


def idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def test_a_run_survives_a_reload_and_its_model_reaches_generate(page, app_server, tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    for piece in toy_corpus(20, 64).pieces:
        save_midi(piece, folder / f"{piece.name}.mid")

    page.goto(f"{app_server}/Train")
    page.get_by_text("A folder on this server").click()
    page.get_by_label("Folder on the server", exact=True).fill(str(folder))
    page.get_by_label("Folder on the server", exact=True).press("Enter")
    idle(page)
    page.get_by_label("Settings to change (optional)", exact=True).fill(SETTINGS)
    page.get_by_label("Name (optional)", exact=True).fill(NAME)
    page.get_by_label("Name (optional)", exact=True).press("Enter")
    page.get_by_label("Time budget (minutes)", exact=True).fill("0.5")
    page.get_by_label("Time budget (minutes)", exact=True).press("Enter")
    idle(page)
    page.get_by_role("button", name="Start").click()
    page.get_by_text(re.compile(f"{NAME} is queued")).wait_for()

    running = page.get_by_text(re.compile(r"Training: step \d+"))
    running.wait_for(timeout=90_000)
    page.reload()  # a new session: the run goes on in the background and the page finds it again
    running.wait_for(timeout=30_000)
    assert page.get_by_text(NAME, exact=False).count() >= 1
    first = int(re.search(r"step (\d+)", running.inner_text()).group(1))
    for _ in range(40):  # it is live, not a stale page: the step moves on (a loaded machine may pause a while)
        page.wait_for_timeout(500)
        if running.count() == 0 or int(re.search(r"step (\d+)", running.inner_text()).group(1)) > first:
            break
    else:
        pytest.fail(f"the page still shows step {first} after 20 s")

    page.get_by_text(re.compile(f"Finished in .*{NAME}")).wait_for(timeout=120_000)  # trained, then evaluated

    page.goto(f"{app_server}/Generate")
    page.get_by_text("Model", exact=True).wait_for()
    idle(page)
    page.locator("[data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name=re.compile(NAME)).wait_for()
