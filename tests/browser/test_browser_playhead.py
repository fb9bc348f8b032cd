"""The playhead in a real browser: on Generate, the line over the piano roll moves while the clip plays, and a
click on the roll seeks the audio there, at a laptop (1400×900) and a phone (390×844) width."""

from __future__ import annotations

import pytest

from musicgen.synth import synth_available
from musicgen.ui.playhead import ROLL_TITLE
from tests.browser.conftest import idle

pytestmark = pytest.mark.browser

STATE = """() => { const a = document.getElementById("audio"), s = document.getElementById("surface");
    const r = document.getElementById("roll").getBoundingClientRect(), h = document.getElementById("playhead");
    return {t: a.currentTime, duration: a.duration, paused: a.paused, ready: a.readyState,
            seconds: parseFloat(s.dataset.seconds), x: h.getBoundingClientRect().x + 1 - r.x, width: r.width}; }"""


@pytest.mark.skipif(not synth_available()[0], reason="no FluidSynth: Generate shows the plotly roll without audio")
def test_the_playhead_follows_the_audio_and_a_click_seeks(sized_page, app_server):
    page = sized_page
    width = page.viewport_size["width"]
    page.goto(f"{app_server}/Generate")
    page.get_by_text("Model", exact=True).wait_for()
    idle(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    iframe = page.locator(f"iframe[title='{ROLL_TITLE}']")
    iframe.wait_for()
    idle(page)
    box = iframe.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # fits the page at either width
    frame = iframe.element_handle().content_frame()
    frame.wait_for_function("() => document.getElementById('audio').readyState >= 1")  # duration known
    state = frame.evaluate(STATE)
    assert frame.locator("rect.note").count() > 10 and state["width"] > 250
    span = max(state["seconds"], state["duration"])  # the roll's time axis: the audio's, with its release tail
    assert state["duration"] > 5 and state["t"] == 0 and abs(state["x"]) <= 1

    # a click at half the roll's width moves the audio (and the line) to half its length
    roll = frame.locator("#roll")
    roll_box = roll.bounding_box()
    roll.click(position={"x": roll_box["width"] / 2, "y": roll_box["height"] / 2})
    state = frame.evaluate(STATE)
    assert state["t"] == pytest.approx(span / 2, abs=0.02 * span) and state["paused"]
    assert state["x"] == pytest.approx(state["width"] / 2, abs=3)

    # playing moves the line right, in step with the audio (the click above was the user gesture play needs)
    frame.evaluate("() => document.getElementById('audio').play()")
    frame.wait_for_function("() => document.getElementById('audio').currentTime > 0.5 + %f" % state["t"],
                            timeout=10_000)
    before = frame.evaluate(STATE)
    page.wait_for_timeout(700)
    after = frame.evaluate(STATE)
    assert not after["paused"] and after["t"] > before["t"] and after["x"] > before["x"]
    for s in (before, after):  # the line is where the audio is (within a frame or two of drawing)
        assert s["x"] == pytest.approx(s["t"] / span * s["width"], abs=0.01 * s["width"] + 2)
    frame.evaluate("() => document.getElementById('audio').pause()")
