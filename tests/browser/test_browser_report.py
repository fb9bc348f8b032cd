"""Results in a real browser: a study's exclusions, the numbers with and without them, and the report download
(made by the button's callable on the server, so only a real session exercises it)."""

from __future__ import annotations

import pytest

from musicgen import listening as L
from tests.listening.test_listening_report import pair_study

pytestmark = pytest.mark.browser

STUDY = "web-report"


@pytest.fixture(scope="module")
def store(app_data):
    """The server's store, with a pair study whose votes are written straight in: three participants, one of whom
    fails a catch trial (no clips are rendered)."""
    s = L.VoteStore(f"sqlite:///{app_data / 'listening.sqlite'}")
    pair_study(s, STUDY)
    yield s
    s.close()


def _metrics(page) -> dict[str, str]:
    return dict(zip(page.locator("[data-testid='stMetricLabel']").all_inner_texts(),
                    [v.strip() for v in page.locator("[data-testid='stMetricValue']").all_inner_texts()]))


def test_results_show_exclusions_and_the_report_downloads(app_server, store, page, results_password, tmp_path):
    from tests.browser.conftest import idle

    page.goto(f"{app_server}/Results?study={STUDY}")
    page.get_by_label("Password", exact=True).fill(results_password)
    page.get_by_role("button", name="Open the results").click()
    page.locator("[data-testid='stMetricLabel']", has_text="Votes").first.wait_for()
    idle(page)
    assert _metrics(page)["Participants"] == "2"  # the study's rule leaves `careless` out
    toggle = page.get_by_text("Leave out the 1 excluded participants")
    toggle.wait_for()
    toggle.click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
                           ".some(e => e.innerText.trim() === '3')")
    idle(page)
    assert _metrics(page)["Participants"] == "3" and _metrics(page)["Votes"] == "12"
    page.get_by_text("failed 1 of 1 catch trials").first.wait_for(state="attached")

    button = page.get_by_role("button", name="Download the report (HTML)")
    with page.expect_download(timeout=120_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"{STUDY}-report.html"
    path = tmp_path / "report.html"
    download.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Results without the excluded participants" in html
    assert "3 participants gave 14 answers" in html and "failed 1 of 1 catch trials" in html

    report = page.context.new_page()  # the file works offline: its figures draw with no server at all
    report.goto(path.as_uri())
    report.locator(".plotly-graph-div .main-svg").first.wait_for(timeout=30_000)
    assert report.locator(".plotly-graph-div").count() == 8
