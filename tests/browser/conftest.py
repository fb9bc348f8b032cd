"""Real-browser fixtures: the whole app served as scripts/app.sh serves it (`python -m musicgen.ui.launch run
app.py`, i.e. `streamlit run`), driven by Debian chromium via Playwright.

Needs /usr/bin/chromium (Debian `chromium`) and the Python `playwright` package (no browser download:
Playwright drives the system chromium through `executable_path`). Without them the browser tests skip,
or fail if $MUSICGEN_REQUIRE_BROWSER=1 (CI sets it, so a missing browser can never pass silently).
The server gets its own vote store ($MUSICGEN_DATA in a temp dir) and results password.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from musicgen.bench.app_start import stop_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
RESULTS_PASSWORD = "secret"
START_TIMEOUT = 90


def _unavailable(reason: str):
    if os.environ.get("MUSICGEN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required ($MUSICGEN_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def playwright_api():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (install Debian `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package `playwright` is missing (pip install playwright)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(60_000)
    yield p
    context.close()


SIZES = {"laptop": (1400, 900), "phone": (390, 844)}


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser):
    """A page at a laptop's and at a phone's size (the test runs once for each); read `page.viewport_size`."""
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def idle(page, timeout: float = 60_000) -> None:
    """Until the script run that the last action started has finished (no "Running…" indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float, log_path: Path) -> None:
    """Until `base`/_stcore/health answers 200; fails the test if `proc` exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not answer within {timeout:g} s: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def results_password() -> str:
    return RESULTS_PASSWORD


@pytest.fixture(scope="session")
def app_data(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser_data")


@contextlib.contextmanager
def serve(app_data: Path, script: str | None = None, **extra_env: str):
    """`streamlit run app.py` (or `bash <script>`, which ends in that command and takes its flags) on a free
    port with its own store and results password; yields the base URL."""
    port = _free_port()
    env = {**os.environ, "MUSICGEN_DATA": str(app_data), "MUSICGEN_RESULTS_PASSWORD": RESULTS_PASSWORD,
           "PYTHONPATH": str(ROOT), **extra_env}
    env.pop("MUSICGEN_DB_URL", None)
    log_path = app_data / f"server-{port}.log"
    log = log_path.open("wb")
    flags = ["--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"]
    command = (["bash", script, *flags] if script else
               [sys.executable, "-m", "musicgen.ui.launch", "run", "app.py", *flags])
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, START_TIMEOUT, log_path)
        yield base
    finally:
        stop_server(proc)
        log.close()


@pytest.fixture(scope="session")
def app_server(playwright_api, app_data):
    """Base URL of the whole app (organiser and participant pages), with its own store and password."""
    with serve(app_data) as base:
        yield base


@pytest.fixture(scope="session")
def study_server(playwright_api, app_data):
    """Base URL of a participant-only deployment (MUSICGEN_MODE=study) sharing the app's store."""
    with serve(app_data, script="scripts/study.sh") as base:
        yield base


# PostgreSQL for the replicas test (scripts/serve.sh on one database): the listening tests' throwaway server.
from tests.listening.conftest import pg_admin_url, pg_url  # noqa: E402,F401
