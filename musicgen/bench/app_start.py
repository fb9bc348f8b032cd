"""App cold start: `streamlit run app.py` → first rendered home page in headless Chromium (Playwright).

The browser is launched before the clock starts (its own start-up is reported apart); the clock runs
from spawning the server to the page showing "musicgen" (the heading), and on to "Where to go next"
(the last section, after every model card has loaded its checkpoint).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from musicgen.bench.pipeline import median

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
FIRST_TEXT = "musicgen"
FULL_TEXT = "Where to go next"
TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Ask a server to stop; kill it if it has not after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def unavailable_reason(chromium: str = CHROMIUM) -> str | None:
    if not Path(chromium).exists():
        return f"no browser at {chromium} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package playwright not installed (pip install playwright)"
    if not (ROOT / "app.py").exists():
        return f"no app.py in {ROOT}"
    return None


def _wait_healthy(url: str, proc: subprocess.Popen, deadline: float) -> None:
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError("streamlit did not answer in time")


def _text_js(text: str) -> str:
    return f"() => document.body && document.body.innerText.includes({text!r})"


def one_cold_start(browser, timeout_s: float = TIMEOUT_S) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "musicgen.ui.launch", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    page = browser.new_page()
    log = tempfile.TemporaryFile()  # noqa: SIM115 — closed in the finally below, after the server stops
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = t0 + timeout_s
        try:
            _wait_healthy(url, proc, deadline)
        except RuntimeError as e:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"{e}: {' '.join(tail)}") from None
        t_server = time.perf_counter()
        page.goto(url, timeout=max(1, deadline - time.perf_counter()) * 1000)
        page.wait_for_function(_text_js(FIRST_TEXT), timeout=max(1, deadline - time.perf_counter()) * 1000,
                               polling=20)
        t_first = time.perf_counter()
        page.wait_for_function(_text_js(FULL_TEXT), timeout=max(1, deadline - time.perf_counter()) * 1000,
                               polling=20)
        t_full = time.perf_counter()
    finally:
        page.close()
        stop_server(proc, timeout=10)
        log.close()
    return {"server_ready_s": t_server - t0, "first_text_s": t_first - t0, "full_page_s": t_full - t0}


def measure_cold_start(runs: int, *, chromium: str = CHROMIUM, timeout_s: float = TIMEOUT_S) -> dict:
    """{"app_cold_start_s": median seconds or None, "reason": why None, ...details}."""
    reason = unavailable_reason(chromium)
    if reason:
        return {"app_cold_start_s": None, "reason": reason}
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            t = time.perf_counter()
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            launch = time.perf_counter() - t
            try:
                results = [one_cold_start(browser, timeout_s / runs) for _ in range(runs)]
            finally:
                browser.close()
    except Exception as e:  # noqa: BLE001 — a failed measurement is reported, not raised
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return {"app_cold_start_s": None, "reason": f"measurement failed: {first}"}
    return {"app_cold_start_s": median([r["first_text_s"] for r in results]), "runs": runs,
            "server_ready_median_s": median([r["server_ready_s"] for r in results]),
            "full_page_median_s": median([r["full_page_s"] for r in results]),
            "browser_launch_s": launch, "each": results,
            "measured": f"spawn `streamlit run app.py` → body text shows {FIRST_TEXT!r} in headless Chromium "
                        f"(full_page: {FULL_TEXT!r}, after every model card loaded)"}
