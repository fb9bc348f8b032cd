"""What a user waits for, in a real browser: prints a table of seconds.

  .venv/bin/python scripts/browser_timings.py [--runs 3] [--phones 20] [--post-script-gc]

Starts `streamlit run app.py` on a free port (as scripts/app.sh does, so .streamlit/config.toml applies),
then in headless Chromium: Home until "Where to go next"; Generate's button → the player with audio;
Compare (its default two columns) → done; and a live vote: N phone contexts opening the join link
→ all showing the answer buttons. `--post-script-gc` turns Streamlit's gc.collect() after each run back on
(its default), to measure what turning it off bought. Each figure is the median of `--runs` (phones: once).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from musicgen.bench.app_start import CHROMIUM, CHROMIUM_ARGS, _wait_healthy, free_port  # noqa: E402


def idle(page) -> None:
    page.wait_for_timeout(200)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)


def home(page, url: str) -> float:
    t = time.perf_counter()
    page.goto(url)
    page.get_by_text("Where to go next", exact=True).wait_for()
    return time.perf_counter() - t


def generate(page, url: str) -> float:
    page.goto(f"{url}/Generate")
    button = page.get_by_role("button", name="Generate", exact=True)
    button.wait_for()
    idle(page)
    before = page.locator("iframe").count()
    t = time.perf_counter()
    button.click()
    page.wait_for_function(f"() => document.querySelectorAll('iframe').length > {before}", timeout=180_000)
    return time.perf_counter() - t


def compare(page, url: str) -> float:
    page.goto(f"{url}/Compare")
    button = page.get_by_role("button", name="Compare", exact=True)
    button.wait_for()
    idle(page)
    t = time.perf_counter()
    button.click()  # done when every column (two by default) has its audio player
    page.wait_for_function("() => document.querySelectorAll('audio').length >= 2", timeout=180_000)
    return time.perf_counter() - t


def phones(browser, url: str, n: int) -> float:
    from musicgen import listening as L
    from musicgen.listening import live

    store = L.open_store()
    study = f"live-timing-{int(time.time())}"
    store.save_study(L.StudySpec.from_dict({"id": study, "systems": ["markov", "real"], "clip": {"seconds": 3}}))
    live.start_round(store, study)
    live.open_voting(store, study, 1, 300)
    contexts = [browser.new_context(viewport={"width": 390, "height": 844}) for _ in range(n)]
    t = time.perf_counter()
    pages = [c.new_page() for c in contexts]
    for p in pages:
        p.set_default_navigation_timeout(300_000)
        p.goto(f"{url}/?live={live.join_code(store, study)}", wait_until="commit")
    for p in pages:
        p.get_by_role("button", name="No preference").wait_for(timeout=300_000)
    took = time.perf_counter() - t
    for c in contexts:
        c.close()
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--phones", type=int, default=20)
    ap.add_argument("--post-script-gc", action="store_true", help="Streamlit's default: gc.collect() after runs")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    data = tempfile.mkdtemp(prefix="musicgen-timings-")
    env = {**__import__("os").environ, "MUSICGEN_DATA": data}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "musicgen.ui.launch", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--runner.postScriptGC", str(args.post_script_gc).lower()]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    __import__("os").environ["MUSICGEN_DATA"] = data
    rows = []
    try:
        _wait_healthy(url, proc, time.perf_counter() + 90)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(180_000)
            home(page, url)  # the first visit loads every model card: not what a returning user waits for
            for name, fn in (("Home ready", home), ("Generate click → audio", generate),
                             ("Compare click → 2 columns", compare)):
                times = [fn(page, url) for _ in range(args.runs)]
                rows.append((name, statistics.median(times), max(times)))
            if args.phones:
                try:
                    took = phones(browser, url, args.phones)
                except Exception as e:  # noqa: BLE001 — a server too busy to answer is a result, not a crash
                    took = float("nan")
                    print(f"phones: {type(e).__name__}: {(str(e).splitlines() or [''])[0]}")
                rows.append((f"{args.phones} phones join → vote buttons", took, took))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"post-script gc: {'on' if args.post_script_gc else 'off'}; load average at the end: {load}")
    print(f"{'what':<32} {'median s':>9} {'max s':>7}")
    for name, med, worst in rows:
        print(f"{name:<32} {med:>9.2f} {worst:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
