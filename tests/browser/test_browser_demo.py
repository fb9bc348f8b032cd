"""Two demo features in a real browser (issue 17): the kiosk screen (no navigation, one big button that
plays a piece and names its model) and Generate's Score tab (Verovio's engraving and a MusicXML download)."""

from __future__ import annotations

import pytest

from musicgen.ui.kiosk import BUTTON

pytestmark = pytest.mark.browser


def idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def test_the_kiosk_plays_a_piece_with_no_way_out(browser, app_server):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{app_server}/?kiosk=1")
    play = page.get_by_role("button", name=BUTTON)
    play.wait_for()
    idle(page)
    for hidden in ("stSidebar", "stSidebarNav", "stToolbar", "stHeader"):  # nothing to wander off through
        assert not page.locator(f"[data-testid='{hidden}']:visible").count(), f"{hidden} is visible in the kiosk"
    assert page.locator("[data-testid='stPageLink']").count() == 0
    box = play.bounding_box()
    assert box["height"] >= 70 and box["y"] + box["height"] <= 1080  # big, and on the first screen
    play.click()
    page.get_by_text("This piece was written by").wait_for()
    idle(page)
    assert page.locator("audio").count() == 1 and page.locator("audio").get_attribute("src")
    page.locator(".js-plotly-plot").first.wait_for()  # its piano roll (plotly draws after the page settles)
    assert page.locator(".js-plotly-plot").count() == 1
    context.close()


def test_the_score_tab_engraves_the_clip(page, app_server):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{app_server}/Generate")
    generate = page.get_by_role("button", name="Generate", exact=True)
    generate.wait_for()
    idle(page)
    generate.click()
    page.get_by_role("tab", name="Score").wait_for()
    idle(page)
    page.get_by_role("tab", name="Score").click()
    download = page.get_by_role("button", name="Download MusicXML")
    download.wait_for()
    engraved = page.locator("[data-testid='stMain'] [data-testid='stImage'] img")  # Verovio's SVG pages
    engraved.first.wait_for()
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                           ".some(i => i.complete && i.naturalWidth > 300)")
    with page.expect_download() as info:
        download.click()
    path = info.value.path()
    assert "score-partwise" in open(path, encoding="utf-8").read(4000)  # a MusicXML document


def test_a_first_visit_to_a_page_url_gets_the_apps_navigation(browser, tmp_path):
    # A fresh `streamlit run` ran its first visitor's page in Streamlit's old pages/-folder mode: a presenter
    # opening /Live_vote first saw a sidebar with the home page called "app". musicgen.ui.launch prevents it.
    from tests.browser.conftest import serve

    with serve(tmp_path) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/Live_vote")
        page.get_by_text("Live audience vote").first.wait_for(timeout=90_000)
        idle(page)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text().split("\n")
        page.close()
    assert "Home" in nav and "app" not in nav and "Live vote" in nav
