"""Fixtures for the listening-test library: toy checkpoints, stores on SQLite and on a real PostgreSQL.

PostgreSQL: $MUSICGEN_TEST_PG_URL (an admin URL of a running server, e.g.
postgresql://postgres@127.0.0.1:5432/postgres) is used if set; otherwise a throwaway server is started
from the Debian `postgresql` binaries (initdb + pg_ctl in a temp dir, on a free port; as the `postgres`
user when running as root). Without binaries the PostgreSQL tests skip — or fail, if
$MUSICGEN_REQUIRE_POSTGRES=1 (CI sets it, so a missing server can never pass silently).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    """No test touches the user's vote store; no clip bank or look-ahead unless a test turns it on
    (background renders would make seed choices depend on timing)."""
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("MUSICGEN_DB_URL", raising=False)
    monkeypatch.setenv("MUSICGEN_CLIP_BANK", "0")


@pytest.fixture(scope="session")
def toy_models(tmp_path_factory):
    """Tiny Markov checkpoints in one folder: `toy-markov` (order 2), `toy-markov1` (order 1) and
    `toy-copy` (a copy of toy-markov under another id: a third system for scheduling tests)."""
    from musicgen.presets import toy_preset
    from musicgen.train import train

    root = tmp_path_factory.mktemp("listening_ckpts")
    base = toy_preset("markov")
    train(base, out_dir=root / "toy-markov", progress=False)
    train(dataclasses.replace(base, id="toy-markov1", model_config={"order": 1}), out_dir=root / "toy-markov1",
          progress=False)
    shutil.copytree(root / "toy-markov", root / "toy-copy")
    return root


@pytest.fixture
def checkpoints_env(toy_models, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy_models))
    return toy_models


# ---- PostgreSQL -------------------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                            reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if os.environ.get("MUSICGEN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required ($MUSICGEN_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason} (install Debian `postgresql`, or set $MUSICGEN_TEST_PG_URL)")


@pytest.fixture(scope="session")
def pg_admin_url():
    """An admin URL of a running PostgreSQL server (started for this session if needed)."""
    url = os.environ.get("MUSICGEN_TEST_PG_URL")
    if url:
        yield url
        return
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable("no initdb/pg_ctl found")
    base = Path(tempfile.mkdtemp(prefix="musicgen-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the `postgres` user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            _unavailable("running as root and there is no `postgres` user")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()

    def run(*args):
        return subprocess.run(prefix + [str(a) for a in args], check=False, capture_output=True, text=True, timeout=120)

    init = run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
               "--no-sync")
    if init.returncode:
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=100"
    start = run(bindir / "pg_ctl", "-D", data, "-o", opts, "-l", base / "server.log", "-w", "-t", "60", "start")
    if start.returncode:
        log = (base / "server.log").read_text(errors="replace")[-1000:] if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"pg_ctl start failed: {start.stderr.strip()[-500:]} {log}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")  # throwaway: skip the checkpoint
        shutil.rmtree(base, ignore_errors=True)


def _fresh_pg_database(admin_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"musicgen_test_{uuid.uuid4().hex[:12]}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    for attempt in range(20):
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            break
        except psycopg.OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.25)
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def pg_url(pg_admin_url):
    """URL of a new, empty PostgreSQL database for this test."""
    return _fresh_pg_database(pg_admin_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The same test on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'votes.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    from musicgen.listening import VoteStore

    s = VoteStore(db_url)
    yield s
    s.close()
