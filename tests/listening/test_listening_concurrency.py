"""16 processes × 100 votes into one store (SQLite file, then PostgreSQL): every vote exactly once.

Each process submits its own 100 trials and, interleaved, re-submits its neighbour's 100 at the same
time as the neighbour does (a double click racing across app processes). Prints votes per second.
"""

import multiprocessing as mp
import secrets
import time
import traceback
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from musicgen.listening import StudySpec, VoteStore
from musicgen.listening.store import trials, votes

PROCESSES, VOTES_EACH = 16, 100


def _worker(url, mine, neighbours, barrier, results):
    try:
        store = VoteStore(url)
        barrier.wait(timeout=120)
        new = dup = 0
        for token, other in zip(mine, neighbours):
            for t, answer in ((token, "A"), (other, "B")):
                v = store.record_vote(t, answer)
                new, dup = new + (not v.duplicate), dup + v.duplicate
        store.close()
        results.put(("ok", new, dup))
    except Exception:  # noqa: BLE001 - report to the parent
        results.put(("error", traceback.format_exc(), 0))


def _hammer(url, capsys, label):
    store = VoteStore(url)
    store.save_study(StudySpec.from_dict({"id": "load", "systems": ["m1", "m2"], "trials_per_participant": 100}))
    now = datetime.now(UTC)
    tokens = [[secrets.token_urlsafe(16) for _ in range(VOTES_EACH)] for _ in range(PROCESSES)]
    rows = [{"token": t, "study_id": "load", "participant_id": f"p{p}", "number": n + 1, "kind": "pair",
             "system_a": "m1", "seed_a": n, "settings_a": {}, "system_b": "m2", "seed_b": n, "settings_b": {},
             "soundfont": "x.sf2", "sample_rate": 22050, "served_at": now}
            for p, ts in enumerate(tokens) for n, t in enumerate(ts)]
    with store._write() as conn:
        conn.execute(insert(trials), rows)
    store.close()  # no connection crosses the fork

    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(PROCESSES + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, tokens[p], tokens[(p + 1) % PROCESSES], barrier, results))
             for p in range(PROCESSES)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    outcomes = [results.get(timeout=300) for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join(timeout=60)
    errors = [o[1] for o in outcomes if o[0] == "error"]
    assert not errors, errors[0]
    total = PROCESSES * VOTES_EACH
    assert sum(o[1] for o in outcomes) == total and sum(o[2] for o in outcomes) == total

    store = VoteStore(url)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(votes)).scalar() == total
        assert conn.execute(select(func.count(func.distinct(votes.c.trial_token)))).scalar() == total
    stored = {v.token for v in store.votes("load")}
    assert stored == {t for ts in tokens for t in ts}
    store.close()
    with capsys.disabled():
        print(f"\n[listening] {label}: {total} votes from {PROCESSES} processes ({2 * total} submits, half of them "
              f"racing duplicates) in {elapsed:.2f} s = {total / elapsed:.0f} votes/s, "
              f"{2 * total / elapsed:.0f} submits/s")


@pytest.mark.slow
def test_concurrent_votes_sqlite(tmp_path, capsys):
    _hammer(f"sqlite:///{tmp_path / 'votes.sqlite'}", capsys, "SQLite (WAL, synchronous=FULL)")


@pytest.mark.slow
def test_concurrent_votes_postgresql(pg_url, capsys):
    _hammer(pg_url, capsys, "PostgreSQL")
