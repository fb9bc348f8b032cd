"""`python -m musicgen bench --listening N --in-process [--json PATH]`: N simulated participants in one process.

The default `bench --listening` runs against a server (bench/server_load.py); this older mode skips the server
and measures the library alone: useful to tell the server's share of a wait from the library's.

Like Streamlit sessions, each participant is a thread of this process calling the library: it gets its
first trial, then per trial "listens" (sleeps a random think time), submits a vote (twice for the last
trial: a double click) and asks for the next trial. The wait measured is submit -> next trial playable
(`submit_vote` + `prepare_trial` returning its audio). The pair study has 4 shipped models; the store is
a throwaway SQLite file (or `db_url`), the clip bank is warmed first (timed apart) unless `warm=False`.

JSON: {"participants", "trials_per_participant", "think_s", "workers", "clip_bank", "warm_s",
"wait_p50_s", "wait_p95_s", "wait_max_s", "waits", "first_trial_p50_s", "first_trial_p95_s",
"votes_expected", "votes_stored", "duplicates_refused", "lost_or_doubled", "errors", "wall_s",
"process_cpus_busy" (CPU seconds of this process per wall second), "other_processes_cpus_busy"}.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

from musicgen import listening as L
from musicgen.bench.pipeline import cpu_snapshot, other_cpu_load
from musicgen.listening import bank, schedule

SYSTEMS = ("markov", "A-lstm", "B-lstm", "transformer")


def _quantile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))]


def run(n: int, *, trials: int = 5, think_s: tuple[float, float] = (8.0, 12.0), systems=SYSTEMS,
        clip_seconds: float = 20.0, warm: bool = True, db_url: str | None = None, seed: int = 0,
        log=lambda *_: None) -> dict:
    """Run the load test and return the JSON-ready result (see the module doc)."""
    tmp = tempfile.TemporaryDirectory(prefix="musicgen-listening-load-")
    store = L.VoteStore(db_url or f"sqlite:///{Path(tmp.name) / 'votes.sqlite'}")
    study_id = f"load-{os.getpid()}-{int(time.time())}"
    spec = store.save_study(L.StudySpec.from_dict({"id": study_id, "systems": list(systems),
                                                   "trials_per_participant": trials,
                                                   "clip": {"seconds": clip_seconds}}))
    pool = bank.pool()
    warm_s = bank.warm(store, spec, sample_rate=schedule.SAMPLE_RATE, log=lambda m: log(f"listening load: {m}")) \
        if warm else 0.0

    rng = random.Random(seed)
    thinks = [[rng.uniform(*think_s) for _ in range(trials)] for _ in range(n)]
    waits: list[float] = []
    firsts: list[float] = []
    errors: list[str] = []
    duplicates = [0]
    lock = threading.Lock()

    def participant(i: int) -> None:
        pid = f"load-{i}"
        try:
            t = time.perf_counter()
            trial = L.prepare_trial(store, study_id, pid)
            with lock:
                firsts.append(time.perf_counter() - t)
            for k in range(trials):
                time.sleep(thinks[i][k])
                t = time.perf_counter()
                L.submit_vote(store, trial.token, rng.choice(("A", "B", "none")))
                if k == trials - 1 and L.submit_vote(store, trial.token, "A").duplicate:  # a double click
                    with lock:
                        duplicates[0] += 1
                nxt = L.prepare_trial(store, study_id, pid)
                if k < trials - 1:
                    with lock:
                        waits.append(time.perf_counter() - t)
                    trial = nxt
                elif nxt is not None:
                    raise RuntimeError("a trial after the last one")
        except Exception as e:  # noqa: BLE001 — counted and reported
            with lock:
                errors.append(f"{pid}: {type(e).__name__}: {e}")

    log(f"listening load: {n} participants x {trials} trials, think {think_s[0]:g}-{think_s[1]:g} s")
    cpu_before, ru_before, t0 = cpu_snapshot(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    threads = [threading.Thread(target=participant, args=(i,), daemon=True) for i in range(n)]
    for th in threads:
        th.start()
        time.sleep(rng.uniform(0.0, think_s[0] / max(1, n)))  # arrivals spread over one think time
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    busy = (ru.ru_utime - ru_before.ru_utime + ru.ru_stime - ru_before.ru_stime) / wall
    other = other_cpu_load(cpu_before, cpu_snapshot())
    stored = store.vote_count(study_id)
    distinct = len({v.token for v in store.votes(study_id)})
    pool.wait_idle(120)
    store.close()
    tmp.cleanup()
    expected = n * trials
    return {"participants": n, "trials_per_participant": trials, "think_s": list(think_s),
            "systems": list(systems), "clip_seconds": clip_seconds, "workers": pool.workers,
            "clip_bank": bank.bank_size(), "warm_s": round(warm_s, 2),
            "wait_p50_s": _quantile(waits, 0.5), "wait_p95_s": _quantile(waits, 0.95),
            "wait_max_s": max(waits, default=None), "waits": len(waits),
            "first_trial_p50_s": _quantile(firsts, 0.5), "first_trial_p95_s": _quantile(firsts, 0.95),
            "votes_expected": expected, "votes_stored": stored, "duplicates_refused": duplicates[0],
            "lost_or_doubled": abs(expected - stored) + (stored - distinct), "errors": errors,
            "wall_s": round(wall, 2), "process_cpus_busy": round(busy, 2),
            "other_processes_cpus_busy": None if other is None else round(other, 2),
            "wait_median_s": statistics.median(waits) if waits else None}


def format_result(r: dict) -> str:
    def s(x):
        return "-" if x is None else f"{x:.2f} s"

    return "\n".join([
        f"listening load: {r['participants']} participants x {r['trials_per_participant']} trials "
        f"({', '.join(r['systems'])}; {r['workers']} render worker(s), bank {r['clip_bank']} clips/system, "
        f"warm-up {r['warm_s']:.1f} s)",
        f"  submit -> next trial playable: p50 {s(r['wait_p50_s'])}, p95 {s(r['wait_p95_s'])}, "
        f"max {s(r['wait_max_s'])} over {r['waits']} trials",
        f"  first trial: p50 {s(r['first_trial_p50_s'])}, p95 {s(r['first_trial_p95_s'])}",
        f"  votes stored {r['votes_stored']} of {r['votes_expected']} (lost or doubled: {r['lost_or_doubled']}; "
        f"double clicks refused: {r['duplicates_refused']}), errors {len(r['errors'])}",
        f"  wall {r['wall_s']:.1f} s, this process {r['process_cpus_busy']:.2f} CPUs busy, other processes "
        f"{r['other_processes_cpus_busy']}",
    ] + [f"  error: {e}" for e in r["errors"][:5]])
