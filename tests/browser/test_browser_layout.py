"""Layout in a real browser at a laptop (1400×900) and a phone (390×844) size: the home page leads with where to
go, its links and the Generate page's buttons show their whole label, and the sidebar calls the home page "Home"."""

from __future__ import annotations

import pytest

from tests.browser.conftest import idle

pytestmark = pytest.mark.browser

# a visible element whose text is wider or taller than its box (a label cut to "N." or "Generate a pi…")
CUT_OFF = """els => els.filter(e => e.offsetParent !== null)
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
    .map(e => e.innerText)"""


def test_home_leads_with_where_to_go(sized_page, app_server):
    page = sized_page
    height = page.viewport_size["height"]
    page.goto(app_server)
    page.get_by_text("The models", exact=True).wait_for()
    idle(page)
    heading = page.get_by_text("Where to go next", exact=True).bounding_box()
    assert heading["y"] < height / 2  # on the first screen, not thousands of pixels down
    links = page.locator("[data-testid='stPageLink'] a:visible")
    assert links.count() >= 7
    first = links.first.bounding_box()
    assert first["y"] + first["height"] < height and first["x"] >= 0
    assert page.locator("[data-testid='stPageLink'] a:visible p").evaluate_all(CUT_OFF) == []
    for link in links.all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    if page.viewport_size["width"] > 800:  # the phone hides the sidebar behind a button
        nav = page.locator("[data-testid='stSidebarNav']").inner_text().split("\n")
        assert "Home" in nav and "app" not in nav


def test_generate_buttons_show_their_whole_label(sized_page, app_server):
    page = sized_page
    page.goto(f"{app_server}/Generate")
    page.get_by_text("Model", exact=True).wait_for()
    idle(page)
    buttons = page.locator("[data-testid='stMain'] button:visible")
    assert buttons.count() >= 2
    assert buttons.evaluate_all(CUT_OFF) == []
    assert page.locator("[data-testid='stMain'] button:visible p").evaluate_all(CUT_OFF) == []
    if page.viewport_size["width"] > 800:  # the icon button says what it does (a tooltip; phones do not hover)
        page.locator(".st-key-seed_new button:visible").first.hover()
        page.get_by_text("New seed: pick a random one").wait_for()
