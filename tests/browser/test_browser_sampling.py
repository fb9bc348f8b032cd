"""The Sampling page in a real browser at 1400×900 (issue 18): the shipped sweep tables' charts are drawn, no
legend covers a chart title, no axis title or legend is cut off by its chart's box; a screenshot is saved."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_compare import OVERLAPS, idle

pytestmark = pytest.mark.browser

CHARTS = 3  # overlap, C2ST, diversity (+ the ABC parse rate when C-abc is swept)

# An axis title, a chart title or the legend that sticks out of its chart's box is cut off on screen.
CUT_LABELS = """() => {
  const box = e => e.getBoundingClientRect();
  const bad = [];
  document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
    const frame = box(plot);
    plot.querySelectorAll('.xtitle, .ytitle, .gtitle, .legend').forEach(el => {
      const b = box(el);
      if (!b.width) return;
      if (b.left < frame.left - 1 || b.right > frame.right + 1 || b.top < frame.top - 1 || b.bottom > frame.bottom + 1)
        bad.push(`${i}: ${el.getAttribute('class')} '${(el.textContent || '').slice(0, 40)}'`);
    });
  });
  return bad;
}"""

DRAWN = ("() => [...document.querySelectorAll('.js-plotly-plot')]"
         ".filter(p => p.querySelector('.gtitle') && p.querySelector('.legend') && p.querySelector('.xtitle')).length")


def test_sampling_charts_fit(page, app_server, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{app_server}/Sampling")
    page.get_by_text("Listen at a setting").wait_for(timeout=120_000)
    idle(page)
    try:  # plotly draws a moment after Streamlit is idle
        page.wait_for_function(f"() => ({DRAWN})() >= {CHARTS}", timeout=60_000)
    except Exception:  # noqa: BLE001 — the assertion below says how many were drawn
        pass
    page.wait_for_timeout(500)
    shot = tmp_path / "sampling.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert page.evaluate(DRAWN) >= CHARTS  # not vacuous: every chart has a title, an x title and a legend
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate(CUT_LABELS) == []
    xtitles = page.evaluate("() => [...document.querySelectorAll('.xtitle')].map(t => t.textContent)")
    assert xtitles.count("temperature") >= CHARTS
    legend = page.evaluate("() => [...document.querySelectorAll('.legend .legendtext')].map(t => t.textContent)")
    assert {"real Bach chorales", "real Irish folk tunes"} <= set(legend)  # the shipped tables: two corpora
    assert not any(t in ("transformer", "A-lstm", "C-abc") or "chorales)" in t for t in legend)  # words, not ids
    assert shot.stat().st_size > 10_000
